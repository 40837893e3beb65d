//! One module per subcommand: argument struct and `run`.

pub mod agent;
pub mod cputemp;
pub mod execsnoop;
pub mod flame;
pub mod heatmap;
pub mod iolatency;
pub mod iosnoop;
pub mod metrics;
pub mod offcputime;
pub mod opensnoop;
pub mod pmc;
pub mod profile;
pub mod profile_output;
pub mod query;
pub mod runqlat;
pub mod server;
pub mod showboost;
mod snoop;
pub mod stat;
mod stopping;
pub mod tcplife;
pub mod tcpretrans;
pub mod tsdb;
pub mod use_method;
