//! `plumb pmc`: core hardware counters (cycles, instructions, stalled cycles, last-level cache
//! references and misses) over an interval, and the ratios read from them: IPC, stall shares,
//! cache miss rate.
//!
//! Design decision: a counter the CPU lacks (stalled cycles are absent on most recent Intel
//! cores) is reported as unsupported with the kernel's answer, and the ratios that need it are
//! absent, never zero; only cycles and instructions are required, since without them there is
//! nothing to report.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plumb_perf::{CountTarget, CounterReading, CounterSpec, Counting, HardwareCounter, Readings};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::probe::core_pmu_check;

/// The counters `plumb pmc` opens, by report name.
pub const CORE_COUNTERS: [(&str, HardwareCounter); 6] = [
    ("cycles", HardwareCounter::CpuCycles),
    ("instructions", HardwareCounter::Instructions),
    ("stalled-cycles-frontend", HardwareCounter::StalledCyclesFrontend),
    ("stalled-cycles-backend", HardwareCounter::StalledCyclesBackend),
    ("cache-references", HardwareCounter::CacheReferences),
    ("cache-misses", HardwareCounter::CacheMisses),
];

/// One counter's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterLine {
    /// The report name (`cycles`).
    pub name: String,
    /// The raw delta, summed over CPUs or threads. None when unsupported.
    pub raw: Option<u64>,
    /// The delta scaled for multiplexing. None when unsupported or never scheduled.
    pub scaled: Option<f64>,
    /// Share of the interval the counter was on the PMU, 0 to 1.
    pub coverage: Option<f64>,
    /// Why the counter could not be opened, when it could not.
    pub unsupported: Option<String>,
}

impl CounterLine {
    /// A line for a counter this machine lacks, with the reason.
    pub fn unsupported(name: &str, why: &str) -> CounterLine {
        CounterLine {
            name: name.to_owned(),
            raw: None,
            scaled: None,
            coverage: None,
            unsupported: Some(why.to_owned()),
        }
    }

    /// A line from the summed delta of a counter.
    pub fn measured(name: &str, delta: &CounterReading) -> CounterLine {
        CounterLine {
            name: name.to_owned(),
            raw: Some(delta.value),
            scaled: delta.scaled(),
            coverage: Some(delta.coverage()),
            unsupported: None,
        }
    }
}

/// The ratios, each None when a counter it needs is missing or zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    /// Instructions per cycle.
    pub ipc: Option<f64>,
    /// Cycles per instruction.
    pub cpi: Option<f64>,
    /// Stalled front-end cycles as a percentage of cycles.
    pub stalled_frontend_pct: Option<f64>,
    /// Stalled back-end cycles as a percentage of cycles.
    pub stalled_backend_pct: Option<f64>,
    /// Cache misses as a percentage of cache references.
    pub cache_miss_pct: Option<f64>,
}

/// The whole `plumb pmc` report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreReport {
    /// What was counted: `all CPUs` or `PID 1234`.
    pub target: String,
    /// Seconds measured.
    pub seconds: f64,
    /// One line per counter in [`CORE_COUNTERS`] order.
    pub counters: Vec<CounterLine>,
    /// The derived ratios.
    pub ratios: Ratios,
}

fn ratio(num: Option<f64>, den: Option<f64>) -> Option<f64> {
    match (num, den) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    }
}

impl Ratios {
    /// Computes the ratios from counter lines found by name.
    pub fn from_lines(lines: &[CounterLine]) -> Ratios {
        let get = |name: &str| lines.iter().find(|l| l.name == name).and_then(|l| l.scaled);
        let cycles = get("cycles");
        let instructions = get("instructions");
        let pct = |v: Option<f64>| v.map(|r| r * 100.0);
        Ratios {
            ipc: ratio(instructions, cycles),
            cpi: ratio(cycles, instructions),
            stalled_frontend_pct: pct(ratio(get("stalled-cycles-frontend"), cycles)),
            stalled_backend_pct: pct(ratio(get("stalled-cycles-backend"), cycles)),
            cache_miss_pct: pct(ratio(get("cache-misses"), get("cache-references"))),
        }
    }
}

impl CoreReport {
    /// Builds the report from counter lines.
    pub fn new(target: String, seconds: f64, counters: Vec<CounterLine>) -> CoreReport {
        let ratios = Ratios::from_lines(&counters);
        CoreReport { target, seconds, counters, ratios }
    }

