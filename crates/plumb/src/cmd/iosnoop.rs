//! `plumb iosnoop`: print every block I/O as it completes. The tool is `plumb_trace::iosnoop`;
//! this module parses flags, resolves the device name and shares `execsnoop`'s banner, Ctrl-C
//! and loss reporting habits.

use std::process::ExitCode;

use anyhow::Context;
use plumb_trace::{BlockDev, IoFilter, RunOptions};

/// Print every block I/O as it completes: start and end time, command and pid that issued it,
/// type (R, W, WS, RA, F, D: the kernel's rwbs flags), device, block (512-byte sector), bytes
/// and latency in milliseconds.
///
/// Traces block:block_rq_issue (or with -Q block_rq_insert, including the time queued) to
/// block:block_rq_complete with BPF; -d and -p filter in the kernel. The pid is the process
/// current when the I/O was issued: for buffered writes that is usually a kernel flusher thread.
/// Runs until Ctrl-C, or for DURATION seconds. Events the kernel could not deliver are counted
/// and printed at the end (stderr, and the last object with --json). Needs root (or CAP_BPF and
/// CAP_PERFMON) and a kernel with BTF.
///
/// Examples:
///   plumb iosnoop                   every I/O until Ctrl-C
///   plumb iosnoop -Q -d vda 5       I/O on vda for 5 s, including queue time
///   plumb iosnoop -n dd --json      I/O issued by commands named *dd*, as JSON lines
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct IosnoopArgs {
    /// Include the time queued in the I/O scheduler (from block_rq_insert).
    #[arg(short = 'Q', long = "queued")]
    queued: bool,
    /// Only this device (a name under /sys/class/block, e.g. vda, sda, nvme0n1).
    #[arg(short = 'd', long = "device", value_name = "DEV")]
    device: Option<String>,
    /// Only I/O issued by this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only I/O issued by commands whose name contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(value_name = "DURATION")]
    duration: Option<f64>,
}

/// Runs `plumb iosnoop`.
pub fn run(args: IosnoopArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| super::stopping::positive_seconds("DURATION", s)).transpose()?;
    let device = match &args.device {
        Some(name) => Some(BlockDev::resolve(name).context("-d")?),
        None => None,
    };
    let stop = super::stopping::stop_on_ctrl_c()?;
    let filter =
        IoFilter { device, pid: args.pid, comm: args.comm, queued: args.queued, names: plumb_trace::device_names() };
    let tool = plumb_trace::iosnoop(filter)?;
    super::snoop::run_snoop(tool, "block I/O", RunOptions { duration, json: args.json }, &stop)
}
