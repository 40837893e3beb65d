//! `/proc/PID/stat` and `/proc/PID/io`: the busiest processes, as `pidstat -u -r -d` shows them.
//!
//! Each cycle lists the numeric directories of /proc, reads every process's `stat` and ranks the
//! processes by CPU time over the interval; only the top N (ties to the lower pid) that used any
//! CPU in the interval are emitted (idle ones are hidden, as pidstat does),
//! and only those have their `io` read. A process needs two readings with the same start time
//! before it has rates, so nothing is emitted on the first cycle, and a pid reused by a new
//! process starts over. I/O rates need two consecutive cycles in the top N: a process entering
//! the top N shows CPU and memory at once and its I/O from the next cycle on.
//!
//! Processes come and go while they are read: one whose `stat` is gone between the listing and
//! the read, or whose `io` cannot be read (another user's process without root, a kernel thread),
//! is skipped and counted in [`ProcCounts`], never an error of the cycle.
//!
//! The parsers ([`parse_stat`], [`parse_io`]) live in `procs/parse.rs`. They are hand-written
//! rather than `procfs_core::process::{Stat, Io}`, see there for why.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use plumb_model::{MetricDef, Sample, Unit};

use crate::collector::DEFAULT_TOP_PROCESSES;
use crate::{CollectError, FsRoot, rate};

use super::Source;
use super::sysconf::{open_files_limit, page_size, ticks_per_second};

/// At most this many `stat` files are kept open between cycles (and at most a quarter of the
/// open-files limit).
const MAX_KEPT_OPEN: u64 = 4096;

mod parse;

pub use parse::{IoBytes, ProcStat, parse_io, parse_stat};

const STAT: &str = "/proc/PID/stat";
const IO: &str = "/proc/PID/io";
const TAGS: &[&str] = &["pid", "comm"];

/// What this source emits, for the top N processes by `proc.cpu`, tagged `pid` and `comm`.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "proc.cpu", unit: Unit::Percent, tags: TAGS, source: STAT, help: "CPU time in user and kernel mode over the interval, above 100 when several threads run (pidstat -u %CPU)." },
    MetricDef { name: "proc.cpu_user", unit: Unit::Percent, tags: TAGS, source: STAT, help: "CPU time in user mode, guest time excluded (pidstat -u %usr)." },
    MetricDef { name: "proc.cpu_system", unit: Unit::Percent, tags: TAGS, source: STAT, help: "CPU time in the kernel on the process's behalf (pidstat -u %system)." },
    MetricDef { name: "proc.rss", unit: Unit::Bytes, tags: TAGS, source: STAT, help: "Resident set size, in bytes where pidstat shows kB (pidstat -r RSS)." },
    MetricDef { name: "proc.minor_faults", unit: Unit::PerSecond, tags: TAGS, source: STAT, help: "Page faults served without reading from disk (pidstat -r minflt/s)." },
    MetricDef { name: "proc.major_faults", unit: Unit::PerSecond, tags: TAGS, source: STAT, help: "Page faults that read a page from disk (pidstat -r majflt/s)." },
    MetricDef { name: "proc.read_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: IO, help: "Data the process caused to be read from storage, left out when its io file is unreadable (pidstat -d kB_rd/s)." },
    MetricDef { name: "proc.write_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: IO, help: "Data the process caused to be written to storage, left out when its io file is unreadable (pidstat -d kB_wr/s)." },
    MetricDef { name: "proc.threads", unit: Unit::Count, tags: TAGS, source: STAT, help: "Threads in the process now (pidstat -v threads)." },
];

/// What the source skipped since it started; each is normal in small numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcCounts {
    /// Processes listed in /proc whose `stat` was gone or unreadable when read: they exited.
    pub vanished: u64,
    /// Top-N processes whose `io` could not be read or parsed (not root, kernel thread, exited).
    pub io_unavailable: u64,
    /// Pids seen again with a different start time: a new process, without rates that cycle.
    pub reused: u64,
    /// `stat` files that did not parse; the process is skipped.
    pub unparsable: u64,
}

