//! iolatency: block I/O latency histograms per interval, counted in the kernel, printed in
//! perf-tools' layout (`>=(ms) .. <(ms)   : I/O      |Distribution|`) or as JSON.
//!
//! Design decision: the kernel's histogram (`hist` in iolatency.bpf.c) is cumulative and never
//! cleared; an interval is the difference of two reads ([`IoHistogram::since`]), so no
//! completion falls between a read and a reset. Its slots are log2 microseconds below 1 ms and
//! log2 milliseconds from 1 ms on, so the millisecond rows are exactly perf-tools' (`1 -> 2`,
//! `2 -> 4`, ...) while fast devices still get sub-millisecond detail.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plumb_bpf::{Drops, Global, Tracer, objects};
use serde_json::json;

use crate::Error;
use crate::block::BlockDev;
use crate::runqlat::comm_words;
use crate::time::{json_time, line_time};

/// Number of slots in the kernel's histogram (`HIST_SLOTS` in iolatency.bpf.c).
pub const IO_SLOTS: usize = 40;
/// Slots below 1 ms (`SUB_MS_SLOTS` in iolatency.bpf.c): slot 0 is below 1 us, slots 1..=10
/// are log2 microseconds, the last ending at 1000 us.
const SUB_MS_SLOTS: usize = 11;
/// Width of the distribution bar, as in perf-tools.
const BAR_WIDTH: usize = 38;
/// How often the stop flag is checked while an interval runs: 10 wake-ups a second, so an idle
/// run costs almost nothing (at 10 ms it was 100 wake-ups, about 3 ms of CPU a second) and Ctrl-C
/// still stops within a tenth of a second.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// The bounds of slot `index` in microseconds: inclusive low, exclusive high (`None` for the
/// last slot, which also holds everything longer).
pub fn io_slot_bounds_us(index: usize) -> (u64, Option<u64>) {
    let pow = |exp: usize| 1u64.checked_shl(u32::try_from(exp).unwrap_or(u32::MAX)).unwrap_or(u64::MAX);
    let (low, high) = match index {
        0 => (0, 1),
        1..SUB_MS_SLOTS => (pow(index - 1), pow(index).min(1000)),
        _ => {
            let j = index - SUB_MS_SLOTS;
            (pow(j).saturating_mul(1000), pow(j + 1).saturating_mul(1000))
        }
    };
    (low, (index + 1 < IO_SLOTS).then_some(high))
}

/// Microseconds as milliseconds, without trailing zeros (`0.512`, `1`, `16`).
fn ms_text(us: u64) -> String {
    if us.is_multiple_of(1000) {
        return (us / 1000).to_string();
    }
    let text = format!("{}.{:03}", us / 1000, us % 1000);
    text.trim_end_matches('0').to_string()
}

/// A latency histogram: counts per slot (see [`io_slot_bounds_us`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoHistogram {
    /// Counts by slot; shorter than [`IO_SLOTS`] only if the kernel's map was.
    pub slots: Vec<u64>,
}

impl IoHistogram {
    /// The number of I/Os counted.
    pub fn total(&self) -> u64 {
        self.slots.iter().fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// What was counted after `earlier` (a previous read of the same cumulative histogram).
    pub fn since(&self, earlier: &IoHistogram) -> IoHistogram {
        let slots = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, n)| n.saturating_sub(earlier.slots.get(i).copied().unwrap_or(0)))
            .collect();
        IoHistogram { slots }
    }

    /// The slots from the first to the last non-empty one (none when empty).
    fn shown(&self) -> std::ops::Range<usize> {
        let first = self.slots.iter().position(|n| *n > 0);
        let last = self.slots.iter().rposition(|n| *n > 0);
        match (first, last) {
            (Some(first), Some(last)) => first..last + 1,
            _ => 0..0,
        }
    }

    /// The histogram in perf-tools' layout: a header and one row per slot from the first to
    /// the last non-empty one (`(no I/O)` when there is none).
    pub fn render(&self) -> String {
        let mut text = format!("{:>9} .. {:<9}: {:<8} |{:<BAR_WIDTH$}|\n", ">=(ms)", "<(ms)", "I/O", "Distribution");
        let range = self.shown();
        if range.is_empty() {
            text.push_str("  (no I/O)\n");
            return text;
        }
        let max = self.slots.iter().copied().max().unwrap_or(0).max(1);
        for (index, count) in self.slots.iter().enumerate().take(range.end).skip(range.start) {
            let (low, high) = io_slot_bounds_us(index);
            let high = high.map_or_else(|| "inf".to_string(), ms_text);
            let mut width = usize::try_from(count.saturating_mul(BAR_WIDTH as u64) / max).unwrap_or(BAR_WIDTH);
            if *count > 0 && width == 0 {
                width = 1;
            }
            let bar = "#".repeat(width);
            text.push_str(&format!("{:>9} -> {:<9}: {:<8} |{:<BAR_WIDTH$}|\n", ms_text(low), high, count, bar));
        }
        text
    }

    /// The shown slots (as [`IoHistogram::render`]) as JSON objects with their bounds.
    pub fn json_buckets(&self) -> serde_json::Value {
        let buckets: Vec<serde_json::Value> = self
            .shown()
            .map(|index| {
                let (low, high) = io_slot_bounds_us(index);
                json!({
                    "low_ms": low as f64 / 1000.0,
                    "high_ms": high.map(|h| h as f64 / 1000.0),
                    "low_us": low,
                    "high_us": high,
                    "count": self.slots.get(index).copied().unwrap_or(0),
                })
            })
            .collect();
        serde_json::Value::Array(buckets)
    }
}

