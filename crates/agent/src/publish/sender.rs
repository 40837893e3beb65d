//! The publisher loop, on its own thread: takes each cycle's snapshot, sends it as batches, and
//! while the server cannot be reached keeps them in the [`Spool`] and replays them oldest first.
//!
//! Order is kept per series: while anything waits in the spool, new batches join its tail
//! instead of going out ahead of it. A batch leaves the spool only once the server has answered
//! 2xx (sent) or 400 (refused for good: logged, counted, dropped). Failed sends are retried
//! after a back-off that doubles from [`RETRY_MIN`] to [`RETRY_MAX`]. The loop ends when the
//! collector hangs up; by then every snapshot it handed over has been sent or spooled.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use plumb_model::{CommonTags, Snapshot};

use super::atlas_json::{self, Batch};
use super::client::{Outcome, Transport};
use super::spool::Spool;
use crate::log::{Throttle, log};
use crate::stats::{self, AgentStats};

/// First wait before retrying after a failed send.
pub const RETRY_MIN: Duration = Duration::from_secs(1);
/// Longest wait between retries.
pub const RETRY_MAX: Duration = Duration::from_secs(15);
/// How long to sleep when nothing waits and nothing arrives.
const IDLE: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
enum Health {
    Up,
    Down { retry_at: Instant, backoff: Duration },
}

/// Whether a batch is done with (sent or refused for good) or must be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Done,
    Keep,
}

/// Sends batches, spooling them while the server is away.
pub struct Publisher {
    transport: Box<dyn Transport>,
    spool: Spool,
    common: CommonTags,
    batch_size: usize,
    stats: Arc<AgentStats>,
    server: String,
    health: Health,
    retry: (Duration, Duration),
    unwritable_datapoints: u64,
    partial_log: Throttle,
    spool_log: Throttle,
}

impl Publisher {
    /// A publisher sending through `transport` to `server` (named in log lines), spooling in
    /// `spool`, with `common` tags on every batch of at most `batch_size` datapoints.
    pub fn new(
        transport: Box<dyn Transport>,
        spool: Spool,
        common: CommonTags,
        batch_size: usize,
        stats: Arc<AgentStats>,
        server: String,
    ) -> Self {
        let p = Publisher {
            transport,
            spool,
            common,
            batch_size,
            stats,
            server,
            health: Health::Up,
            retry: (RETRY_MIN, RETRY_MAX),
            unwritable_datapoints: 0,
            partial_log: Throttle::new(Duration::from_secs(60)),
            spool_log: Throttle::new(Duration::from_secs(60)),
        };
        p.sync_stats();
        p
    }

    /// The same with retry waits from `min` doubling to `max` (tests use short ones).
    pub fn with_retry(mut self, min: Duration, max: Duration) -> Self {
        self.retry = (min, max);
        self
    }

