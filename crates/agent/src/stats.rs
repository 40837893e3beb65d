//! The agent's own metrics: counters the collector and publisher threads bump, rendered into
//! `/metrics` as `plumb_agent_<thing>_<unit>` each cycle.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::exposition::{Encoder, Kind};
use crate::process::SelfUsage;

/// Counters and gauges shared between the agent's threads.
#[derive(Debug, Default)]
pub struct AgentStats {
    pub collect_cycles: AtomicU64,
    pub collect_errors: AtomicU64,
    /// Duration of the last collection, nanoseconds.
    pub collect_duration_ns: AtomicU64,
    pub collect_skipped_ticks: AtomicU64,
    pub publish_datapoints: AtomicU64,
    pub publish_batches: AtomicU64,
    pub publish_failures: AtomicU64,
    pub publish_rejected_datapoints: AtomicU64,
    pub publish_queue_dropped_datapoints: AtomicU64,
    pub spool_bytes: AtomicU64,
    pub spool_batches: AtomicU64,
    pub spool_dropped_datapoints: AtomicU64,
    pub spool_corrupt_files: AtomicU64,
}

/// Adds `n` to a counter.
pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

/// Sets a gauge.
pub fn set(c: &AtomicU64, n: u64) {
    c.store(n, Relaxed);
}

impl AgentStats {
    /// Writes every agent metric, with `usage` for the process ones when it could be read.
    pub fn encode(&self, enc: &mut Encoder, usage: Option<SelfUsage>) {
        let get = |c: &AtomicU64| c.load(Relaxed) as f64;
        let rows: [(&str, Kind, &str, f64); 13] = [
            ("plumb_agent_collect_cycles_total", Kind::Counter, "Collection cycles run.", get(&self.collect_cycles)),
            ("plumb_agent_collect_errors_total", Kind::Counter, "Source reads that failed.", get(&self.collect_errors)),
            (
                "plumb_agent_collect_duration_seconds",
                Kind::Gauge,
                "Time the last collection cycle took.",
                get(&self.collect_duration_ns) / 1e9,
            ),
            (
                "plumb_agent_collect_skipped_ticks_total",
                Kind::Counter,
                "Interval boundaries missed because the agent woke too late.",
                get(&self.collect_skipped_ticks),
            ),
            (
                "plumb_agent_publish_datapoints_total",
                Kind::Counter,
                "Datapoints the server accepted.",
                get(&self.publish_datapoints),
            ),
            (
                "plumb_agent_publish_batches_total",
                Kind::Counter,
                "Publish requests answered 2xx.",
                get(&self.publish_batches),
            ),
            (
                "plumb_agent_publish_failures_total",
                Kind::Counter,
                "Publish requests that failed and will be retried (connection error, timeout, 5xx, 429).",
                get(&self.publish_failures),
            ),
            (
                "plumb_agent_publish_rejected_datapoints_total",
                Kind::Counter,
                "Datapoints the server refused for good (400, or the errors of a 202); not retried.",
                get(&self.publish_rejected_datapoints),
            ),
            (
                "plumb_agent_publish_queue_dropped_datapoints_total",
                Kind::Counter,
                "Datapoints dropped because the publisher fell too far behind the collector.",
                get(&self.publish_queue_dropped_datapoints),
            ),
            ("plumb_agent_spool_bytes", Kind::Gauge, "Size of the batches waiting on disk.", get(&self.spool_bytes)),
            ("plumb_agent_spool_batches", Kind::Gauge, "Batches waiting on disk.", get(&self.spool_batches)),
            (
                "plumb_agent_spool_dropped_datapoints_total",
                Kind::Counter,
                "Datapoints dropped from the spool: oldest past its bound, or not writable.",
                get(&self.spool_dropped_datapoints),
            ),
            (
                "plumb_agent_spool_corrupt_files_total",
                Kind::Counter,
                "Spool files that could not be read back and were removed.",
                get(&self.spool_corrupt_files),
            ),
        ];
        for (name, kind, help, value) in rows {
            enc.family(name, kind, help);
            enc.sample(name, [], value);
        }
        if let Some(u) = usage {
            let process: [(&str, Kind, &str, f64); 3] = [
                (
                    "plumb_agent_process_cpu_seconds_total",
                    Kind::Counter,
                    "CPU time the agent used, user plus system.",
                    u.cpu_seconds,
                ),
                (
                    "plumb_agent_process_resident_memory_bytes",
                    Kind::Gauge,
                    "Resident memory of the agent.",
                    u.resident_bytes as f64,
                ),
                ("plumb_agent_process_threads", Kind::Gauge, "Threads of the agent.", u.threads as f64),
            ];
            for (name, kind, help, value) in process {
                enc.family(name, kind, help);
                enc.sample(name, [], value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use plumb_model::CommonTags;

    use super::*;

    #[test]
    fn every_agent_metric_is_named_by_convention() {
        let stats = AgentStats::default();
        add(&stats.publish_datapoints, 42);
        set(&stats.collect_duration_ns, 1_500_000);
        let mut enc = Encoder::new(&CommonTags::new());
        stats.encode(&mut enc, Some(SelfUsage { cpu_seconds: 1.0, resident_bytes: 5, threads: 3 }));
        let parsed = crate::exposition::tests::parse(&enc.finish());
        assert_eq!(parsed.len(), 16);
        for (name, _, _) in &parsed {
            assert!(name.starts_with("plumb_agent_"), "{name}");
            assert!(
                ["_total", "_seconds", "_bytes", "_batches", "_threads"].iter().any(|s| name.ends_with(s)),
                "{name}"
            );
        }
        let value = |n: &str| parsed.iter().find(|(name, _, _)| name == n).map(|(_, _, v)| *v);
        assert_eq!(value("plumb_agent_publish_datapoints_total"), Some(42.0));
        assert_eq!(value("plumb_agent_collect_duration_seconds"), Some(0.0015));
        assert_eq!(value("plumb_agent_process_resident_memory_bytes"), Some(5.0));
    }
}
