//! `plumb execsnoop`: print every execve as it happens. The tool is `plumb_trace::execsnoop`;
//! this module parses flags and hands over to `snoop::run_snoop`, which every snoop tool shares.

use std::process::ExitCode;

use plumb_trace::{ExecFilter, RunOptions};

use super::snoop::run_snoop;
use super::stopping::{positive_seconds, stop_on_ctrl_c};

/// Print every exec (new program) as it happens: time, pid, parent pid, return value and
/// command line (up to 64 arguments, 256 bytes each, 4 KiB in all; more shows as " ...").
///
/// Runs until Ctrl-C, or for DURATION seconds. Events the kernel could not deliver are counted
/// and printed at the end (stderr, and the last object with --json).
/// Traces syscalls:sys_enter_execve and sys_exit_execve with BPF; needs root (or CAP_BPF and
/// CAP_PERFMON) and a kernel with BTF. Mounts tracefs at /sys/kernel/tracing if it is absent.
///
/// Examples:
///   plumb execsnoop                 every exec until Ctrl-C
///   plumb execsnoop -n sh 10        execs of programs named *sh* for 10 s
///   plumb execsnoop -p 1234 --json  execs by process 1234 or its children, as JSON lines
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ExecsnoopArgs {
    /// Only execs by this process or its children.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only execs whose command name contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(value_name = "DURATION")]
    duration: Option<f64>,
}

/// Runs `plumb execsnoop`.
pub fn run(args: ExecsnoopArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| positive_seconds("DURATION", s)).transpose()?;
    let stop = stop_on_ctrl_c()?;
    let snoop = plumb_trace::execsnoop(ExecFilter { pid: args.pid, comm: args.comm })?;
    run_snoop(snoop, "execve", RunOptions { duration, json: args.json }, &stop)
}
