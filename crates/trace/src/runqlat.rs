//! runqlat: run-queue latency (from wakeup, or from being preempted while runnable, to running)
//! as a log2 histogram kept in the kernel, printed per interval in bcc's layout or as JSON.
//!
//! Design decision: the kernel's histogram is cumulative and never cleared; each interval is
//! the difference of two reads ([`RunqSnapshot::since`]), so user space never races the BPF
//! program with a reset and no count is lost between intervals. The histogram type
//! ([`RunqHistogram`]) is plain data, unit-tested without a kernel.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plumb_bpf::{Drops, Global, Tracer, objects};
use serde_json::json;

use crate::Error;

/// Number of log2 slots in the kernel's histogram (`HIST_SLOTS` in runqlat.bpf.c).
pub const RUNQ_SLOTS: usize = 64;

/// How often the stop flag is checked while waiting for an interval to end.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// A log2 histogram of latencies in microseconds: slot `i` counts latencies in
/// `[2^i, 2^(i+1) - 1]` us, slot 0 also counts 0 us; plus the exact count and sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunqHistogram {
    /// Counts per slot ([`RUNQ_SLOTS`] of them).
    pub slots: Vec<u64>,
    /// Latencies measured (the sum of the slots, counted separately by the kernel).
    pub count: u64,
    /// Their sum in nanoseconds.
    pub sum_ns: u64,
}

impl Default for RunqHistogram {
    fn default() -> Self {
        RunqHistogram { slots: vec![0; RUNQ_SLOTS], count: 0, sum_ns: 0 }
    }
}

/// The bounds of slot `index` in microseconds, inclusive, as bcc prints them (`0 -> 1`,
/// `2 -> 3`, `4 -> 7`, ...).
pub fn runq_slot_bounds(index: usize) -> (u64, u64) {
    let shift = u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1);
    let high = 1u64.checked_shl(shift).map_or(u64::MAX, |v| v - 1);
    let low = if index == 0 { 0 } else { 1u64.checked_shl(shift - 1).unwrap_or(u64::MAX) };
    (low, high)
}

impl RunqHistogram {
    /// The mean latency in microseconds, or `None` when nothing was measured.
    pub fn mean_us(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64 / 1000.0)
    }

    /// The upper bound (us) of the slot holding the `p`-th percentile (0 < p <= 100), or
    /// `None` when nothing was measured.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        let total: u64 = self.slots.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (index, n) in self.slots.iter().enumerate() {
            seen = seen.saturating_add(*n);
            if seen >= rank {
                return Some(runq_slot_bounds(index).1);
            }
        }
        self.slots.len().checked_sub(1).map(|last| runq_slot_bounds(last).1)
    }

    /// The histogram in bcc's `print_log2_hist` layout, from slot 0 up to the last non-empty
    /// slot; empty when nothing was measured.
    pub fn render(&self) -> String {
        let Some(last) = self.slots.iter().rposition(|n| *n > 0) else {
            return String::new();
        };
        let max = self.slots.iter().copied().max().unwrap_or(0).max(1);
        let wide = last > 32;
        let (stars, width) = if wide { (20, 20) } else { (40, 10) };
        let mut text = format!(
            "{:indent$}{:<label$} : count    distribution\n",
            "",
            "usecs",
            indent = if wide { 15 } else { 5 },
            label = if wide { 29 } else { 19 }
        );
        for (index, n) in self.slots.iter().enumerate().take(last + 1) {
            let (low, high) = runq_slot_bounds(index);
            let filled = usize::try_from(n.saturating_mul(stars) / max).unwrap_or(0);
            let bar = format!("{}{}", "*".repeat(filled), " ".repeat(usize::try_from(stars).unwrap_or(0) - filled));
            text.push_str(&format!("{low:>width$} -> {high:<width$} : {n:<8} |{bar}|\n"));
        }
        text
    }

    /// The histogram as JSON: count, sum, mean and every non-empty bucket with its bounds.
    pub fn json(&self) -> serde_json::Value {
        let buckets: Vec<serde_json::Value> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(index, n)| {
                let (low, high) = runq_slot_bounds(index);
                json!({"low_us": low, "high_us": high, "count": n})
            })
            .collect();
        json!({
            "unit": "usecs",
            "count": self.count,
            "sum_ns": self.sum_ns,
            "mean_us": self.mean_us(),
            "p99_us": self.percentile_us(99.0),
            "buckets": buckets,
        })
    }
}

