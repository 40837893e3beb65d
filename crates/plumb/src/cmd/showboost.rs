//! `plumb showboost`: each interval, the CPUs' real clock rate from APERF/MPERF.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use plumb_pmc::{Boost, boost_table_row, interval_lines};

use super::stopping::{positive_seconds, sleep_until, stop_on_ctrl_c};

/// Show the CPUs' real clock rate (turbo boost) from APERF and MPERF, as Brendan Gregg's showboost.
///
/// MPERF counts at the fixed TSC rate and APERF at the actual rate, both only while a CPU is not
/// halted. Each line covers the INTERVAL before it:
///   C0_MCYC  reference cycles while busy (ΔMPERF)
///   C0_ACYC  actual cycles while busy (ΔAPERF)
///   UTIL     share of time busy: ΔMPERF / ΔTSC
///   RATIO    ΔAPERF / ΔMPERF: above 100% the CPU ran faster than base (turbo), below it slower
///   MHz      TSC rate × ΔAPERF / ΔMPERF, the average clock while busy
/// The first line is all CPUs; --per-cpu adds one line per CPU.
///
/// The counters come from the perf `msr` PMU (events tsc, aperf, mperf under
/// /sys/bus/event_source/devices/msr/events). Virtual machines rarely pass APERF/MPERF through:
/// then plumb showboost names the missing PMU or event file and exits 1.
///
/// Examples:
///   plumb showboost             every second until Ctrl-C
///   plumb showboost 5 12        every 5 seconds, 12 times
///   plumb showboost --per-cpu --json 1 3
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ShowboostArgs {
    /// Seconds between lines.
    #[arg(default_value_t = 1.0)]
    interval: f64,
    /// Lines to print (default: until Ctrl-C).
    count: Option<u64>,
    /// A line for each CPU after the all-CPU line.
    #[arg(long)]
    per_cpu: bool,
    /// One JSON object per interval: time and lines (cpu, c0_mcyc, c0_acyc, util_pct, ratio_pct, mhz).
    #[arg(long)]
    json: bool,
}

pub fn run(args: ShowboostArgs) -> anyhow::Result<ExitCode> {
    let interval = positive_seconds("the interval", args.interval)?;
    let mut boost = Boost::open(Path::new(plumb_perf::pmu::PMU_ROOT))?;
    let stop = stop_on_ctrl_c()?;
    if !args.json {
        println!("{}", plumb_pmc::BOOST_TABLE_HEADER);
    }
    let mut last = Instant::now();
    let mut printed = 0u64;
    while args.count.is_none_or(|c| printed < c) && sleep_until(last + interval, &stop) {
        let now = Instant::now();
        let deltas = boost.deltas()?;
        let mut lines = interval_lines(&deltas, now.duration_since(last).as_secs_f64());
        last = now;
        if !args.per_cpu {
            lines.truncate(1);
        }
        let time = super::pmc::clock();
        if args.json {
            println!("{}", serde_json::json!({"time": time, "lines": lines}));
        } else {
            for line in &lines {
                println!("{}", boost_table_row(&time, line));
            }
        }
        printed += 1;
    }
    Ok(ExitCode::SUCCESS)
}
