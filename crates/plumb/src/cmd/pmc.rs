//! `plumb pmc`: core hardware counters over an interval, with IPC and stall and miss ratios.

use std::process::ExitCode;

use plumb_perf::CountTarget;

use super::stopping::{positive_seconds, stop_on_ctrl_c};

/// Count CPU hardware events and print IPC, stall and cache-miss ratios, as `perf stat` does.
///
/// Counters: cycles, instructions, stalled-cycles-frontend, stalled-cycles-backend,
/// cache-references and cache-misses (last-level cache), through the kernel's generic
/// PERF_TYPE_HARDWARE events on the CPU's PMU.
///
/// Reading the result (Brendan Gregg's rule of thumb): IPC below 1 means the CPU mostly waits,
/// often on memory (look at stalled cycles and cache misses); IPC above 1 means it is mostly
/// retiring instructions, so do less work. A counter the CPU lacks prints <not supported>; when
/// more counters are asked than the PMU has, the kernel time-shares them and the counts are
/// scaled up, with the share of time counted in parentheses.
///
/// Virtual machines usually have no PMU: then plumb pmc names what is missing (the PMU
/// directory under /sys/bus/event_source/devices and the refused perf_event_open) and exits 1.
///
/// Examples:
///   plumb pmc -d 10           all CPUs for 10 seconds
///   plumb pmc -p 1234         process 1234 and its threads until Ctrl-C
///   plumb pmc -a -d 5 --json  one JSON object
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct PmcArgs {
    /// Count this process and its threads (and children started later).
    #[arg(short = 'p', long, value_name = "PID", conflicts_with = "all_cpus")]
    pid: Option<u32>,
    /// Count every process on every CPU (the default).
    #[arg(short = 'a', long = "all-cpus")]
    all_cpus: bool,
    /// Seconds to count (default: until Ctrl-C).
    #[arg(short = 'd', long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Print one JSON object: target, seconds, counters (raw, scaled, coverage, unsupported)
    /// and ratios (ipc, cpi, stalled_frontend_pct, stalled_backend_pct, cache_miss_pct).
    #[arg(long)]
    json: bool,
}

pub fn run(args: PmcArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| positive_seconds("the interval", s)).transpose()?;
    let target = match args.pid {
        Some(pid) => CountTarget::Pid(pid),
        None => CountTarget::AllCpus,
    };
    let stop = stop_on_ctrl_c()?;
    let report = plumb_pmc::measure(target, duration, &stop)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}

/// The local wall-clock time as HH:MM:SS, the first column of the interval tools.
pub(crate) fn clock() -> String {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%H:%M:%S").to_string()
}
