//! `plumb opensnoop`: print every open as it happens. The tool is `plumb_trace::opensnoop`;
//! this module parses flags and hands over to `snoop::run_snoop`, which every snoop tool shares.

use std::process::ExitCode;

use plumb_trace::{OpenFilter, RunOptions};

/// Print every file open as it happens: time, command, pid, fd (or -1 and the errno) and path.
///
/// Traces open, openat and openat2 (syscalls:sys_enter_/sys_exit_ tracepoints) with BPF; the
/// -p and -x filters run in the kernel. Runs until Ctrl-C, or for DURATION seconds. Events the
/// kernel could not deliver are counted and printed at the end (stderr, and the last object
/// with --json). Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF. Mounts tracefs
/// at /sys/kernel/tracing if it is absent.
///
/// Examples:
///   plumb opensnoop                 every open until Ctrl-C
///   plumb opensnoop -x 5            failed opens for 5 s
///   plumb opensnoop -p 1234 --json  opens by process 1234, as JSON lines
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct OpensnoopArgs {
    /// Only opens by this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only opens by commands whose name contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// Only failed opens.
    #[arg(short = 'x', long = "failed")]
    failed: bool,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(value_name = "DURATION")]
    duration: Option<f64>,
}

/// Runs `plumb opensnoop`.
pub fn run(args: OpensnoopArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| super::stopping::positive_seconds("DURATION", s)).transpose()?;
    let stop = super::stopping::stop_on_ctrl_c()?;
    let snoop = plumb_trace::opensnoop(OpenFilter { pid: args.pid, comm: args.comm, failed_only: args.failed })?;
    super::snoop::run_snoop(snoop, "open, openat, openat2", RunOptions { duration, json: args.json }, &stop)
}
