//! `plumb server`: the fleet store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use plumb_server::ingest::Limits;
use plumb_server::run::{DEFAULT_LISTEN, ServerOptions, run as serve};

/// Run the fleet store: accept Atlas publish batches (as `plumb agent` sends them), keep them
/// durably in an embedded time-series store, and answer tag and raw-data queries.
///
/// Every publish is written to the write-ahead log in DATA/wal and synced before it is
/// acknowledged; on start the log is replayed, and a torn tail after a crash is cut back to the
/// last good record with a log line saying what was dropped.
///
/// Endpoints (all under http://LISTEN):
///   POST /api/v1/publish          Atlas publish JSON (gzip accepted); 200, 202 or 400 as Atlas
///   GET  /api/v1/tags             tag keys
///   GET  /api/v1/tags/KEY         values of KEY
///   GET  /api/v1/raw?s=MS&e=MS&name=cpu.user&nf.node=i-1   raw datapoints as JSON
///
/// Still to come (issue 3): Prometheus remote write, on-disk blocks and compaction, retention,
/// and the server's own metrics.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ServerArgs {
    /// IP:PORT to listen on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN, env = "PLUMB_SERVER_LISTEN")]
    listen: SocketAddr,
    /// Data directory [default: /var/lib/plumb/server as root, else ./plumb-data].
    #[arg(long, value_name = "DIR", env = "PLUMB_SERVER_DATA")]
    data: Option<PathBuf>,
}

pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let data = args.data.unwrap_or_else(default_data_dir);
    serve(ServerOptions { listen: args.listen, data, limits: Limits::default() })?;
    Ok(ExitCode::SUCCESS)
}

fn default_data_dir() -> PathBuf {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if root { PathBuf::from("/var/lib/plumb/server") } else { PathBuf::from("plumb-data") }
}
