//! The collection loop: runs every enabled source once per cycle.

use std::collections::HashSet;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use plumb_model::Snapshot;

use crate::source::{Source, sources_for};
use crate::{CollectError, FsRoot, Group};

/// Default number of processes the `proc` group keeps, busiest first.
pub const DEFAULT_TOP_PROCESSES: usize = 10;

/// What to collect and from where.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where /proc and /sys are. Default is the real ones.
    pub root: FsRoot,
    /// The groups to collect. Default is all of them.
    pub groups: Vec<Group>,
    /// How many processes the `proc` group reports. Default is [`DEFAULT_TOP_PROCESSES`].
    pub top_processes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { root: FsRoot::default(), groups: Group::ALL.to_vec(), top_processes: DEFAULT_TOP_PROCESSES }
    }
}

/// Runs the sources of the chosen groups; call [`Collector::collect`] once per interval.
pub struct Collector {
    root: FsRoot,
    sources: Vec<Box<dyn Source>>,
    last: Option<Instant>,
    noted: HashSet<(&'static str, &'static str)>,
    errors_total: u64,
}

impl Collector {
    /// A collector for `options`. Reads nothing until the first [`Collector::collect`].
    pub fn new(options: Options) -> Self {
        let sources = sources_for(&options.groups, options.top_processes);
        Collector { root: options.root, sources, last: None, noted: HashSet::new(), errors_total: 0 }
    }

    /// One cycle against the clock: rates cover the time since the previous call. Returns the
    /// snapshot and the notes that are new this cycle (a source missing or failing, said once).
    pub fn collect(&mut self) -> (Snapshot, Vec<String>) {
        let now = Instant::now();
        let secs = self.last.map(|t| now.duration_since(t).as_secs_f64());
        self.last = Some(now);
        let root = self.root.clone();
        self.collect_at(&root, now_ms(), secs)
    }

    /// One cycle reading `root`, as if `secs` had passed since the previous cycle (`None`: the
    /// first). Tests replay captured trees through this.
    pub fn collect_at(&mut self, root: &FsRoot, timestamp_ms: i64, secs: Option<f64>) -> (Snapshot, Vec<String>) {
        let mut snap = Snapshot { timestamp_ms, interval_secs: secs, samples: Vec::with_capacity(512) };
        let mut notes = Vec::new();
        for source in &mut self.sources {
            if let Err(e) = source.collect(root, secs, &mut snap.samples) {
                self.errors_total += 1;
                // Said once per source and kind of failure, not once per cycle.
                let kind = match e {
                    CollectError::Absent { .. } => "absent",
                    CollectError::Io { .. } => "io",
                    CollectError::ProcParse { .. } => "parse",
                };
                if self.noted.insert((source.name(), kind)) {
                    notes.push(format!("{}: {e}; its metrics are left out", source.name()));
                }
            }
        }
        snap.samples.retain(|s| s.value.is_finite());
        (snap, notes)
    }

    /// What each source skipped so far without failing: `(source, what, count)`.
    pub fn skipped(&self) -> Vec<(&'static str, &'static str, u64)> {
        self.sources.iter().flat_map(|s| s.skipped().into_iter().map(|(what, n)| (s.name(), what, n))).collect()
    }

    /// How many source reads have failed since the collector started.
    pub fn errors_total(&self) -> u64 {
        self.errors_total
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
