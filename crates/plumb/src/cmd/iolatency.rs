//! `plumb iolatency`: block I/O latency histograms per interval. The tool is
//! `plumb_trace::iolatency`; this module parses flags, resolves the device name, prints the
//! banner and the run's summary (I/Os counted and lost) on stderr.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use plumb_trace::{BlockDev, IntervalOptions, IolatencyOptions};

/// Summarize block I/O latency as a histogram per interval, in perf-tools' layout:
/// ">=(ms) .. <(ms) : I/O |Distribution|". Rows below 1 ms are log2 microseconds (0.256 ->
/// 0.512), from 1 ms on log2 milliseconds (1 -> 2, 2 -> 4), as perf-tools prints them.
///
/// Every completion is counted in the kernel (block:block_rq_issue, or with -Q block_rq_insert,
/// to block:block_rq_complete; requests keyed by device and sector); nothing is sampled. One
/// histogram per INTERVAL seconds (default 1), COUNT times (default: until Ctrl-C). I/Os that
/// could not be timed (in-flight table full) are counted and printed at the end. Needs root (or
/// CAP_BPF and CAP_PERFMON) and a kernel with BTF.
///
/// Examples:
///   plumb iolatency               a histogram every second until Ctrl-C
///   plumb iolatency -Q 5 2        two 5-second histograms, including queue time
///   plumb iolatency -d vda --json 1 10   ten 1-second histograms of vda, as JSON lines
///   plumb iolatency -n postgres 5        I/O issued by threads named *postgres*
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct IolatencyArgs {
    /// Only this device (a name under /sys/class/block, e.g. vda, sda, nvme0n1).
    #[arg(short = 'd', long = "device", value_name = "DEV")]
    device: Option<String>,
    /// Include the time queued in the I/O scheduler (from block_rq_insert).
    #[arg(short = 'Q', long = "queued")]
    queued: bool,
    /// Only I/O issued (with -Q: inserted) while this process was on CPU, as iosnoop shows
    /// it (writeback from the page cache is issued by kernel flusher threads, not the writer).
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only I/O issued (with -Q: inserted) by threads whose name contains this (at most 15
    /// bytes, a thread name's length).
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per interval (time, interval_s, total, buckets with low_ms, high_ms,
    /// low_us, high_us and count), then a summary object.
    #[arg(long)]
    json: bool,
    /// Seconds per histogram.
    #[arg(value_name = "INTERVAL", default_value_t = 1.0)]
    interval: f64,
    /// Number of histograms (default: until Ctrl-C).
    #[arg(value_name = "COUNT")]
    count: Option<u64>,
}

/// Runs `plumb iolatency`.
pub fn run(args: IolatencyArgs) -> anyhow::Result<ExitCode> {
    let interval = super::stopping::positive_seconds("INTERVAL", args.interval)?;
    if args.count == Some(0) {
        anyhow::bail!("COUNT must be at least 1");
    }
    let device = match &args.device {
        Some(name) => Some(BlockDev::resolve(name).context("-d")?),
        None => None,
    };
    if args.comm.as_ref().is_some_and(|c| c.is_empty() || c.len() > 15) {
        anyhow::bail!("-n COMM must be 1 to 15 bytes (a thread name's length)");
    }
    let stop = super::stopping::stop_on_ctrl_c()?;
    let options = IolatencyOptions { device, queued: args.queued, pid: args.pid, comm: args.comm.clone() };
    let tool = plumb_trace::iolatency(&options)?;
    let mut err = std::io::stderr();
    let mut what = match (&args.device, device) {
        (Some(name), Some(dev)) => format!("block I/O on {name} ({dev})"),
        _ => "block I/O".to_string(),
    };
    if let Some(pid) = args.pid {
        what.push_str(&format!(" of pid {pid}"));
    }
    if let Some(comm) = &args.comm {
        what.push_str(&format!(" of threads named *{comm}*"));
    }
    let _ = writeln!(err, "Tracing {what}... Hit Ctrl-C to end.");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let options = IntervalOptions { interval, count: args.count, json: args.json };
    let summary = tool.run(&options, &stop, &mut out)?;
    let _ = writeln!(err, "{summary}");
    Ok(ExitCode::SUCCESS)
}