/// One cumulative read of the kernel's histogram and loss counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunqSnapshot {
    /// The histogram since the program was attached.
    pub histogram: RunqHistogram,
    /// Losses since the program was attached.
    pub drops: Drops,
}

impl RunqSnapshot {
    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &RunqSnapshot) -> RunqSnapshot {
        let slots = (0..RUNQ_SLOTS)
            .map(|i| {
                let now = self.histogram.slots.get(i).copied().unwrap_or(0);
                now.saturating_sub(earlier.histogram.slots.get(i).copied().unwrap_or(0))
            })
            .collect();
        RunqSnapshot {
            histogram: RunqHistogram {
                slots,
                count: self.histogram.count.saturating_sub(earlier.histogram.count),
                sum_ns: self.histogram.sum_ns.saturating_sub(earlier.histogram.sum_ns),
            },
            drops: Drops {
                ring_full: self.drops.ring_full.saturating_sub(earlier.drops.ring_full),
                table_full: self.drops.table_full.saturating_sub(earlier.drops.table_full),
            },
        }
    }
}

/// How a runqlat run prints and ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunqlatOptions {
    /// Print a histogram every this long. Default: one histogram, at the stop flag.
    pub interval: Option<Duration>,
    /// Stop after this many intervals. Default: run until the stop flag is set.
    pub count: Option<u64>,
    /// One JSON object per interval instead of a table. Default: false.
    pub json: bool,
}

/// The loaded and attached runqlat program.
#[derive(Debug)]
pub struct Runqlat {
    tracer: Tracer,
}

/// Starts runqlat: `tp_btf` programs on sched_wakeup, sched_wakeup_new and sched_switch.
/// `pid` (a process id, all its threads) filters in the kernel.
pub fn runqlat(pid: Option<u32>) -> Result<Runqlat, Error> {
    runqlat_named(pid, None)
}

/// [`runqlat`], also keeping only threads whose name contains `comm` (in the kernel; a thread
/// name has at most 15 bytes, so only the first 15 of `comm` are compared).
pub fn runqlat_named(pid: Option<u32>, comm: Option<&str>) -> Result<Runqlat, Error> {
    let words = comm_words(comm.unwrap_or(""));
    let globals = [
        ("targ_tgid", Global::U32(pid.unwrap_or(0))),
        ("targ_comm0", Global::U32(words[0])),
        ("targ_comm1", Global::U32(words[1])),
        ("targ_comm2", Global::U32(words[2])),
        ("targ_comm3", Global::U32(words[3])),
    ];
    let tracer = plumb_bpf::load(&objects::RUNQLAT, &globals)?;
    Ok(Runqlat { tracer })
}

/// A name pattern as runqlat.bpf.c's (and iolatency.bpf.c's) `targ_comm0..3`: its first 15
/// bytes, NUL-padded to 16, as four native-endian words.
pub(crate) fn comm_words(comm: &str) -> [u32; 4] {
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(comm.bytes().take(15)) {
        *slot = byte;
    }
    let mut words = [0u32; 4];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_ne_bytes(chunk.try_into().unwrap_or([0; 4]));
    }
    words
}

impl Runqlat {
    /// Reads the kernel's cumulative histogram, totals and loss counters.
    pub fn snapshot(&self) -> Result<RunqSnapshot, Error> {
        let slots = self.tracer.percpu_array_sums("hist")?;
        let totals = self.tracer.percpu_array_sums("totals")?;
        // The count is the slots' sum, so the buckets always add up to it; the kernel's own
        // count (totals slot 0) and the sum may include the few latencies recorded while the
        // 64 slots were being read, which skews the mean by that few at most.
        let count = slots.iter().fold(0u64, |sum, n| sum.saturating_add(*n));
        let histogram = RunqHistogram { slots, count, sum_ns: totals.get(1).copied().unwrap_or(0) };
        Ok(RunqSnapshot { histogram, drops: self.tracer.drops()? })
    }

