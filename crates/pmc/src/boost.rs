//! `plumb showboost`: the real clock rate of each CPU, as Brendan Gregg's showboost computes it
//! from the APERF and MPERF model-specific registers, read here through the perf `msr` PMU.
//!
//! MPERF counts at the TSC's fixed rate and APERF at the actual rate, both only while the CPU is
//! in C0 (not halted). Over an interval: MHz = TSC rate × ΔAPERF / ΔMPERF, the share of time
//! busy is ΔMPERF / ΔTSC, and the ratio ΔAPERF / ΔMPERF above 100% is turbo boost.
//!
//! Design decision: the TSC rate is measured (ΔTSC over the interval from the same PMU), not taken
//! from the model name as showboost does, so the figure needs no table of base clocks.

use std::path::Path;

use plumb_perf::{CountTarget, CounterReading, Counting};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::probe::msr_counters;

/// The msr PMU events showboost needs, in the order of [`MsrCounts`].
pub const BOOST_EVENTS: [&str; 3] = ["tsc", "aperf", "mperf"];

/// The three counters of one CPU (or their sum over CPUs), as raw values or deltas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsrCounts {
    /// TSC ticks.
    pub tsc: u64,
    /// Actual cycles in C0 (APERF).
    pub aperf: u64,
    /// Reference cycles in C0, at the TSC rate (MPERF).
    pub mperf: u64,
}

impl MsrCounts {
    /// Field-wise difference (0 where a counter went backwards).
    pub fn delta(&self, earlier: &MsrCounts) -> MsrCounts {
        MsrCounts {
            tsc: self.tsc.saturating_sub(earlier.tsc),
            aperf: self.aperf.saturating_sub(earlier.aperf),
            mperf: self.mperf.saturating_sub(earlier.mperf),
        }
    }

    fn plus(&self, other: &MsrCounts) -> MsrCounts {
        MsrCounts {
            tsc: self.tsc.saturating_add(other.tsc),
            aperf: self.aperf.saturating_add(other.aperf),
            mperf: self.mperf.saturating_add(other.mperf),
        }
    }
}

/// One line of showboost: a CPU (or all, `cpu` None) over one interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostLine {
    /// The CPU, or None for the sum over CPUs.
    pub cpu: Option<u32>,
    /// Reference cycles in C0 (ΔMPERF), showboost's C0_MCYC.
    pub c0_mcyc: u64,
    /// Actual cycles in C0 (ΔAPERF), showboost's C0_ACYC.
    pub c0_acyc: u64,
    /// Time not halted, percent: ΔMPERF / ΔTSC. None when ΔTSC is 0.
    pub util_pct: Option<f64>,
    /// ΔAPERF / ΔMPERF in percent; above 100 is turbo. None when the CPU never left halt.
    pub ratio_pct: Option<f64>,
    /// The average clock while busy, MHz: TSC rate × ΔAPERF / ΔMPERF.
    pub mhz: Option<f64>,
}

impl BoostLine {
    /// Computes a line from the deltas of `cpus` CPUs (1 for one CPU) over `seconds`.
    pub fn from_delta(cpu: Option<u32>, delta: &MsrCounts, cpus: u32, seconds: f64) -> BoostLine {
        let ratio = (delta.mperf > 0).then(|| delta.aperf as f64 / delta.mperf as f64);
        let tsc_hz = (seconds > 0.0 && cpus > 0).then(|| delta.tsc as f64 / f64::from(cpus) / seconds);
        BoostLine {
            cpu,
            c0_mcyc: delta.mperf,
            c0_acyc: delta.aperf,
            util_pct: (delta.tsc > 0).then(|| delta.mperf as f64 / delta.tsc as f64 * 100.0),
            ratio_pct: ratio.map(|r| r * 100.0),
            mhz: ratio.zip(tsc_hz).map(|(r, hz)| hz * r / 1e6),
        }
    }
}

/// Lines for one interval: the sum over CPUs first, then each CPU.
pub fn interval_lines(deltas: &[(u32, MsrCounts)], seconds: f64) -> Vec<BoostLine> {
    let total = deltas.iter().fold(MsrCounts::default(), |acc, (_, d)| acc.plus(d));
    let cpus = u32::try_from(deltas.len()).unwrap_or(u32::MAX);
    std::iter::once(BoostLine::from_delta(None, &total, cpus, seconds))
        .chain(deltas.iter().map(|(cpu, d)| BoostLine::from_delta(Some(*cpu), d, 1, seconds)))
        .collect()
}

