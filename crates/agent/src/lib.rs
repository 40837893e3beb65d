//! plumb-agent: the per-instance daemon behind `plumb agent`.
//!
//! Every interval (1 s by default, on the wall clock's boundaries) the agent runs a
//! [`plumb_collect::Collector`] over all groups, renders the snapshot once in the Prometheus text
//! format for `GET /metrics` ([`exposition`], [`http`]), and, when a plumb server is configured,
//! hands it to the publisher, which POSTs it in Atlas's JSON format and keeps it in an on-disk
//! [`publish::Spool`] while the server cannot be reached ([`publish`]). [`config`] merges flags,
//! environment and a TOML file into [`Options`]; [`Agent`] starts the threads and stops them
//! cleanly on SIGINT/SIGTERM. On demand, `POST /api/v1/profile` ([`profile_api`]) runs one
//! profile at a time for a client holding the configured bearer token.
//!
//! Design decision: three plain threads rather than one async runtime doing everything. HTTP
//! runs on a single-threaded tokio runtime (axum needs one); collection and publishing are
//! blocking work on their own std threads (the publisher uses the blocking `ureq`), joined by a
//! bounded channel. A scrape never triggers collection: it clones the body the collector thread
//! rendered last, so Prometheus can scrape as often as it likes at no cost. This keeps the agent
//! small (a few MB resident) and its CPU use to the collection itself.
//!
//! The agent's own metrics are named `plumb_agent_<thing>_<unit>` ([`stats`]).

mod config;
mod cycle;
mod error;
pub mod exposition;
pub mod http;
mod latest;
mod log;
pub mod process;
pub mod profile_api;
pub mod publish;
mod runner;
pub mod stats;

pub use config::{
    Environment, Flags, Key, MAX_CONFIG_FILE_BYTES, Options, ServerUrl, default_spool_dir, flag_help, load, long_help,
    resolve,
};
pub use cycle::CycleSummary;
pub use error::{AgentError, ConfigError, SpoolError};
pub use latest::Latest;
pub use runner::{Agent, Summary};

/// The option table, value parsers and defaults.
pub mod options {
    pub use crate::config::spec::{CONFIG_ENV, CONFIG_FLAG, FLEET_ENV, OptionSpec, TAG_FLAG, TAGS_ENV};
    pub use crate::config::value::{parse_duration, parse_listen, parse_size};
    pub use crate::config::{
        DEFAULT_BATCH_SIZE, DEFAULT_INTERVAL, DEFAULT_LISTEN, DEFAULT_PUBLISH_TIMEOUT, DEFAULT_SPOOL_MAX_BYTES,
        DEFAULT_TOP_PROCESSES, MAX_BATCH_SIZE, MAX_TAGS,
    };
}
