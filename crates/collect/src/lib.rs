//! plumb-collect: per-second instance metrics from /proc and /sys.
//!
//! Each kernel source has one module under [`source`] that turns the bytes of its files into a
//! struct of raw counters (a parser with no I/O, tested on captured files under `test_data/`) and
//! then, given the previous reading, into [`Sample`]s: counters become per-second rates here, in
//! the collector, so every consumer (`plumb stat`, the agent's `/metrics`, the publisher) sees the
//! same numbers. A [`Collector`] owns the enabled sources and runs one cycle per call.
//!
//! Design decision: sources read through an [`FsRoot`] (the `/proc` and `/sys` directories to
//! use) rather than fixed paths, so a test can point a whole collector at a captured tree.
//! A source the kernel lacks is reported once as a note and left out; the others keep working.
//!
//! [`Sample`]: plumb_model::Sample

mod collector;
mod error;
mod fsroot;
mod group;
mod host;
mod rate;
pub mod source;

pub use collector::{Collector, DEFAULT_TOP_PROCESSES, Options};
pub use error::CollectError;
pub use fsroot::FsRoot;
pub use group::{Group, UnknownGroup};
pub use host::hostname;
pub use rate::{counter_delta, rate};
