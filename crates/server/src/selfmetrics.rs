//! plumb's own metrics, stored in its own store every [`DEFAULT_INTERVAL`] (10 s).
//!
//! [`self_samples`] turns the request counters ([`ServerStats`]) and the head's figures
//! ([`HeadFigures`]) into samples; [`record`] takes them and appends them to the head; the
//! ticking lives in `run`. The series, each with `nf.app=plumb` and `nf.node` = the host name
//! (from `/proc/sys/kernel/hostname`, left out when unreadable):
//!
//! | name | tags | kind |
//! |---|---|---|
//! | `plumb.server.publish_requests` | `answer` = `ok`, `partial`, `refused` | counter |
//! | `plumb.server.datapoints` | `outcome` = `accepted`, `rejected` | counter |
//! | `plumb.server.series` | | gauge: series in the head |
//! | `plumb.server.samples` | | gauge: samples in the head |
//! | `plumb.server.head_memory_bytes` | | gauge: approximate memory of the head |
//! | `plumb.server.wal_bytes` | | gauge: write-ahead log on disk |
//!
//! Names are Atlas-style dotted, snake_case after the dots like the agent's (`load.context_switches`);
//! `/metrics` shows the same figures as `plumb_server_*`. Timestamps are aligned down to a
//! multiple of the interval, as Atlas aligns to its step.
//!
//! Design decision: counters are stored as their running totals since the server started, not
//! as rates as Atlas publishers send them: a total loses nothing if a tick is late or missed,
//! and a rate is one step away for the query layer (a restart shows as a drop to zero). These
//! series skip the cardinality limiter (`Db::append`, not `append_admitting`): there are a
//! fixed handful of them and the server must always be able to describe itself.
//!
//! Testing knob: the environment variable [`INTERVAL_ENV`]
//! (`PLUMB_SERVER_SELF_METRICS_INTERVAL_MS`, 100 to 3,600,000) changes the interval; it is
//! read by the binary, left out of `--help`, and meant for tests only.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use plumb_tsdb::SeriesTags;
use plumb_tsdb::db::{Db, DbError};
use plumb_tsdb::head::AppendReport;

use crate::http::ServerStats;

/// How often the server records its own metrics: 10 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// The testing knob that overrides [`DEFAULT_INTERVAL`], in milliseconds.
pub const INTERVAL_ENV: &str = "PLUMB_SERVER_SELF_METRICS_INTERVAL_MS";
/// Range of the testing knob, in milliseconds.
pub const INTERVAL_MS_RANGE: (u64, u64) = (100, 3_600_000);
/// Longest `nf.node` value kept; a longer host name is cut (Atlas's value limit).
pub const MAX_HOST_LEN: usize = 120;

/// The `nf.app` of every self-series.
const APP: &str = "plumb";

/// The head's figures at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadFigures {
    /// Series in the head.
    pub series: usize,
    /// Samples in the head.
    pub samples: usize,
    /// Approximate memory of the head's chunks and index.
    pub memory_bytes: usize,
    /// Bytes of write-ahead log on disk.
    pub wal_bytes: u64,
}

impl HeadFigures {
    /// The figures of `head` now.
    pub fn of(head: &Db) -> HeadFigures {
        HeadFigures {
            series: head.series_count(),
            samples: head.sample_count(),
            memory_bytes: head.memory_bytes(),
            wal_bytes: head.wal_bytes(),
        }
    }
}

/// The self-samples at `t_ms`: one per series in the module's table, tagged with `host` as
/// `nf.node` when given.
pub fn self_samples(
    stats: &ServerStats,
    head: HeadFigures,
    t_ms: i64,
    host: Option<&str>,
) -> Vec<(SeriesTags, i64, f64)> {
    let get = |c: &AtomicU64| c.load(Relaxed) as f64;
    // (what follows `plumb.server.`, an extra tag, the value)
    let rows = [
        ("publish_requests", Some(("answer", "ok")), get(&stats.publish_requests_ok)),
        ("publish_requests", Some(("answer", "partial")), get(&stats.publish_requests_partial)),
        ("publish_requests", Some(("answer", "refused")), get(&stats.publish_requests_refused)),
        ("datapoints", Some(("outcome", "accepted")), get(&stats.datapoints_accepted)),
        ("datapoints", Some(("outcome", "rejected")), get(&stats.datapoints_rejected)),
        ("series", None, head.series as f64),
        ("samples", None, head.samples as f64),
        ("head_memory_bytes", None, head.memory_bytes as f64),
        ("wal_bytes", None, head.wal_bytes as f64),
    ];
    rows.into_iter()
        .filter_map(|(thing, extra, value)| {
            let mut tags = vec![("name".to_string(), format!("plumb.server.{thing}")), ("nf.app".into(), APP.into())];
            if let Some(host) = host {
                tags.push(("nf.node".into(), host.into()));
            }
            if let Some((k, v)) = extra {
                tags.push((k.into(), v.into()));
            }
            // The keys above are distinct and include `name`, so this never fails.
            SeriesTags::new(tags).ok().map(|tags| (tags, t_ms, value))
        })
        .collect()
}

