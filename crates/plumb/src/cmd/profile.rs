//! `plumb profile`: sample stacks with perf events and write a flame graph (or folded stacks,
//! pprof, speedscope). The session is `plumb_record::record`; this module parses flags, shows
//! progress, and writes the output with [`super::profile_output`].

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use plumb_perf::{Event, SampleMode, SampleRate};
use plumb_profile::TaskRoots;
use plumb_record::{Progress, RecordOptions, Target};
use serde_json::json;

use super::profile_output::{FormatArg, Output, OutputFormat, write_profile};

/// Sample stacks on CPU (or on page faults, context switches) and write a flame graph.
///
/// Without -p or a command, every CPU is sampled (-a) until Ctrl-C or -d; Ctrl-C still writes
/// the output. With `-- COMMAND ARGS...` the command is run and sampled, with its children, from
/// its exec until it exits. User stacks are unwound with the binaries' .eh_frame (DWARF CFI), so
/// code built without frame pointers shows whole stacks; kernel frames come from the kernel's
/// callchain and /proc/kallsyms; JIT frames from /tmp/perf-PID.map.
///
/// Examples:
///   plumb profile -d 30 -o cpu.svg               all CPUs for 30 s
///   plumb profile -p 1234 -F 999 -o app.svg      one process, 999 Hz, until Ctrl-C
///   plumb profile -o run.pb.gz -- ./bench --fast pprof of a command
///   plumb profile --event page-faults -d 10      where memory is first touched
///
/// Needs root, CAP_PERFMON, or a low kernel.perf_event_paranoid (the error says which).
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ProfileArgs {
    /// Samples per second per CPU.
    #[arg(short = 'F', long = "frequency", default_value_t = 99, value_name = "HZ",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    frequency: u64,
    /// Take a sample every N events instead (e.g. -c 1 for every context switch or page fault);
    /// overrides -F.
    #[arg(short = 'c', long = "period", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    period: Option<u64>,
    /// Sample every process on every CPU (the default without -p or a command).
    #[arg(short = 'a', long = "all-cpus", conflicts_with = "pid")]
    all_cpus: bool,
    /// Sample these processes (all their threads); repeatable or comma-separated.
    #[arg(short = 'p', long = "pid", value_name = "PID", value_delimiter = ',')]
    pid: Vec<u32>,
    /// Stop after this many seconds (default: Ctrl-C, or the command's exit).
    #[arg(short = 'd', long = "duration", value_name = "SECONDS")]
    duration: Option<f64>,
    /// Only user-space frames.
    #[arg(long, conflicts_with = "kernel_only")]
    user_only: bool,
    /// Only kernel frames.
    #[arg(long)]
    kernel_only: bool,
    /// The event that takes a sample: cpu-clock (where CPU time goes), page-faults, or
    /// context-switches (where threads block).
    #[arg(short = 'e', long = "event", default_value = "cpu-clock", value_name = "EVENT",
          value_parser = ["cpu-clock", "page-faults", "context-switches"])]
    event: String,
    /// Output file; `-` is standard output. Default: profile.svg (or the format's extension).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format (default: from the output file's extension, else svg).
    #[arg(long, value_parser = FormatArg)]
    format: Option<OutputFormat>,
    /// Put the process name and pid at the root of each stack.
    #[arg(long, conflicts_with = "per_thread")]
    per_process: bool,
    /// Put the process and then the thread at the root of each stack.
    #[arg(long)]
    per_thread: bool,
    /// Title of the flame graph (default: event, host, duration and samples).
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// Print a JSON summary on standard output (samples, lost, top functions, output path).
    #[arg(long)]
    json: bool,
    /// The command to run and profile, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