    /// Runs until `rx` hangs up and is drained. Returns the spool with whatever still waits.
    pub fn run(mut self, rx: Receiver<Snapshot>) -> Spool {
        loop {
            match rx.recv_timeout(self.wait()) {
                Ok(snap) => self.accept(&snap),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.replay_due() {
                self.replay_one();
            }
        }
        self.sync_stats();
        self.spool
    }

    /// How long to wait for the next snapshot before looking at the spool again.
    fn wait(&self) -> Duration {
        match self.health {
            _ if self.spool.is_empty() => IDLE,
            Health::Up => Duration::ZERO,
            Health::Down { retry_at, .. } => retry_at.saturating_duration_since(Instant::now()),
        }
    }

    fn replay_due(&self) -> bool {
        !self.spool.is_empty()
            && match self.health {
                Health::Up => true,
                Health::Down { retry_at, .. } => Instant::now() >= retry_at,
            }
    }

    /// Sends a new snapshot's batches, or spools them behind older ones.
    fn accept(&mut self, snap: &Snapshot) {
        for batch in atlas_json::encode(snap, &self.common, self.batch_size) {
            let direct = self.spool.is_empty() && matches!(self.health, Health::Up);
            if !direct || self.send(&batch.body, batch.datapoints) == Sent::Keep {
                self.keep(batch);
            }
        }
        self.sync_stats();
    }

    /// Sends the oldest spooled batch; removes it unless it must be retried.
    fn replay_one(&mut self) {
        match self.spool.front() {
            Ok(None) => {}
            Err(c) => log(format_args!("spool file {} is unreadable ({}); removed it", c.path.display(), c.reason)),
            Ok(Some((entry, body))) => {
                if self.send(&body, entry.datapoints) == Sent::Done
                    && let Err(e) = self.spool.pop_front()
                {
                    self.spool_log.log(e);
                }
            }
        }
        self.sync_stats();
    }

    /// One request; counts and logs its outcome and updates the server's health.
    fn send(&mut self, body: &[u8], datapoints: u64) -> Sent {
        let outcome = self.transport.post(body);
        let s = &self.stats;
        match outcome {
            Outcome::Retry { reason } => {
                stats::add(&s.publish_failures, 1);
                self.mark_down(&reason);
                return Sent::Keep;
            }
            Outcome::Accepted => {
                stats::add(&s.publish_datapoints, datapoints);
                stats::add(&s.publish_batches, 1);
            }
            Outcome::Partial { errors, reason } => {
                let errors = errors.min(datapoints);
                stats::add(&s.publish_datapoints, datapoints - errors);
                stats::add(&s.publish_rejected_datapoints, errors);
                stats::add(&s.publish_batches, 1);
                self.partial_log
                    .log(format_args!("{} refused {errors} of {datapoints} datapoints: {reason}", self.server));
            }
            Outcome::Rejected { status, reason } => {
                stats::add(&s.publish_rejected_datapoints, datapoints);
                log(format_args!(
                    "{} refused a batch of {datapoints} datapoints for good (HTTP {status}); dropped it. {reason}",
                    self.server
                ));
            }
        }
        self.mark_up();
        Sent::Done
    }

    fn keep(&mut self, batch: Batch) {
        match self.spool.push(&batch.body, batch.datapoints) {
            Ok(0) => {}
            Ok(dropped) => self.spool_log.log(format_args!(
                "spool {} is over its bound: dropped the oldest {dropped} datapoints",
                self.spool.dir().display()
            )),
            Err(e) => {
                self.unwritable_datapoints += batch.datapoints;
                self.spool_log.log(format_args!("{e}; dropped {} datapoints", batch.datapoints));
            }
        }
    }

    fn mark_down(&mut self, reason: &str) {
        let now = Instant::now();
        self.health = match self.health {
            Health::Up => {
                log(format_args!(
                    "cannot publish to {}: {reason}; keeping batches in {} and retrying",
                    self.server,
                    self.spool.dir().display()
                ));
                Health::Down { retry_at: now + self.retry.0, backoff: self.retry.0 }
            }
            Health::Down { backoff, .. } => {
                let backoff = (backoff * 2).clamp(self.retry.0, self.retry.1);
                Health::Down { retry_at: now + backoff, backoff }
            }
        };
    }

    fn mark_up(&mut self) {
        if let Health::Down { .. } = self.health {
            log(format_args!("publishing to {} again; {} batches waiting in the spool", self.server, self.spool.len()));
            self.health = Health::Up;
        }
    }

    fn sync_stats(&self) {
        let s = &self.stats;
        stats::set(&s.spool_bytes, self.spool.bytes());
        stats::set(&s.spool_batches, self.spool.len() as u64);
        stats::set(&s.spool_dropped_datapoints, self.spool.dropped_datapoints() + self.unwritable_datapoints);
        stats::set(&s.spool_corrupt_files, self.spool.corrupt_files());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::mpsc;

    use plumb_model::Sample;
    use serde_json::Value;

    use super::*;

    /// Answers from a script (then `then` forever) and records every body it was sent.
    #[derive(Clone)]
    struct Scripted {
        script: Arc<Mutex<VecDeque<Outcome>>>,
        then: Outcome,
        received: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl Scripted {
        fn new(script: Vec<Outcome>, then: Outcome) -> Self {
            Scripted { script: Arc::new(Mutex::new(script.into())), then, received: Arc::default() }
        }

        /// (timestamp, value) of every datapoint the server accepted, in arrival order.
        fn timestamps(&self) -> Vec<i64> {
            let received = self.received.lock().unwrap();
            let mut out = Vec::new();
            for b in received.iter() {
                let v: Value = serde_json::from_slice(b).unwrap();
                for m in v["metrics"].as_array().unwrap() {
                    out.push(m["timestamp"].as_i64().unwrap());
                }
            }
            out
        }
    }

    impl Transport for Scripted {
        fn post(&mut self, body: &[u8]) -> Outcome {
            let outcome = self.script.lock().unwrap().pop_front().unwrap_or_else(|| self.then.clone());
            if matches!(outcome, Outcome::Accepted | Outcome::Partial { .. }) {
                self.received.lock().unwrap().push(body.to_vec());
            }
            outcome
        }
    }

    fn snap(ts: i64) -> Snapshot {
        Snapshot { timestamp_ms: ts, interval_secs: Some(1.0), samples: vec![Sample::new("cpu.user", ts as f64)] }
    }

    fn retry() -> Outcome {
        Outcome::Retry { reason: "connection refused".into() }
    }

    fn publisher(t: &Scripted, dir: &std::path::Path, stats: &Arc<AgentStats>) -> Publisher {
        let spool = Spool::open(dir, 1 << 20).unwrap();
        Publisher::new(Box::new(t.clone()), spool, CommonTags::new(), 100, stats.clone(), "test".into())
            .with_retry(Duration::ZERO, Duration::from_millis(5))
    }

    /// Feeds `snaps` through a publisher and waits (bounded) until `done`.
    fn feed(p: Publisher, snaps: impl IntoIterator<Item = Snapshot>, done: impl Fn() -> bool) -> Spool {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || p.run(rx));
        for s in snaps {
            tx.send(s).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(tx);
        handle.join().unwrap()
    }

    #[test]
    fn outage_spools_then_replays_in_order_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let stats = Arc::new(AgentStats::default());
        let t = Scripted::new(vec![Outcome::Accepted, retry(), retry(), retry()], Outcome::Accepted);
        let spool = feed(publisher(&t, dir.path(), &stats), (1..=6).map(snap), || t.timestamps().len() == 6);
        assert_eq!(t.timestamps(), [1, 2, 3, 4, 5, 6]);
        assert!(spool.is_empty());
        assert_eq!(stats.publish_failures.load(Relaxed), 3);
        assert_eq!(stats.publish_datapoints.load(Relaxed), 6);
        assert_eq!(stats.spool_batches.load(Relaxed), 0);
    }

    #[test]
    fn spool_survives_a_restart_during_the_outage() {
        let dir = tempfile::tempdir().unwrap();
        let stats = Arc::new(AgentStats::default());
        let down = Scripted::new(vec![], retry());
        let spooled = || stats.spool_batches.load(Relaxed) == 3;
        let left = feed(publisher(&down, dir.path(), &stats), (1..=3).map(snap), spooled);
        assert_eq!(left.len(), 3, "everything spooled");
        assert!(down.timestamps().is_empty());
        drop(left);
        let up = Scripted::new(vec![], Outcome::Accepted);
        let spool = feed(publisher(&up, dir.path(), &stats), (4..=5).map(snap), || up.timestamps().len() == 5);
        assert_eq!(up.timestamps(), [1, 2, 3, 4, 5]);
        assert!(spool.is_empty());
    }

    #[test]
    fn refused_batch_is_dropped_and_counted_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let stats = Arc::new(AgentStats::default());
        let t = Scripted::new(
            vec![
                Outcome::Rejected { status: 400, reason: "bad".into() },
                Outcome::Partial { errors: 1, reason: "one bad".into() },
            ],
            Outcome::Accepted,
        );
        let spool = feed(publisher(&t, dir.path(), &stats), (1..=3).map(snap), || t.timestamps().len() == 2);
        assert_eq!(t.timestamps(), [2, 3]);
        assert!(spool.is_empty());
        assert_eq!(stats.publish_rejected_datapoints.load(Relaxed), 2);
        assert_eq!(stats.publish_datapoints.load(Relaxed), 1);
        assert_eq!(stats.publish_failures.load(Relaxed), 0);
    }

    #[test]
    fn large_snapshots_split_into_batches() {
        let dir = tempfile::tempdir().unwrap();
        let stats = Arc::new(AgentStats::default());
        let t = Scripted::new(vec![], Outcome::Accepted);
        let big = Snapshot {
            timestamp_ms: 7,
            interval_secs: None,
            samples: (0..250).map(|i| Sample::new("x", i as f64)).collect(),
        };
        feed(publisher(&t, dir.path(), &stats), [big], || t.timestamps().len() == 250);
        assert_eq!(t.received.lock().unwrap().len(), 3, "batch size 100");
        assert_eq!(stats.publish_batches.load(Relaxed), 3);
    }
}
