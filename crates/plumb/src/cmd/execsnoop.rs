//! `plumb execsnoop`: print every execve as it happens. The tool is `plumb_trace::execsnoop`;
//! this module parses flags and holds [`run_snoop`], the Ctrl-C, output and loss reporting that
//! `plumb opensnoop` shares.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use plumb_trace::{ExecFilter, RunOptions, Snoop, SnoopEvent};

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
    let duration = seconds(args.duration)?;
    let stop = stop_on_ctrl_c()?;
    let snoop = plumb_trace::execsnoop(ExecFilter { pid: args.pid, comm: args.comm })?;
    run_snoop(snoop, "execve", RunOptions { duration, json: args.json }, &stop)
}

/// A DURATION argument as a `Duration`; it must be a positive number of seconds.
pub(crate) fn seconds(duration: Option<f64>) -> anyhow::Result<Option<Duration>> {
    match duration {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => anyhow::bail!("DURATION must be a positive number of seconds, not {s}"),
    }
}

/// A flag that Ctrl-C (or SIGTERM) sets.
pub(crate) fn stop_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// Runs a started snoop tool to the end: a "Tracing" line on stderr once attached (tests wait
/// for it), events on stdout, the loss summary on stderr.
pub(crate) fn run_snoop<E: SnoopEvent>(
    mut snoop: Snoop<E>,
    what: &str,
    options: RunOptions,
    stop: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr();
    if !snoop.skipped().is_empty() {
        let _ = writeln!(err, "plumb: not traced (absent in this kernel): {}", snoop.skipped().join(", "));
    }
    let _ = writeln!(err, "Tracing {what}... Hit Ctrl-C to end.");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let summary = snoop.run(&options, stop, &mut out)?;
    let _ = writeln!(err, "{summary}");
    Ok(ExitCode::SUCCESS)
}
