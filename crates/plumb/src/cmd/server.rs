//! `plumb server`: the fleet store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use plumb_server::config::{self, Settings};
use plumb_server::ingest::{CardinalityLimits, Limits};
use plumb_server::run::{DEFAULT_LISTEN, run as serve};
use plumb_server::selfmetrics;

/// Run the fleet store: Atlas publish and Prometheus remote write in, durable in an embedded TSDB,
/// Atlas graphs, tags and raw data out.
///
/// It accepts the batches `plumb agent` (or any Atlas publisher, or Prometheus remote write)
/// sends, keeps them in an embedded time-series store (compacted into blocks under DATA) and
/// answers Atlas stack-language graphs (`/api/v1/graph`), tag listings (`/api/v1/tags?q=`) and
/// raw-data queries.
///
/// Every publish is written to the write-ahead log in DATA/wal and synced before it is
/// acknowledged; on start the log is replayed, and a torn tail after a crash is cut back to the
/// last good record with a log line saying what was dropped.
///
/// Endpoints (all under http://LISTEN):
///   POST /api/v1/publish          Atlas publish JSON (gzip accepted); 200, 202 or 400 as Atlas
///   POST /api/v1/write            Prometheus remote write (snappy protobuf)
///   GET  /api/v1/tags             tag keys
///   GET  /api/v1/tags/KEY         values of KEY
///   GET  /api/v1/raw?s=MS&e=MS&name=cpu.user&nf.node=i-1   raw datapoints as JSON
///   GET  /metrics                 the server's own metrics, Prometheus text format
///
/// Every option can also be set in the environment (shown beside it) or in a config file (below).
///
/// Still to come (issue 3): on-disk blocks and compaction, retention.
#[derive(clap::Args)]
#[command(verbatim_doc_comment, after_long_help = config::file_help())]
pub struct ServerArgs {
    /// TOML file holding any of the options below (see the end of --help for its format).
    #[arg(long, value_name = "FILE", env = "PLUMB_SERVER_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, value_name = "ADDR", env = "PLUMB_SERVER_LISTEN",
        help = format!("IP:PORT to listen on; port 0 picks a free one [default: {DEFAULT_LISTEN}]"))]
    listen: Option<SocketAddr>,
    /// Data directory [default: /var/lib/plumb/server as root, else ./plumb-data].
    #[arg(long, value_name = "DIR", env = "PLUMB_SERVER_DATA")]
    data: Option<PathBuf>,
    #[arg(long, value_name = "BYTES", env = "PLUMB_SERVER_MAX_BODY_BYTES", help = help(
        "Largest request body accepted, in bytes, before decompression (413 past it)",
        Limits::default().max_body_bytes, config::MAX_BODY_BYTES_RANGE))]
    max_body_bytes: Option<usize>,
    #[arg(long, value_name = "BYTES", env = "PLUMB_SERVER_MAX_DECODED_BYTES", help = help(
        "Largest body after decompression, in bytes: the guard against gzip bombs",
        Limits::default().max_decoded_bytes, config::MAX_DECODED_BYTES_RANGE))]
    max_decoded_bytes: Option<usize>,
    #[arg(long, value_name = "N", env = "PLUMB_SERVER_MAX_DATAPOINTS", help = help(
        "Most datapoints in one publish request",
        Limits::default().max_datapoints, config::MAX_DATAPOINTS_RANGE))]
    max_datapoints: Option<usize>,
    #[arg(long, value_name = "SECS", env = "PLUMB_SERVER_MAX_AGE_SECS", help = help(
        "Oldest datapoint accepted, in seconds before now (the agent replays its buffer after an \
         outage, so keep this above the longest outage you want to ride out)",
        Limits::default().max_age_ms / 1000, config::MAX_AGE_SECS_RANGE))]
    max_age_secs: Option<i64>,
    #[arg(long, value_name = "SECS", env = "PLUMB_SERVER_MAX_FUTURE_SECS", help = help(
        "Furthest in the future a timestamp may be, in seconds",
        Limits::default().max_future_ms / 1000, config::MAX_FUTURE_SECS_RANGE))]
    max_future_secs: Option<i64>,
    /// Accept NaN and infinite values ("NaN", "Infinity"), as Atlas does; by default they are
    /// rejected with a reason. `--allow-non-finite` alone means true. Tag rules (characters,
    /// lengths, at most 20 user tags and 30 in all) follow Atlas's publish rules and are not
    /// configurable yet [default: false].
    #[arg(long, value_name = "BOOL", env = "PLUMB_SERVER_ALLOW_NON_FINITE", num_args = 0..=1,
        require_equals = true, default_missing_value = "true")]
    allow_non_finite: Option<bool>,
    #[arg(long, value_name = "N", env = "PLUMB_SERVER_NEW_SERIES_PER_MINUTE", help = help(
        "New series a minute across all metrics (bursts up to N pass at once; 0 refuses every new series)",
        CardinalityLimits::default().new_series_per_minute, config::NEW_SERIES_RANGE))]
    new_series_per_minute: Option<u32>,
    #[arg(long, value_name = "N", env = "PLUMB_SERVER_NEW_SERIES_PER_MINUTE_PER_NAME", help = help(
        "New series a minute for any one metric name, the guard against a tag with unbounded values",
        CardinalityLimits::default().new_series_per_minute_per_name, config::NEW_SERIES_RANGE))]
    new_series_per_minute_per_name: Option<u32>,
    /// Testing knob, see plumb_server::selfmetrics.
    #[arg(long, hide = true, env = selfmetrics::INTERVAL_ENV,
        value_parser = clap::value_parser!(u64)
            .range(selfmetrics::INTERVAL_MS_RANGE.0..=selfmetrics::INTERVAL_MS_RANGE.1))]
    self_metrics_interval_ms: Option<u64>,
}

/// One option's help line: what it is, its default and its range.
fn help(
    what: &str,
    default: impl std::fmt::Display,
    (min, max): (impl std::fmt::Display, impl std::fmt::Display),
) -> String {
    format!("{what} [default: {default}] [range: {min} to {max}]")
}

pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let flags = Settings {
        listen: args.listen,
        data: args.data,
        max_body_bytes: args.max_body_bytes,
        max_decoded_bytes: args.max_decoded_bytes,
        max_datapoints: args.max_datapoints,
        max_age_secs: args.max_age_secs,
        max_future_secs: args.max_future_secs,
        allow_non_finite: args.allow_non_finite,
        new_series_per_minute: args.new_series_per_minute,
        new_series_per_minute_per_name: args.new_series_per_minute_per_name,
    };
    let file = match args.config.as_deref().map(config::read_file).transpose() {
        Ok(file) => file.unwrap_or_default(),
        Err(e) => return Ok(usage_error(e)),
    };
    let mut opts = match config::resolve(flags.or(file), config::default_data_dir) {
        Ok(opts) => opts,
        Err(e) => return Ok(usage_error(e)),
    };
    if let Some(ms) = args.self_metrics_interval_ms {
        opts.self_metrics_interval = Duration::from_millis(ms);
    }
    serve(opts)?;
    Ok(ExitCode::SUCCESS)
}

fn usage_error(e: config::ConfigError) -> ExitCode {
    eprintln!("plumb server: {e}");
    ExitCode::from(2)
}