    /// Prints one histogram per interval (or one at the stop flag when there is no interval)
    /// until `options.count` intervals or the stop flag; an interval cut short by the stop flag
    /// is printed too. Returns the total losses.
    pub fn run(&self, options: &RunqlatOptions, stop: &AtomicBool, out: &mut dyn Write) -> Result<Drops, Error> {
        let first = self.snapshot()?;
        let mut previous = first.clone();
        let mut printed = 0u64;
        loop {
            let deadline = options.interval.map(|d| Instant::now() + d);
            while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
                let left = deadline.map_or(STOP_CHECK, |d| d.saturating_duration_since(Instant::now()));
                std::thread::sleep(left.min(STOP_CHECK));
            }
            let now = self.snapshot()?;
            let interval = now.since(&previous);
            print_interval(&interval, options.json, out)?;
            previous = now;
            printed += 1;
            if stop.load(Ordering::Relaxed) || options.count.is_some_and(|c| printed >= c) {
                break;
            }
        }
        Ok(previous.since(&first).drops)
    }
}

fn print_interval(interval: &RunqSnapshot, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let h = &interval.histogram;
    let written = if json {
        let mut value = h.json();
        value["lost"] = json!(interval.drops.total());
        writeln!(out, "{value}")
    } else if h.count == 0 {
        writeln!(out, "(no run-queue latency measured)\n")
    } else {
        let lost = interval.drops.total();
        let note = if lost > 0 { format!(", {lost} lost (start table full)") } else { String::new() };
        let mean = h.mean_us().unwrap_or(0.0);
        writeln!(out, "{}\n{} latencies, mean {mean:.1} usecs{note}\n", h.render(), h.count)
    };
    written.and_then(|()| out.flush()).map_err(Error::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_pattern_becomes_four_nul_padded_words() {
        let words = comm_words("stress-ng-cpu-worker");
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        assert_eq!(&bytes[..15], b"stress-ng-cpu-w");
        assert_eq!(bytes[15], 0);
        assert_eq!(comm_words(""), [0; 4]);
        assert_ne!(comm_words("a")[0], 0);
    }

    fn histogram(pairs: &[(usize, u64)]) -> RunqHistogram {
        let mut h = RunqHistogram::default();
        for (index, n) in pairs {
            h.slots[*index] = *n;
            h.count += n;
        }
        h
    }

    #[test]
    fn slot_bounds_are_bccs() {
        assert_eq!(runq_slot_bounds(0), (0, 1));
        assert_eq!(runq_slot_bounds(1), (2, 3));
        assert_eq!(runq_slot_bounds(2), (4, 7));
        assert_eq!(runq_slot_bounds(10), (1024, 2047));
        assert_eq!(runq_slot_bounds(63), (1 << 63, u64::MAX));
    }

    #[test]
    fn renders_in_bccs_layout() {
        let h = histogram(&[(0, 2), (2, 8), (3, 4)]);
        let expected = "     usecs               : count    distribution\n\
                        \x20        0 -> 1          : 2        |**********                              |\n\
                        \x20        2 -> 3          : 0        |                                        |\n\
                        \x20        4 -> 7          : 8        |****************************************|\n\
                        \x20        8 -> 15         : 4        |********************                    |\n";
        assert_eq!(h.render(), expected);
        assert_eq!(RunqHistogram::default().render(), "");
    }

    #[test]
    fn percentiles_and_mean() {
        let mut h = histogram(&[(1, 90), (10, 10)]);
        h.sum_ns = 100 * 5000;
        assert_eq!(h.percentile_us(50.0), Some(3));
        assert_eq!(h.percentile_us(95.0), Some(2047));
        assert_eq!(h.mean_us(), Some(5.0));
        assert_eq!(RunqHistogram::default().percentile_us(99.0), None);
    }

    #[test]
    fn an_interval_is_the_difference_of_two_snapshots() {
        let earlier = RunqSnapshot { histogram: histogram(&[(1, 3)]), drops: Drops { ring_full: 0, table_full: 1 } };
        let later =
            RunqSnapshot { histogram: histogram(&[(1, 5), (4, 2)]), drops: Drops { ring_full: 0, table_full: 4 } };
        let diff = later.since(&earlier);
        assert_eq!(diff.histogram.slots[1], 2);
        assert_eq!(diff.histogram.slots[4], 2);
        assert_eq!(diff.histogram.count, 4);
        assert_eq!(diff.drops.table_full, 3);
        let json = diff.histogram.json();
        assert_eq!(json["buckets"][1], json!({"low_us": 16, "high_us": 31, "count": 2}));
    }
}