/// The counters of /proc/PID/stat that become rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counters {
    utime: u64,
    stime: u64,
    guest_time: u64,
    minflt: u64,
    majflt: u64,
}

impl Counters {
    fn of(s: &ProcStat<'_>) -> Self {
        Counters { utime: s.utime, stime: s.stime, guest_time: s.guest_time, minflt: s.minflt, majflt: s.majflt }
    }

    /// The increase of each counter up to `cur`; a counter that went backwards counts 0.
    fn delta_to(&self, cur: &Counters) -> Counters {
        let d = crate::counter_delta;
        Counters {
            utime: d(self.utime, cur.utime),
            stime: d(self.stime, cur.stime),
            guest_time: d(self.guest_time, cur.guest_time),
            minflt: d(self.minflt, cur.minflt),
            majflt: d(self.majflt, cur.majflt),
        }
    }

    /// CPU ticks in user and kernel mode (guest time is inside utime), what pidstat's %CPU counts.
    fn cpu_ticks(&self) -> u64 {
        self.utime.saturating_add(self.stime)
    }
}

/// The last reading of one process.
#[derive(Debug)]
struct Tracked {
    starttime: u64,
    counters: Counters,
    /// The increase since the previous reading; meaningful when `has_delta`.
    delta: Counters,
    has_delta: bool,
    threads: u64,
    rss_pages: u64,
    comm: String,
    /// The cycle of the last reading; older entries belong to exited processes.
    seen: u64,
    /// The last `io` reading and its cycle, kept only while the process stays in the top N.
    io: Option<(u64, IoBytes)>,
    /// `/proc/PID/stat` kept open and re-read at offset 0 each cycle (see [`StatFiles`]).
    stat_file: Option<File>,
}

impl Tracked {
    fn new(s: &ProcStat<'_>, seen: u64) -> Self {
        Tracked {
            starttime: s.starttime,
            counters: Counters::of(s),
            delta: Counters::default(),
            has_delta: false,
            threads: s.num_threads,
            rss_pages: s.rss_pages,
            comm: String::from_utf8_lossy(s.comm).into_owned(),
            seen,
            io: None,
            stat_file: None,
        }
    }

    /// Takes a new reading of the same process.
    fn update(&mut self, s: &ProcStat<'_>, seen: u64) {
        let cur = Counters::of(s);
        self.delta = self.counters.delta_to(&cur);
        self.has_delta = true;
        self.counters = cur;
        self.threads = s.num_threads;
        self.rss_pages = s.rss_pages;
        self.seen = seen;
        if self.comm.as_bytes() != s.comm {
            self.comm.clear();
            self.comm.push_str(&String::from_utf8_lossy(s.comm));
        }
    }
}

/// Reads /proc/PID/stat of every process each cycle, and /proc/PID/io of the top N.
pub struct ProcsSource {
    top: usize,
    ticks_per_second: f64,
    page_size: f64,
    /// Cycles run so far; the current one while collecting.
    cycle: u64,
    tracked: HashMap<u32, Tracked>,
    /// This cycle's (cpu ticks, pid) of processes with a delta; the top N after ranking.
    ranked: Vec<(u64, u32)>,
    buf: Vec<u8>,
    path: PathBuf,
    counts: ProcCounts,
    files: StatFiles,
}

/// Keeping each process's `stat` open between cycles and re-reading it with one `pread` at
/// offset 0 (which makes the kernel's seq_file produce it afresh) saves the path walk, open,
/// fstat and close of every file every cycle: about half of this source's cost. The number kept
/// open is bounded well below the open-files limit; processes past it are opened each cycle.
#[derive(Debug, Default)]
struct StatFiles {
    /// The /proc directory the files belong to; another one (a replayed tree) drops them all.
    dir: PathBuf,
    open: usize,
    max: usize,
}

impl Default for ProcsSource {
    /// Keeps [`DEFAULT_TOP_PROCESSES`] processes.
    fn default() -> Self {
        Self::new(DEFAULT_TOP_PROCESSES)
    }
}

