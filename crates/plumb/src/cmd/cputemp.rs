//! `plumb cputemp`: each interval, every CPU's temperature from its thermal margin.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use plumb_pmc::{Thermal, temp_table_header, temp_table_row};

use super::stopping::{positive_seconds, sleep_until, stop_on_ctrl_c};

/// Show each CPU's temperature in °C, as Brendan Gregg's cputemp.
///
/// The CPU reports not a temperature but a margin: degrees below TjMax, the point where it
/// throttles. Temperature = TjMax − margin. The margin is the digital readout of
/// IA32_THERM_STATUS, read through the perf `msr` PMU's cpu_thermal_margin event (Intel CPUs
/// with digital thermal sensors); TjMax is read from IA32_TEMPERATURE_TARGET through
/// /dev/cpu/0/msr (the msr module, root), or given with --tjmax. A CPU whose reading is not
/// valid shows `-`.
///
/// Virtual machines expose neither: then plumb cputemp names the missing PMU, event file or
/// device and exits 1.
///
/// Examples:
///   plumb cputemp               every second until Ctrl-C
///   plumb cputemp --tjmax 100 5 10
///   plumb cputemp --json 1 1
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CputempArgs {
    /// Seconds between lines.
    #[arg(default_value_t = 1.0)]
    interval: f64,
    /// Lines to print (default: until Ctrl-C).
    count: Option<u64>,
    /// TjMax in °C instead of reading MSR IA32_TEMPERATURE_TARGET.
    #[arg(long, value_name = "CELSIUS")]
    tjmax: Option<u8>,
    /// One JSON object per interval: time, tjmax and cpus (cpu, margin_c, temp_c).
    #[arg(long)]
    json: bool,
}

pub fn run(args: CputempArgs) -> anyhow::Result<ExitCode> {
    let interval = positive_seconds("the interval", args.interval)?;
    let thermal = Thermal::open(Path::new(plumb_perf::pmu::PMU_ROOT), Path::new("/dev/cpu"), args.tjmax)?;
    let stop = stop_on_ctrl_c()?;
    let mut next = Instant::now();
    let mut printed = 0u64;
    while args.count.is_none_or(|c| printed < c) && sleep_until(next, &stop) {
        next += interval;
        let temps = thermal.read()?;
        let time = super::pmc::clock();
        if args.json {
            println!("{}", serde_json::json!({"time": time, "tjmax": thermal.tjmax, "cpus": temps}));
        } else {
            if printed.is_multiple_of(20) {
                println!("{}", temp_table_header(&temps));
            }
            println!("{}", temp_table_row(&time, &temps));
        }
        printed += 1;
    }
    Ok(ExitCode::SUCCESS)
}