/// Which I/O iolatency measures; `Default` is every device and process, from issue to
/// completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IolatencyOptions {
    /// Only this device. Default: every device.
    pub device: Option<BlockDev>,
    /// Include the time queued in the I/O scheduler (from block_rq_insert). Default: false,
    /// from block_rq_issue (the device's own time).
    pub queued: bool,
    /// Only I/O issued (or, with `queued`, inserted) while this process was current. Default: any.
    pub pid: Option<u32>,
    /// Only I/O issued (or inserted) while a thread whose name contains this was current; at
    /// most the first 15 bytes are compared (a thread name's length). Default: any.
    pub comm: Option<String>,
}

/// How an iolatency run prints and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalOptions {
    /// The length of one interval. Default: 1 s (perf-tools' default).
    pub interval: Duration,
    /// Stop after this many intervals. Default: at the stop flag.
    pub count: Option<u64>,
    /// One JSON object per interval, then a summary object. Default: false.
    pub json: bool,
}

impl Default for IntervalOptions {
    fn default() -> Self {
        IntervalOptions { interval: Duration::from_secs(1), count: None, json: false }
    }
}

/// What a run counted in all and lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IolatencySummary {
    /// Intervals printed.
    pub intervals: u64,
    /// I/Os counted over the whole run.
    pub total: u64,
    /// I/Os not measured because the in-flight table was full.
    pub drops: Drops,
}

impl std::fmt::Display for IolatencySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "iolatency: {} I/Os in {} intervals, {} lost (in-flight table full: {})",
            self.total,
            self.intervals,
            self.drops.total(),
            self.drops.table_full
        )
    }
}

/// The loaded and attached iolatency program.
#[derive(Debug)]
pub struct Iolatency {
    tracer: Tracer,
    /// When the programs were attached: the kernel's counts start there, and so does the first
    /// interval (a caller that prints a banner before [`Iolatency::run`] loses nothing).
    attached: Instant,
}

/// Starts iolatency: block_rq_insert, block_rq_issue and block_rq_complete. The device, pid
/// and name filters run in the kernel, on the process current at insert/issue (as iosnoop
/// reports it).
pub fn iolatency(options: &IolatencyOptions) -> Result<Iolatency, Error> {
    let words = comm_words(options.comm.as_deref().unwrap_or(""));
    let globals = [
        ("targ_tgid", Global::U32(options.pid.unwrap_or(0))),
        ("targ_dev", Global::U32(options.device.map_or(0, BlockDev::to_kernel))),
        ("targ_queued", Global::U8(u8::from(options.queued))),
        ("targ_comm0", Global::U32(words[0])),
        ("targ_comm1", Global::U32(words[1])),
        ("targ_comm2", Global::U32(words[2])),
        ("targ_comm3", Global::U32(words[3])),
    ];
    let tracer = plumb_bpf::load(&objects::IOLATENCY, &globals)?;
    Ok(Iolatency { tracer, attached: Instant::now() })
}

fn unix_now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

impl Iolatency {
    /// The kernel's cumulative histogram now.
    pub fn snapshot(&self) -> Result<IoHistogram, Error> {
        Ok(IoHistogram { slots: self.tracer.percpu_array_sums("hist")? })
    }

    /// Losses so far (I/Os not timed because the in-flight table was full).
    pub fn drops(&self) -> Result<Drops, Error> {
        Ok(self.tracer.drops()?)
    }