impl ProcsSource {
    /// Keeps the `top` busiest processes.
    pub fn new(top: usize) -> Self {
        Self::with_constants(top, ticks_per_second(), page_size())
    }

    /// As [`ProcsSource::new`] with the clock tick rate and page size given, for captured trees.
    fn with_constants(top: usize, ticks_per_second: u64, page_size: u64) -> Self {
        ProcsSource {
            top,
            ticks_per_second: ticks_per_second.max(1) as f64,
            page_size: page_size as f64,
            cycle: 0,
            tracked: HashMap::new(),
            ranked: Vec::new(),
            buf: vec![0; 1024],
            path: PathBuf::new(),
            counts: ProcCounts::default(),
            files: StatFiles { max: (open_files_limit() / 4).clamp(0, MAX_KEPT_OPEN) as usize, ..Default::default() },
        }
    }

    /// What was skipped since the source started.
    pub fn counts(&self) -> ProcCounts {
        self.counts
    }

    /// Reads the stat of every process under `proc_dir`, updating `tracked` and filling `ranked`
    /// with the processes that have a delta. Returns how many stat files parsed and the first
    /// parse error.
    fn scan(&mut self, proc_dir: &Path) -> Result<(usize, Option<CollectError>), CollectError> {
        let dir = std::fs::read_dir(proc_dir).map_err(|e| io_error(proc_dir, e))?;
        if self.files.dir != proc_dir {
            self.tracked.values_mut().for_each(|t| t.stat_file = None);
            self.files.open = 0;
            self.files.dir = proc_dir.to_path_buf();
        }
        let cycle = self.cycle;
        let mut parsed = 0;
        let mut first_error = None;
        self.ranked.clear();
        for entry in dir {
            // A failing readdir entry is a process that went away while listing.
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(pid) = parse_pid(name.as_encoded_bytes()) else { continue };
            let mut kept = self.tracked.get_mut(&pid).and_then(|t| t.stat_file.take());
            if kept.is_some() {
                self.files.open -= 1;
            }
            // A kept file of a process that exited (its pid perhaps reused) fails or reads
            // nothing: open the path afresh.
            let mut len = kept.as_ref().and_then(|f| pread_whole(f, &mut self.buf).ok()).filter(|n| *n > 0);
            if len.is_none() {
                self.path.clear();
                self.path.push(proc_dir);
                self.path.push(&name);
                self.path.push("stat");
                kept = File::open(&self.path).ok();
                len = kept.as_ref().and_then(|f| pread_whole(f, &mut self.buf).ok());
            }
            let Some(len) = len else {
                self.counts.vanished += 1;
                continue;
            };
            let stat = match parse_stat(&self.buf[..len]) {
                Ok(s) => s,
                Err(e) => {
                    self.counts.unparsable += 1;
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            parsed += 1;
            match self.tracked.entry(pid) {
                MapEntry::Occupied(mut o) if o.get().starttime == stat.starttime => {
                    let t = o.get_mut();
                    t.update(&stat, cycle);
                    // Idle processes are not ranked, as pidstat hides tasks with no activity:
                    // an idle pid in the top N would only be noise and churn in the series.
                    if t.delta.cpu_ticks() > 0 {
                        self.ranked.push((t.delta.cpu_ticks(), pid));
                    }
                }
                MapEntry::Occupied(mut o) => {
                    self.counts.reused += 1;
                    o.insert(Tracked::new(&stat, cycle));
                }
                MapEntry::Vacant(v) => {
                    v.insert(Tracked::new(&stat, cycle));
                }
            }
            if let Some(file) = kept
                && self.files.open < self.files.max
                && let Some(t) = self.tracked.get_mut(&pid)
            {
                t.stat_file = Some(file);
                self.files.open += 1;
            }
        }
        let open = &mut self.files.open;
        self.tracked.retain(|_, t| {
            let keep = t.seen == cycle;
            if !keep && t.stat_file.is_some() {
                *open -= 1;
            }
            keep
        });
        Ok((parsed, first_error))
    }

    /// Keeps the `top` entries of `ranked`, busiest first, ties to the lower pid.
    fn rank(&mut self) {
        let order = |a: &(u64, u32), b: &(u64, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if self.top == 0 {
            self.ranked.clear();
        } else if self.ranked.len() > self.top {
            self.ranked.select_nth_unstable_by(self.top - 1, order);
            self.ranked.truncate(self.top);
        }
        self.ranked.sort_unstable_by(order);
    }

    /// Reads the io of `pid`, or `None` (counted) when it cannot be read or parsed.
    fn read_io(&mut self, proc_dir: &Path, pid: u32) -> Option<IoBytes> {
        self.path.clear();
        self.path.push(proc_dir);
        self.path.push(pid.to_string());
        self.path.push("io");
        let io = File::open(&self.path)
            .and_then(|f| pread_whole(&f, &mut self.buf))
            .ok()
            .and_then(|n| parse_io(&self.buf[..n]).ok());
        if io.is_none() {
            self.counts.io_unavailable += 1;
        }
        io
    }

    /// Appends the samples of the ranked processes, reading their io.
    fn emit(&mut self, proc_dir: &Path, secs: f64, out: &mut Vec<Sample>) {
        let cycle = self.cycle;
        for i in 0..self.ranked.len() {
            let pid = self.ranked[i].1;
            let io = self.read_io(proc_dir, pid);
            let Some(t) = self.tracked.get_mut(&pid) else { continue };
            let d = t.delta;
            let pct = |ticks: u64| ticks as f64 / self.ticks_per_second / secs * 100.0;
            let per_sec = |n: u64| n as f64 / secs;
            let pid_tag = pid.to_string();
            let mut push = |name: &'static str, value: f64| {
                out.push(Sample { name, tags: vec![("pid", pid_tag.clone()), ("comm", t.comm.clone())], value });
            };
            push("proc.cpu", pct(d.cpu_ticks()));
            push("proc.cpu_user", pct(d.utime.saturating_sub(d.guest_time)));
            push("proc.cpu_system", pct(d.stime));
            push("proc.rss", t.rss_pages as f64 * self.page_size);
            push("proc.minor_faults", per_sec(d.minflt));
            push("proc.major_faults", per_sec(d.majflt));
            if let (Some(cur), Some((seen, prev))) = (io, t.io)
                && seen + 1 == cycle
            {
                push("proc.read_kb", rate(prev.read_bytes, cur.read_bytes, secs) / 1024.0);
                push("proc.write_kb", rate(prev.write_bytes, cur.write_bytes, secs) / 1024.0);
            }
            push("proc.threads", t.threads as f64);
            t.io = io.map(|b| (cycle, b));
        }
    }
}

impl Source for ProcsSource {
    fn skipped(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("vanished_processes", c.vanished),
            ("io_unavailable", c.io_unavailable),
            ("reused_pids", c.reused),
            ("unparsable_stat", c.unparsable),
        ]
    }

    fn name(&self) -> &'static str {
        "procs"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        self.cycle += 1;
        let (parsed, first_error) = self.scan(&root.proc)?;
        if parsed == 0 {
            // Every stat failed to parse: not a process or two exiting, a format we do not know.
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        match secs {
            Some(secs) if secs > 0.0 => {
                self.rank();
                self.emit(&root.proc, secs, out);
            }
            _ => {}
        }
        Ok(())
    }
}

/// A /proc entry name as a pid: ASCII digits only (`self`, `sys`, ... are not processes).
fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// Reads the whole file at `path` into `buf`, reusing its allocation.
/// Reads all of `f` from offset 0 into `buf` with one `pread` (grown and read again when it
/// fills the buffer); the length. A short read is the end: procfs files are produced whole,
/// and reading them in pieces would not be consistent anyway.
fn pread_whole(f: &File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        let n = f.read_at(buf, 0)?;
        if n < buf.len() {
            return Ok(n);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

fn io_error(path: &Path, e: std::io::Error) -> CollectError {
    if e.kind() == std::io::ErrorKind::NotFound {
        CollectError::Absent { path: path.to_path_buf() }
    } else {
        CollectError::Io { path: path.to_path_buf(), source: e }
    }
}

#[cfg(test)]
mod tests;