pub fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let output = Output::choose(args.output.as_deref(), args.format)?;
    if args.json && output.is_stdout() {
        anyhow::bail!("--json prints the summary on standard output: give the profile a file with -o");
    }
    let duration = match args.duration {
        Some(d) if !(d > 0.0 && d <= 365.0 * 86400.0) => anyhow::bail!("-d must be a number of seconds above 0"),
        Some(d) => Some(Duration::from_secs_f64(d)),
        None => None,
    };
    let target = if !args.command.is_empty() {
        if args.all_cpus || !args.pid.is_empty() {
            anyhow::bail!("give either a command (after --) or -a/-p, not both");
        }
        Target::Command(args.command.clone())
    } else if !args.pid.is_empty() {
        Target::Pids(args.pid.clone())
    } else {
        Target::AllCpus
    };
    let options = RecordOptions {
        event: Event::from_name(&args.event).context("unknown event")?,
        rate: match args.period {
            Some(n) => SampleRate::Period(n),
            None => SampleRate::Frequency(args.frequency),
        },
        target,
        duration,
        mode: match (args.user_only, args.kernel_only) {
            (true, _) => SampleMode::UserOnly,
            (_, true) => SampleMode::KernelOnly,
            _ => SampleMode::KernelAndUser,
        },
        roots: match (args.per_process, args.per_thread) {
            (_, true) => TaskRoots::PerThread,
            (true, _) => TaskRoots::PerProcess,
            _ => TaskRoots::None,
        },
        host: plumb_collect::hostname(&plumb_collect::FsRoot::default()),
        ..RecordOptions::default()
    };

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed)).context("cannot install the Ctrl-C handler")?;
    }
    let live = std::io::stderr().is_terminal();
    if live {
        let what = match &options.target {
            Target::AllCpus => "all CPUs".to_string(),
            Target::Pids(p) => format!("pid {}", p.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
            Target::Command(_) => "the command".to_string(),
        };
        let rate = match args.period {
            Some(n) => format!("every {n} events"),
            None => format!("at {} Hz", args.frequency),
        };
        eprintln!("plumb profile: sampling {what} {rate} ({}); Ctrl-C to stop", args.event);
    }
    let recording = plumb_record::record(&options, &stop, |p: Progress| {
        if live {
            eprint!("\r  {:>6.1} s  {:>9} samples  {:>6} lost ", p.elapsed.as_secs_f64(), p.samples, p.lost);
        }
    });
    if live {
        eprintln!();
    }
    let recording = recording?;
    let profile = recording.profile;
    write_profile(&profile, &output, args.title.as_deref())?;
    report(&recording.stats, &output, live, args.json, &profile)?;
    if recording.stats.samples == 0 {
        eprintln!("plumb profile: no samples were taken (was anything running?)");
    }
    Ok(ExitCode::SUCCESS)
}

fn report(
    stats: &plumb_record::RecordingStats,
    output: &Output,
    live: bool,
    json: bool,
    profile: &plumb_profile::Profile,
) -> anyhow::Result<()> {
    if json {
        let top: Vec<_> = profile
            .top_functions(10)
            .into_iter()
            .map(|f| json!({"name": f.frame.name, "kind": f.frame.kind.as_str(), "self": f.self_weight, "total": f.total_weight}))
            .collect();
        let summary = json!({
            "output": output.describe(),
            "format": output.format.name(),
            "event": profile.meta.event,
            "duration_secs": profile.meta.duration.map(|d| d.as_secs_f64()),
            "samples": stats.samples,
            "lost": stats.lost,
            "unwound": stats.unwound,
            "callchain_only": stats.callchain_only,
            "distinct_stacks": stats.distinct_stacks,
            "unresolved_addresses": stats.unresolved_addresses,
            "throttled": stats.throttled,
            "exit_code": stats.exit_code,
            "warnings": stats.warnings,
            "top_functions": top,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    if live || !output.is_stdout() {
        eprintln!(
            "plumb profile: {} samples, {} lost, {} distinct stacks -> {}",
            stats.samples,
            stats.lost,
            stats.distinct_stacks,
            output.describe()
        );
        for w in stats.warnings.iter().take(5) {
            eprintln!("plumb profile: warning: {w}");
        }
    }
    Ok(())
}