    /// perf stat's layout: count, name, and the ratio that belongs to the line after `#`.
    pub fn table(&self) -> String {
        let mut out = format!("Hardware counters for {}, {:.2} s:\n\n", self.target, self.seconds);
        for line in &self.counters {
            let note = match line.name.as_str() {
                "instructions" => self.ratios.ipc.map(|v| format!("{v:.2} IPC")),
                "cycles" => self.ratios.cpi.map(|v| format!("{v:.2} CPI")),
                "stalled-cycles-frontend" => self.ratios.stalled_frontend_pct.map(|v| format!("{v:.2}% of cycles")),
                "stalled-cycles-backend" => self.ratios.stalled_backend_pct.map(|v| format!("{v:.2}% of cycles")),
                "cache-misses" => self.ratios.cache_miss_pct.map(|v| format!("{v:.2}% of references")),
                _ => None,
            };
            let count = match (&line.unsupported, line.scaled) {
                (Some(_), _) => "<not supported>".to_owned(),
                (None, Some(v)) => group_thousands(v.round() as u64),
                (None, None) => "<not counted>".to_owned(),
            };
            let mut text = format!("{count:>20}  {:<24}", line.name);
            if let Some(note) = note {
                text.push_str(&format!("  # {note}"));
            }
            if let Some(c) = line.coverage.filter(|&c| c < 0.999) {
                text.push_str(&format!("  ({:.1}% counted)", c * 100.0));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Counts the core counters on `target` for `duration` (or until `stop` is set) and reports.
/// Fails naming the missing PMU or counter when cycles or instructions cannot be opened.
pub fn measure(target: CountTarget, duration: Option<Duration>, stop: &AtomicBool) -> Result<CoreReport, Error> {
    let specs: Vec<CounterSpec> = CORE_COUNTERS.iter().map(|&(n, c)| CounterSpec::hardware(n, c)).collect();
    let (counting, refused) = Counting::open_available(&specs, target)?;
    let mut unsupported = Vec::new();
    for (spec, err) in refused {
        if spec.name == "cycles" || spec.name == "instructions" {
            return Err(core_pmu_check(Path::new(plumb_perf::pmu::PMU_ROOT), err));
        }
        unsupported.push((spec.name, crate::error::chain(&err)));
    }
    let before = counting.read()?;
    let start = Instant::now();
    counting.enable()?;
    while !stop.load(Ordering::Relaxed) && duration.is_none_or(|d| start.elapsed() < d) {
        let left = duration.map_or(Duration::from_millis(100), |d| d.saturating_sub(start.elapsed()));
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
    counting.disable()?;
    let seconds = start.elapsed().as_secs_f64();
    let after = counting.read()?;
    let mut lines = Vec::new();
    for &(name, _) in &CORE_COUNTERS {
        if let Some(i) = counting.specs().iter().position(|s| s.name == name) {
            let sum = |reads: &[Readings]| {
                reads.get(i).map_or(CounterReading::default(), |r| {
                    r.iter().fold(CounterReading::default(), |a, (_, b)| a.plus(b))
                })
            };
            lines.push(CounterLine::measured(name, &sum(&after).delta(&sum(&before))));
        } else if let Some((_, why)) = unsupported.iter().find(|(n, _)| n == name) {
            lines.push(CounterLine::unsupported(name, why));
        }
    }
    let target = match target {
        CountTarget::AllCpus => "all CPUs".to_owned(),
        CountTarget::Pid(pid) => format!("PID {pid}"),
    };
    Ok(CoreReport::new(target, seconds, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }

    #[test]
    fn ratios_are_absent_not_zero() {
        let line = |name: &str, v: Option<f64>| CounterLine {
            name: name.to_owned(),
            raw: None,
            scaled: v,
            coverage: None,
            unsupported: None,
        };
        let r = Ratios::from_lines(&[line("cycles", Some(0.0)), line("instructions", Some(10.0))]);
        assert_eq!((r.ipc, r.cpi), (None, Some(0.0)));
        assert_eq!(r.cache_miss_pct, None);
        let r = Ratios::from_lines(&[line("cycles", Some(4.0)), line("instructions", Some(10.0))]);
        assert_eq!((r.ipc, r.cpi), (Some(2.5), Some(0.4)));
    }
}
