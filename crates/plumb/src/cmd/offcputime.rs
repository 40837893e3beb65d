//! `plumb offcputime`: off-CPU time per stack, written as `plumb profile` writes profiles. The
//! tool is `plumb_trace::offcputime`; the writer is `profile_output`'s, shared, not copied.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use plumb_profile::ProfileMeta;

use super::profile_output::{FormatArg, Output, OutputFormat, write_profile};

/// Summarize the time threads spend blocked off-CPU, by stack, as an off-CPU flame graph.
///
/// At every context switch of a blocked thread (tp_btf on sched:sched_switch) its kernel and
/// user stacks are recorded; when it runs again, the time it was off CPU is added to that
/// stack, summed in the kernel. Preempted (still runnable) threads are not counted: see
/// `plumb runqlat` for that wait. The result is a profile weighted in nanoseconds (event
/// off-cpu), written like `plumb profile`'s: SVG, folded, pprof or speedscope, so
/// `plumb flame diff` works on two of them.
///
/// User stacks are walked by the kernel through frame pointers only: code built without them
/// (most distribution libraries, -fomit-frame-pointer) gives short or truncated user stacks,
/// and a function that calls such a library can be missing from its own stack. A process that
/// exits before the end has its user frames shown as addresses. Stacks the kernel could not
/// store (stack map full, hash slot taken, unreadable) are counted in the kernel and printed at
/// the end; their time stays, under [missing kernel stack]. Runs for SECONDS or until Ctrl-C. Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.
///
/// Examples:
///   plumb offcputime -d 10                     everything, 10 s, to profile.svg
///   plumb offcputime -p 1234 -d 5 -o off.folded
///   plumb offcputime -n postgres -d 5 -o off.svg   threads named *postgres*
///   plumb offcputime -p 1234 --format pprof -o -   > off.pb.gz
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct OffcputimeArgs {
    /// Only threads of this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only threads whose name (when they blocked) contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// Trace for this many seconds (default: until Ctrl-C).
    #[arg(short = 'd', long = "duration", value_name = "SECONDS")]
    duration: Option<f64>,
    /// Output file (`-` for standard output). Default: the format's default name (profile.svg).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format. Default: from the file's extension, else svg.
    #[arg(long, value_parser = FormatArg, value_name = "FORMAT")]
    format: Option<OutputFormat>,
    /// Print a one-object JSON summary on standard output (output, format, stacks, blocked_ns,
    /// lost counts) instead of the summary line on standard error.
    #[arg(long)]
    json: bool,
}

/// Runs `plumb offcputime`.
pub fn run(args: OffcputimeArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| super::stopping::positive_seconds("-d SECONDS", s)).transpose()?;
    let output = Output::choose(args.output.as_deref(), args.format)?;
    if args.json && output.is_stdout() {
        anyhow::bail!("--json prints the summary on standard output: give -o FILE");
    }
    let stop = super::stopping::stop_on_ctrl_c()?;
    let start_unix_nanos = jiff::Timestamp::now().as_nanosecond().try_into().ok();
    let tool = plumb_trace::offcputime(args.pid)?;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "Tracing off-CPU time (blocked threads' stacks)... Hit Ctrl-C to end.");
    tool.wait(duration, &stop);
    let elapsed = tool.elapsed();
    let mut stacks = tool.stacks()?;
    if let Some(comm) = &args.comm {
        stacks.retain(|stack| stack.key.comm.contains(comm.as_str()));
    }
    let drops = tool.drops()?;
    let stacks_lost = tool.stacks_lost()?;
    // Entries whose kernel stack was not stored: their time is shown under [missing kernel stack].
    let missing_kernel = stacks.iter().filter(|s| s.kernel.is_none()).count();
    let meta = ProfileMeta {
        start_unix_nanos,
        duration: Some(elapsed),
        lost_samples: drops.total(),
        command_line: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        ..ProfileMeta::default()
    };
    let (profile, warnings) = plumb_trace::offcpu_profile(&stacks, meta);
    for warning in warnings {
        let _ = writeln!(err, "plumb: {warning}");
    }
    write_profile(&profile, &output, Some("Off-CPU Time Flame Graph"))?;
    if args.json {
        let summary = serde_json::json!({
            "output": output.describe(),
            "format": output.format.name(),
            "event": "off-cpu",
            "duration_secs": elapsed.as_secs_f64(),
            "stacks": profile.stack_count(),
            "blocked_ns": profile.total(),
            "lost": drops.total().saturating_add(stacks_lost.total()),
            "lost_table_full": drops.table_full,
            "lost_kernel_stacks": stacks_lost.kernel,
            "lost_user_stacks": stacks_lost.user,
            "missing_kernel_stack_entries": missing_kernel,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        err,
        "offcputime: {} stacks, {:.3} s blocked, written to {} ({}); {} lost (table full), \
         stacks not stored: {} kernel, {} user ({} entries under [missing kernel stack])",
        profile.stack_count(),
        profile.total() as f64 / 1e9,
        output.describe(),
        output.format.name(),
        drops.total(),
        stacks_lost.kernel,
        stacks_lost.user,
        missing_kernel
    );
    Ok(ExitCode::SUCCESS)
}
