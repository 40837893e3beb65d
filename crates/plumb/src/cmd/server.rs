//! `plumb server`: the fleet store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use plumb_server::ingest::Limits;
use plumb_server::run::{DEFAULT_LISTEN, ServerOptions, run as serve};

/// Run the fleet store: Atlas publish in, durable in an embedded TSDB, tags and raw data out.
///
/// It accepts the batches `plumb agent` (or any Atlas publisher) sends, keeps them in an
/// embedded time-series store and answers tag and raw-data queries.
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
    /// Largest request body accepted, in bytes, before decompression (413 past it).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Largest body after gzip decompression, in bytes: the guard against gzip bombs.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_decoded_bytes)]
    max_decoded_bytes: usize,
    /// Most datapoints in one publish request.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_datapoints)]
    max_datapoints: usize,
    /// Oldest datapoint accepted, in seconds before now (the agent replays its buffer after an
    /// outage, so keep this above the longest outage you want to ride out).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().max_age_ms / 1000)]
    max_age_secs: i64,
    /// Furthest in the future a timestamp may be, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().max_future_ms / 1000)]
    max_future_secs: i64,
    /// Accept NaN and infinite values ("NaN", "Infinity"), as Atlas does; by default they are
    /// rejected with a reason. Tag rules (characters, lengths, at most 20 user tags and 30 in
    /// all) follow Atlas's publish rules and are not configurable yet.
    #[arg(long)]
    allow_non_finite: bool,
}

pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let data = args.data.unwrap_or_else(default_data_dir);
    let positive = |v: i64, flag: &str| {
        if v > 0 { Ok(v) } else { Err(anyhow::anyhow!("--{flag} must be above 0, got {v}")) }
    };
    if args.max_body_bytes == 0 || args.max_decoded_bytes == 0 || args.max_datapoints == 0 {
        eprintln!("plumb server: --max-body-bytes, --max-decoded-bytes and --max-datapoints must be above 0");
        return Ok(ExitCode::from(2));
    }
    let (max_age, max_future) =
        match (positive(args.max_age_secs, "max-age-secs"), positive(args.max_future_secs, "max-future-secs")) {
            (Ok(a), Ok(f)) => (a, f),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("plumb server: {e}");
                return Ok(ExitCode::from(2));
            }
        };
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_decoded_bytes: args.max_decoded_bytes,
        max_datapoints: args.max_datapoints,
        max_age_ms: max_age.saturating_mul(1000),
        max_future_ms: max_future.saturating_mul(1000),
        allow_non_finite: args.allow_non_finite,
        ..Limits::default()
    };
    serve(ServerOptions { listen: args.listen, data, limits, cardinality: Default::default() })?;
    Ok(ExitCode::SUCCESS)
}

fn default_data_dir() -> PathBuf {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if root { PathBuf::from("/var/lib/plumb/server") } else { PathBuf::from("plumb-data") }
}
