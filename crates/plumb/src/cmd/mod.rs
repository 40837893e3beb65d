//! One module per subcommand: argument struct and `run`.

pub mod agent;
pub mod metrics;
pub mod query;
pub mod server;
pub mod stat;
pub mod tsdb;
