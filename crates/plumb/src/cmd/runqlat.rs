//! `plumb runqlat`: run-queue latency histograms. The tool is `plumb_trace::runqlat`; this
//! module parses flags, prints the banner and the losses.

use std::io::Write;
use std::process::ExitCode;

use plumb_trace::RunqlatOptions;

/// Summarize run-queue (scheduler) latency as a histogram: the time a thread waits runnable,
/// from its wakeup or from being preempted, until it runs on a CPU.
///
/// The histogram is kept in the kernel (tp_btf programs on sched:sched_wakeup,
/// sched_wakeup_new and sched_switch) in log2 buckets of microseconds, printed like bcc's
/// runqlat. Without INTERVAL one histogram is printed at Ctrl-C; with it, one per INTERVAL
/// seconds, COUNT times (default: until Ctrl-C). Threads whose wakeup could not be recorded
/// (table full) are counted and printed. Needs root (or CAP_BPF and CAP_PERFMON) and a kernel
/// with BTF.
///
/// Examples:
///   plumb runqlat                one histogram, at Ctrl-C
///   plumb runqlat 1 5            five 1-second histograms
///   plumb runqlat -p 1234 --json 2 1   process 1234, one 2-second histogram as JSON
///   plumb runqlat -n postgres 5        threads named *postgres*, a histogram every 5 s
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RunqlatArgs {
    /// Only threads of this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only threads whose name contains this (at most 15 bytes, a thread name's length).
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per interval: count, sum_ns, mean_us, p99_us, buckets (low_us, high_us,
    /// count) and lost.
    #[arg(long)]
    json: bool,
    /// Seconds per histogram (default: one histogram, at Ctrl-C).
    #[arg(value_name = "INTERVAL")]
    interval: Option<f64>,
    /// Number of histograms (default: until Ctrl-C).
    #[arg(value_name = "COUNT", requires = "interval")]
    count: Option<u64>,
}

/// Runs `plumb runqlat`.
pub fn run(args: RunqlatArgs) -> anyhow::Result<ExitCode> {
    let interval = args.interval.map(|s| super::stopping::positive_seconds("INTERVAL", s)).transpose()?;
    if args.count == Some(0) {
        anyhow::bail!("COUNT must be at least 1");
    }
    if args.comm.as_ref().is_some_and(|c| c.is_empty() || c.len() > 15) {
        anyhow::bail!("COMM must be 1 to 15 bytes (a thread name's length)");
    }
    let stop = super::stopping::stop_on_ctrl_c()?;
    let tool = plumb_trace::runqlat_named(args.pid, args.comm.as_deref())?;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "Tracing run queue latency... Hit Ctrl-C to end.");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let options = RunqlatOptions { interval, count: args.count, json: args.json };
    let drops = tool.run(&options, &stop, &mut out)?;
    if drops.total() > 0 {
        let _ = writeln!(err, "runqlat: {} wakeups not timed (start table full)", drops.total());
    }
    Ok(ExitCode::SUCCESS)
}