    /// Prints one histogram per interval until `options.count` intervals or `stop` (the interval
    /// under way is printed, with its real length), then the summary when `--json`. The first
    /// interval starts when the programs were attached.
    pub fn run(
        &self,
        options: &IntervalOptions,
        stop: &AtomicBool,
        out: &mut dyn Write,
    ) -> Result<IolatencySummary, Error> {
        let mut summary = IolatencySummary::default();
        // The kernel's map was all zeros when attached.
        let mut previous = IoHistogram::default();
        let mut started = self.attached;
        loop {
            let end = started + options.interval;
            while Instant::now() < end && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(STOP_CHECK.min(end.saturating_duration_since(Instant::now())));
            }
            let now = self.snapshot()?;
            let interval = now.since(&previous);
            previous = now;
            summary.intervals += 1;
            summary.total = summary.total.saturating_add(interval.total());
            let (unix_ns, seconds) = (unix_now_ns(), started.elapsed().as_secs_f64());
            started = Instant::now();
            let written = if options.json {
                let j = json!({
                    "time": json_time(unix_ns),
                    "interval_s": seconds,
                    "total": interval.total(),
                    "buckets": interval.json_buckets(),
                });
                writeln!(out, "{j}")
            } else {
                writeln!(
                    out,
                    "\n{}  {} I/Os in {seconds:.3} s\n{}",
                    line_time(unix_ns),
                    interval.total(),
                    interval.render()
                )
                .map(|()| ())
            };
            written.and_then(|()| out.flush()).map_err(Error::Output)?;
            if stop.load(Ordering::Relaxed) || options.count.is_some_and(|c| summary.intervals >= c) {
                break;
            }
        }
        summary.drops = self.tracer.drops()?;
        if options.json {
            let j = json!({"summary": {
                "tool": "iolatency",
                "intervals": summary.intervals,
                "total": summary.total,
                "lost": summary.drops.total(),
                "lost_table_full": summary.drops.table_full,
            }});
            writeln!(out, "{j}").and_then(|()| out.flush()).map_err(Error::Output)?;
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn slots_are_log2_microseconds_then_perf_tools_milliseconds() {
        assert_eq!(io_slot_bounds_us(0), (0, Some(1)));
        assert_eq!(io_slot_bounds_us(1), (1, Some(2)));
        assert_eq!(io_slot_bounds_us(10), (512, Some(1000)));
        assert_eq!(io_slot_bounds_us(11), (1000, Some(2000)));
        assert_eq!(io_slot_bounds_us(12), (2000, Some(4000)));
        assert_eq!(io_slot_bounds_us(IO_SLOTS - 1).1, None);
        for index in 1..IO_SLOTS - 1 {
            assert_eq!(io_slot_bounds_us(index).0, io_slot_bounds_us(index - 1).1.unwrap(), "slot {index}");
        }
    }

    #[test]
    fn renders_perf_tools_layout_from_first_to_last_nonempty_slot() {
        let mut slots = vec![0; IO_SLOTS];
        slots[9] = 19; // 256..512 us
        slots[11] = 38; // 1..2 ms
        let text = IoHistogram { slots }.render();
        let expected = "   >=(ms) .. <(ms)    : I/O      |Distribution                          |\n    \
                        0.256 -> 0.512    : 19       |###################                   |\n    \
                        0.512 -> 1        : 0        |                                      |\n        \
                        1 -> 2        : 38       |######################################|\n";
        assert_eq!(text, expected);
        assert_eq!(IoHistogram { slots: vec![0; IO_SLOTS] }.render().lines().nth(1), Some("  (no I/O)"));
    }

    #[test]
    fn json_buckets_carry_bounds_and_counts() {
        let mut slots = vec![0; IO_SLOTS];
        slots[12] = 3;
        let j = IoHistogram { slots }.json_buckets();
        assert_eq!(j, json!([{"low_ms": 2.0, "high_ms": 4.0, "low_us": 2000, "high_us": 4000, "count": 3}]));
    }

    #[test]
    fn an_interval_is_the_difference_of_two_reads() {
        let earlier = IoHistogram { slots: vec![1, 5, 0] };
        let later = IoHistogram { slots: vec![4, 5, 2, 7] };
        assert_eq!(later.since(&earlier).slots, vec![3, 0, 2, 7]);
        assert_eq!(later.since(&earlier).total(), 12);
    }

    proptest! {
        #[test]
        fn since_never_underflows_and_totals_add_up(
            a in proptest::collection::vec(0u64..1000, 0..40),
            extra in proptest::collection::vec(0u64..1000, 0..40),
        ) {
            let later: Vec<u64> = a.iter().enumerate().map(|(i, n)| n + extra.get(i).copied().unwrap_or(0)).collect();
            let diff = IoHistogram { slots: later.clone() }.since(&IoHistogram { slots: a.clone() });
            let extra_total: u64 = extra.iter().take(a.len()).sum();
            prop_assert_eq!(diff.total(), extra_total);
            let backwards = IoHistogram { slots: a }.since(&IoHistogram { slots: later });
            prop_assert_eq!(backwards.total(), 0);
        }

        #[test]
        fn render_has_one_row_per_shown_slot(slots in proptest::collection::vec(0u64..100, IO_SLOTS)) {
            let h = IoHistogram { slots };
            let rows = h.render().lines().count() - 1;
            let shown = h.shown().len();
            prop_assert_eq!(rows, shown.max(1));
        }
    }
}
