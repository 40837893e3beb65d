//! One module per subcommand: argument struct and `run`.

pub mod agent;
pub mod flame;
pub mod metrics;
pub mod profile;
pub mod profile_output;
pub mod query;
pub mod server;
pub mod stat;
pub mod tsdb;