/// The header of [`table_row`], as showboost prints it.
pub const TABLE_HEADER: &str = "TIME      CPU          C0_MCYC          C0_ACYC   UTIL  RATIO      MHz";

/// One table row: `time` is the caller's clock label.
pub fn table_row(time: &str, line: &BoostLine) -> String {
    let cpu = line.cpu.map_or("all".to_owned(), |c| c.to_string());
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}%"));
    let mhz = line.mhz.map_or("-".to_owned(), |v| format!("{v:.0}"));
    format!(
        "{time:<9} {cpu:>3} {:>16} {:>16} {:>6} {:>6} {mhz:>8}",
        line.c0_mcyc,
        line.c0_acyc,
        pct(line.util_pct),
        pct(line.ratio_pct)
    )
}

/// The open tsc/aperf/mperf counters of every CPU.
#[derive(Debug)]
pub struct Boost {
    counting: Counting,
    last: Vec<(u32, MsrCounts)>,
}

impl Boost {
    /// Opens the msr PMU's tsc, aperf and mperf on every CPU, reading the PMU description under
    /// `root`; fails naming the missing PMU or event.
    pub fn open(root: &Path) -> Result<Boost, Error> {
        let specs = msr_counters(root, &BOOST_EVENTS)?;
        let counting = Counting::open(&specs, CountTarget::AllCpus)?;
        counting.enable()?;
        let last = read_counts(&counting)?;
        Ok(Boost { counting, last })
    }

    /// Per-CPU deltas since the previous call (or since opening).
    pub fn deltas(&mut self) -> Result<Vec<(u32, MsrCounts)>, Error> {
        let now = read_counts(&self.counting)?;
        let out = now
            .iter()
            .map(|(cpu, c)| {
                let before = self.last.iter().find(|(p, _)| p == cpu).map_or(MsrCounts::default(), |(_, b)| *b);
                (*cpu, c.delta(&before))
            })
            .collect();
        self.last = now;
        Ok(out)
    }
}

fn read_counts(counting: &Counting) -> Result<Vec<(u32, MsrCounts)>, Error> {
    let reads = counting.read()?;
    let column = |i: usize| reads.get(i).cloned().unwrap_or_default();
    let (tsc, aperf, mperf) = (column(0), column(1), column(2));
    let value = |col: &[(Option<u32>, CounterReading)], cpu: Option<u32>| {
        col.iter().find(|(c, _)| *c == cpu).map_or(0, |(_, r)| r.value)
    };
    Ok(tsc
        .iter()
        .filter_map(|(cpu, r)| {
            let id = (*cpu)?;
            Some((id, MsrCounts { tsc: r.value, aperf: value(&aperf, *cpu), mperf: value(&mperf, *cpu) }))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turbo_over_a_2500_mhz_tsc() {
        // One CPU, one second: TSC 2.5e9, busy 40% of it, 116% ratio: 2900 MHz.
        let d = MsrCounts { tsc: 2_500_000_000, mperf: 1_000_000_000, aperf: 1_160_000_000 };
        let line = BoostLine::from_delta(Some(3), &d, 1, 1.0);
        assert_eq!(line.util_pct, Some(40.0));
        assert!((line.ratio_pct.unwrap() - 116.0).abs() < 1e-9);
        assert!((line.mhz.unwrap() - 2900.0).abs() < 1e-6);
    }

    #[test]
    fn an_idle_cpu_has_no_clock() {
        let d = MsrCounts { tsc: 2_500_000_000, mperf: 0, aperf: 0 };
        let line = BoostLine::from_delta(Some(0), &d, 1, 1.0);
        assert_eq!((line.util_pct, line.ratio_pct, line.mhz), (Some(0.0), None, None));
        assert_eq!(BoostLine::from_delta(None, &MsrCounts::default(), 0, 0.0).util_pct, None);
    }

    #[test]
    fn deltas_never_go_negative() {
        let a = MsrCounts { tsc: 10, aperf: 5, mperf: 5 };
        let b = MsrCounts { tsc: 20, aperf: 4, mperf: 9 };
        assert_eq!(b.delta(&a), MsrCounts { tsc: 10, aperf: 0, mperf: 4 });
    }
}