/// Appends the self-samples for `now_ms` (aligned down to `interval`) to `head`, bypassing the
/// cardinality limiter. The caller holds the head's lock.
pub fn record(
    head: &mut Db,
    stats: &ServerStats,
    now_ms: i64,
    interval: Duration,
    host: Option<&str>,
) -> Result<AppendReport, DbError> {
    let samples = self_samples(stats, HeadFigures::of(head), align(now_ms, interval), host);
    head.append(samples)
}

/// `now_ms` rounded down to a multiple of `interval` (unchanged for a zero interval).
pub fn align(now_ms: i64, interval: Duration) -> i64 {
    let step = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    if step <= 0 { now_ms } else { now_ms - now_ms.rem_euclid(step) }
}

/// The host name for `nf.node`: `/proc/sys/kernel/hostname`, trimmed and cut to
/// [`MAX_HOST_LEN`] bytes; `None` when unreadable or empty.
pub fn hostname() -> Option<String> {
    host_from(&std::fs::read("/proc/sys/kernel/hostname").ok()?)
}

fn host_from(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut host = text.trim().to_string();
    while host.len() > MAX_HOST_LEN {
        host.pop();
    }
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_tsdb::index::Matcher;

    fn find<'a>(
        samples: &'a [(SeriesTags, i64, f64)],
        name: &str,
        tag: Option<(&str, &str)>,
    ) -> &'a (SeriesTags, i64, f64) {
        let hits: Vec<_> = samples
            .iter()
            .filter(|(t, _, _)| t.name() == name && tag.is_none_or(|(k, v)| t.get(k) == Some(v)))
            .collect();
        assert_eq!(hits.len(), 1, "{name} {tag:?} in {samples:?}");
        hits[0]
    }

    #[test]
    fn counters_and_head_figures_become_tagged_samples() {
        let stats = ServerStats::default();
        stats.count_publish(200, 5, 0);
        stats.count_publish(202, 3, 2);
        stats.count_publish(400, 0, 4);
        let head = HeadFigures { series: 11, samples: 22, memory_bytes: 33, wal_bytes: 44 };
        let s = self_samples(&stats, head, 1_000, Some("i-1"));
        assert_eq!(s.len(), 9);
        assert_eq!(find(&s, "plumb.server.publish_requests", Some(("answer", "ok"))).2, 1.0);
        assert_eq!(find(&s, "plumb.server.publish_requests", Some(("answer", "refused"))).2, 1.0);
        assert_eq!(find(&s, "plumb.server.datapoints", Some(("outcome", "accepted"))).2, 8.0);
        assert_eq!(find(&s, "plumb.server.datapoints", Some(("outcome", "rejected"))).2, 6.0);
        assert_eq!(find(&s, "plumb.server.series", None).2, 11.0);
        assert_eq!(find(&s, "plumb.server.samples", None).2, 22.0);
        assert_eq!(find(&s, "plumb.server.head_memory_bytes", None).2, 33.0);
        assert_eq!(find(&s, "plumb.server.wal_bytes", None).2, 44.0);
        for (tags, t, _) in &s {
            assert_eq!((tags.get("nf.app"), tags.get("nf.node"), *t), (Some("plumb"), Some("i-1"), 1_000));
        }
        let distinct: std::collections::HashSet<_> = s.iter().map(|x| &x.0).collect();
        assert_eq!(distinct.len(), s.len(), "every sample is its own series");
    }

    #[test]
    fn without_a_host_there_is_no_node_tag() {
        let s = self_samples(&ServerStats::default(), HeadFigures::default(), 0, None);
        assert!(s.iter().all(|(t, _, _)| t.get("nf.node").is_none() && t.get("nf.app") == Some("plumb")));
    }

    #[test]
    fn timestamps_align_down_to_the_interval() {
        let ten = Duration::from_secs(10);
        assert_eq!(align(1_234_567, ten), 1_230_000);
        assert_eq!(align(1_230_000, ten), 1_230_000);
        assert_eq!(align(-1, ten), -10_000);
        assert_eq!(align(77, Duration::ZERO), 77);
    }

    #[test]
    fn host_names_are_trimmed_and_bounded() {
        assert_eq!(host_from(b"box-1\n").as_deref(), Some("box-1"));
        assert_eq!(host_from(b" \n"), None);
        assert_eq!(host_from(&[b'h'; 300]).map(|h| h.len()), Some(MAX_HOST_LEN));
        assert!(host_from(&[0xff, 0xfe]).is_some(), "invalid UTF-8 is replaced, not a panic");
    }

    #[test]
    fn record_appends_into_the_head_and_counts_itself_next_time() {
        let dir = tempfile::tempdir().unwrap();
        let (mut head, _) = Db::open(dir.path(), Default::default()).unwrap();
        let stats = ServerStats::default();
        stats.count_publish(200, 3, 0);
        let step = Duration::from_secs(10);
        let first = record(&mut head, &stats, 25_000, step, Some("n")).unwrap();
        assert_eq!((first.accepted, first.new_series), (9, 9));
        let second = record(&mut head, &stats, 35_000, step, Some("n")).unwrap();
        assert_eq!((second.accepted, second.new_series), (9, 0));
        let m = Matcher::Eq("name".into(), "plumb.server.series".into());
        let got = head.read(&m, 0, 100_000).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamps, vec![20_000, 30_000]);
        assert_eq!(got[0].values, vec![0.0, 9.0], "the second tick sees the first tick's series");
    }
}
