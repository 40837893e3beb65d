//! The collector thread: one cycle per interval boundary of the wall clock (12:00:01.000,
//! 12:00:02.000, ... for 1 s), so timestamps line up across hosts and the schedule never drifts.
//! Each cycle collects a snapshot, renders the `/metrics` body once, and hands the snapshot to
//! the publisher.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plumb_collect::{Collector, FsRoot};
use plumb_model::{CommonTags, Snapshot};

use crate::exposition::{Encoder, HelpIndex, Kind};
use crate::latest::Latest;
use crate::log::{Throttle, log};
use crate::process::SelfUsage;
use crate::stats::{self, AgentStats};

/// What the collector thread did, for the closing log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleSummary {
    /// Cycles run.
    pub cycles: u64,
    /// Datapoints handed to the publisher (0 when not publishing).
    pub datapoints_queued: u64,
}

/// Everything one collector thread needs.
pub struct CycleLoop {
    pub collector: Collector,
    pub root: FsRoot,
    pub interval: Duration,
    pub common: CommonTags,
    pub help: HelpIndex,
    pub stats: Arc<AgentStats>,
    pub latest: Arc<Latest>,
    /// Where snapshots go to be published, if they are.
    pub publish: Option<SyncSender<Snapshot>>,
}

impl CycleLoop {
    /// Renders the body served before the first cycle: the agent's own metrics only.
    pub fn render_initial(&self) {
        self.render(&Snapshot::default());
    }

    /// Runs cycles until `stop` receives or hangs up.
    pub fn run(mut self, stop: Receiver<()>) -> CycleSummary {
        let step = (self.interval.as_millis() as i64).max(1);
        let mut next = next_boundary(now_ms(), step);
        let mut last: Option<Instant> = None;
        let mut summary = CycleSummary::default();
        let mut full_log = Throttle::new(Duration::from_secs(60));
        loop {
            let now = now_ms();
            if now < next {
                if next - now > step {
                    // The wall clock went back: start again from the next boundary.
                    next = next_boundary(now, step);
                    continue;
                }
                match stop.recv_timeout(Duration::from_millis((next - now) as u64)) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
            let missed = (now - next) / step;
            if missed > 0 {
                stats::add(&self.stats.collect_skipped_ticks, missed as u64);
                next += missed * step;
            }
            self.cycle(next, &mut last, &mut summary, &mut full_log);
            next += step;
            if !matches!(stop.try_recv(), Err(TryRecvError::Empty)) {
                break;
            }
        }
        summary
    }

    /// One cycle for the boundary `timestamp_ms`.
    fn cycle(
        &mut self,
        timestamp_ms: i64,
        last: &mut Option<Instant>,
        summary: &mut CycleSummary,
        full_log: &mut Throttle,
    ) {
        let started = Instant::now();
        let secs = last.map(|t| started.duration_since(t).as_secs_f64());
        *last = Some(started);
        let (snap, notes) = self.collector.collect_at(&self.root, timestamp_ms, secs);
        for note in notes {
            log(note);
        }
        let s = &self.stats;
        stats::set(&s.collect_duration_ns, started.elapsed().as_nanos() as u64);
        stats::set(&s.collect_errors, self.collector.errors_total());
        stats::add(&s.collect_cycles, 1);
        summary.cycles += 1;
        self.render(&snap);
        let Some(tx) = &self.publish else { return };
        let n = snap.samples.len() as u64;
        match tx.try_send(snap) {
            Ok(()) => summary.datapoints_queued += n,
            Err(TrySendError::Full(_)) => {
                stats::add(&s.publish_queue_dropped_datapoints, n);
                full_log.log(format_args!("the publisher is behind; dropped a cycle of {n} datapoints"));
            }
            Err(TrySendError::Disconnected(_)) => {
                log("the publisher thread stopped; no longer publishing");
                self.publish = None;
            }
        }
    }

    fn render(&self, snap: &Snapshot) {
        let mut enc = Encoder::new(&self.common);
        enc.snapshot(snap, &self.help);
        self.stats.encode(&mut enc, SelfUsage::read());
        let skipped = self.collector.skipped();
        if !skipped.is_empty() {
            enc.family(
                "plumb_agent_collect_skipped_total",
                Kind::Counter,
                "Things a source skipped without failing its cycle (a process that exited mid-read, an unreadable io file).",
            );
            for (source, what, n) in &skipped {
                enc.sample("plumb_agent_collect_skipped_total", [("source", *source), ("what", *what)], *n as f64);
            }
        }
        self.latest.set(enc.finish());
    }
}

/// The first multiple of `step` milliseconds after `now`.
pub fn next_boundary(now_ms: i64, step_ms: i64) -> i64 {
    (now_ms.div_euclid(step_ms) + 1) * step_ms
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(next_boundary(1_700_000_000_001, 1000), 1_700_000_001_000);
        assert_eq!(next_boundary(1_700_000_000_000, 1000), 1_700_000_001_000);
        assert_eq!(next_boundary(1_234, 500), 1_500);
    }

    #[test]
    fn ticks_on_boundaries_renders_and_publishes() {
        let latest = Arc::new(Latest::default());
        let stats = Arc::new(AgentStats::default());
        let (tx, rx) = mpsc::sync_channel(16);
        let lp = CycleLoop {
            collector: Collector::new(plumb_collect::Options::default()),
            root: FsRoot::default(),
            interval: Duration::from_millis(200),
            common: CommonTags::new(),
            help: HelpIndex::new(&plumb_collect::source::catalogue()),
            stats: stats.clone(),
            latest: latest.clone(),
            publish: Some(tx),
        };
        lp.render_initial();
        assert!(String::from_utf8_lossy(&latest.get()).contains("plumb_agent_collect_cycles_total 0\n"));
        let (stop_tx, stop_rx) = mpsc::channel();
        let handle = std::thread::spawn(move || lp.run(stop_rx));
        let mut stamps = Vec::new();
        while stamps.len() < 3 {
            let snap: Snapshot = rx.recv_timeout(Duration::from_secs(5)).expect("a snapshot per interval");
            stamps.push(snap.timestamp_ms);
        }
        drop(stop_tx);
        let summary = handle.join().unwrap();
        assert!(stamps.iter().all(|t| t % 200 == 0), "{stamps:?} on boundaries");
        assert!(stamps.windows(2).all(|w| w[1] > w[0]), "{stamps:?} increasing");
        assert!(summary.cycles >= 3);
        let body = String::from_utf8_lossy(&latest.get()).into_owned();
        let parsed = crate::exposition::tests::parse(&body);
        assert!(parsed.iter().any(|(n, _, _)| n == "plumb_agent_process_resident_memory_bytes"));
        assert!(
            parsed.iter().any(|(n, _, _)| n.starts_with("cpu_") || n.starts_with("load_")),
            "collected metrics rendered"
        );
    }
}
