//! `GET /metrics`: the server's own metrics in the Prometheus text format, named
//! `plumb_server_<thing>_<unit>`: requests and datapoints by outcome, rejections by reason, and
//! the store's size.
//!
//! Design decision: a rejection's reason is free text (it names the tag or timestamp at fault),
//! so the counter is labelled with a fixed class of it ([`RejectClass`]), never with the text;
//! the text goes to the server's log, at most once per [`REJECT_LOG_INTERVAL_MS`], with the
//! counts by class since the previous line, so a steady stream of rejections is visible without
//! flooding the log.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::{ApiError, AppState, with_head};
use crate::ingest::{
    EXEMPLAR_REASON, HISTOGRAM_REASON, OUT_OF_ORDER_REASON, Rejection, STALENESS_REASON, TOO_OLD_PREFIX,
};

/// Least time between two log lines about rejected datapoints.
pub const REJECT_LOG_INTERVAL_MS: i64 = 10_000;

/// Why datapoints were rejected, as a bounded set: the `reason` label of
/// `plumb_server_datapoints_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectClass {
    /// At or before its series' last timestamp, or before the head's time range.
    OutOfOrder,
    /// Older than the age window (`--max-age-secs`).
    TooOld,
    /// Further in the future than the window allows.
    Future,
    /// A Prometheus staleness marker.
    Staleness,
    /// A native histogram (plumb stores floats only).
    Histogram,
    /// An exemplar (plumb stores floats only).
    Exemplar,
    /// A new series refused by the cardinality limits.
    NewSeriesRefused,
    /// A NaN or infinity not allowed.
    NonFinite,
    /// Anything else: tags that break the naming rules or limits.
    InvalidSeries,
}

impl RejectClass {
    /// Every class, in the order of [`RejectClass::label`]'s rows.
    pub const ALL: [RejectClass; 9] = [
        RejectClass::OutOfOrder,
        RejectClass::TooOld,
        RejectClass::Future,
        RejectClass::Staleness,
        RejectClass::Histogram,
        RejectClass::Exemplar,
        RejectClass::NewSeriesRefused,
        RejectClass::NonFinite,
        RejectClass::InvalidSeries,
    ];

    /// The class of a rejection's reason text.
    pub fn of(reason: &str) -> RejectClass {
        match reason {
            OUT_OF_ORDER_REASON => RejectClass::OutOfOrder,
            STALENESS_REASON => RejectClass::Staleness,
            HISTOGRAM_REASON => RejectClass::Histogram,
            EXEMPLAR_REASON => RejectClass::Exemplar,
            r if r.starts_with(TOO_OLD_PREFIX) => RejectClass::TooOld,
            r if r.starts_with("data is from future") => RejectClass::Future,
            r if r.starts_with("too many new series") => RejectClass::NewSeriesRefused,
            r if r.starts_with("value is not finite") => RejectClass::NonFinite,
            _ => RejectClass::InvalidSeries,
        }
    }

    /// The `reason` label value.
    pub fn label(self) -> &'static str {
        match self {
            RejectClass::OutOfOrder => "out_of_order",
            RejectClass::TooOld => "too_old",
            RejectClass::Future => "too_far_in_future",
            RejectClass::Staleness => "staleness_marker",
            RejectClass::Histogram => "native_histogram",
            RejectClass::Exemplar => "exemplar",
            RejectClass::NewSeriesRefused => "new_series_refused",
            RejectClass::NonFinite => "non_finite_value",
            RejectClass::InvalidSeries => "invalid_series",
        }
    }
}

/// Counters the handlers bump.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub publish_requests_ok: AtomicU64,
    pub publish_requests_partial: AtomicU64,
    pub publish_requests_refused: AtomicU64,
    pub datapoints_accepted: AtomicU64,
    pub datapoints_rejected: AtomicU64,
    /// Rejected datapoints by [`RejectClass`], in [`RejectClass::ALL`]'s order.
    pub rejected_by_class: [AtomicU64; RejectClass::ALL.len()],
    /// Rejections by class not yet reported in the log.
    unlogged_by_class: [AtomicU64; RejectClass::ALL.len()],
    /// When the last log line about rejections was written (ms since the epoch).
    last_reject_log_ms: AtomicI64,
}

impl ServerStats {
    /// Counts one request answered with `status` that stored `accepted` and refused `rejected`:
    /// any 2xx but 202 is ok (a remote write's 204 included), 202 partial, the rest refused.
    pub fn count_publish(&self, status: u16, accepted: usize, rejected: usize) {
        let counter = match status {
            202 => &self.publish_requests_partial,
            200..=299 => &self.publish_requests_ok,
            _ => &self.publish_requests_refused,
        };
        counter.fetch_add(1, Relaxed);
        self.datapoints_accepted.fetch_add(accepted as u64, Relaxed);
        self.datapoints_rejected.fetch_add(rejected as u64, Relaxed);
    }

    /// Counts `rejected` by class and logs them, at most once per [`REJECT_LOG_INTERVAL_MS`]
    /// (the first reason of this request as the example, and the counts since the last line).
    /// Returns the log line when one was written.
    pub fn count_rejections(&self, endpoint: &str, rejected: &[Rejection], now_ms: i64) -> Option<String> {
        let first = rejected.first()?;
        for r in rejected {
            let class = RejectClass::of(&r.reason);
            if let Some(at) = RejectClass::ALL.iter().position(|&c| c == class) {
                if let Some(c) = self.rejected_by_class.get(at) {
                    c.fetch_add(1, Relaxed);
                }
                if let Some(c) = self.unlogged_by_class.get(at) {
                    c.fetch_add(1, Relaxed);
                }
            }
        }
        let last = self.last_reject_log_ms.load(Relaxed);
        if last != 0 && now_ms.saturating_sub(last) < REJECT_LOG_INTERVAL_MS {
            return None;
        }
        if self.last_reject_log_ms.compare_exchange(last, now_ms.max(1), Relaxed, Relaxed).is_err() {
            return None;
        }
        let counts: Vec<String> = RejectClass::ALL
            .iter()
            .zip(&self.unlogged_by_class)
            .filter_map(|(class, c)| {
                let n = c.swap(0, Relaxed);
                (n > 0).then(|| format!("{}={n}", class.label()))
            })
            .collect();
        let line = format!(
            "plumb server: rejected datapoints on {endpoint} since the last report: {}; e.g. {}",
            counts.join(" "),
            first.reason
        );
        eprintln!("{line}");
        Some(line)
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let (series, samples, memory, wal, blocks, block_bytes, spill) = with_head(&state, |h| {
        let spill = h.spill_bytes();
        (h.series_count(), h.sample_count(), h.memory_bytes(), h.wal_bytes(), h.blocks().len(), h.disk_bytes(), spill)
    })
    .await?;
    let s = &state.stats;
    let mut out = String::with_capacity(2048);
    let mut family = |name: &str, kind: &str, help: &str, rows: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let get = |c: &AtomicU64| c.load(Relaxed) as f64;
    family(
        "plumb_server_publish_requests_total",
        "counter",
        "Publish requests by answer: ok (200), partial (202), refused (4xx).",
        &[
            ("{answer=\"ok\"}", get(&s.publish_requests_ok)),
            ("{answer=\"partial\"}", get(&s.publish_requests_partial)),
            ("{answer=\"refused\"}", get(&s.publish_requests_refused)),
        ],
    );
    family(
        "plumb_server_datapoints_total",
        "counter",
        "Published datapoints by outcome; rejected ones were answered with their reason.",
        &[
            ("{outcome=\"accepted\"}", get(&s.datapoints_accepted)),
            ("{outcome=\"rejected\"}", get(&s.datapoints_rejected)),
        ],
    );
    let by_class: Vec<(String, f64)> = RejectClass::ALL
        .iter()
        .zip(&s.rejected_by_class)
        .map(|(class, c)| (format!("{{reason=\"{}\"}}", class.label()), get(c)))
        .collect();
    let by_class: Vec<(&str, f64)> = by_class.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    family(
        "plumb_server_datapoints_rejected_total",
        "counter",
        "Rejected datapoints by reason (the full reason is in the answer and, rate-limited, the log).",
        &by_class,
    );
    family("plumb_server_series", "gauge", "Series in the store's head.", &[("", series as f64)]);
    family("plumb_server_samples", "gauge", "Samples in the store's head.", &[("", samples as f64)]);
    family(
        "plumb_server_head_memory_bytes",
        "gauge",
        "Approximate memory of the head's chunks and index.",
        &[("", memory as f64)],
    );
    family("plumb_server_wal_bytes", "gauge", "Bytes of write-ahead log on disk.", &[("", wal as f64)]);
    family(
        "plumb_server_head_chunks_bytes",
        "gauge",
        "Bytes of full head chunks moved out of memory to disk (a cache the WAL can rebuild).",
        &[("", spill as f64)],
    );
    family("plumb_server_blocks", "gauge", "Immutable blocks on disk.", &[("", blocks as f64)]);
    family("plumb_server_block_bytes", "gauge", "Bytes of the blocks on disk.", &[("", block_bytes as f64)]);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(reason: &str) -> Rejection {
        Rejection { index: 0, reason: reason.to_string() }
    }

    #[test]
    fn reasons_fall_into_their_class() {
        let cases = [
            (OUT_OF_ORDER_REASON, "out_of_order"),
            (STALENESS_REASON, "staleness_marker"),
            (HISTOGRAM_REASON, "native_histogram"),
            (EXEMPLAR_REASON, "exemplar"),
            ("data is too old: now = 5, timestamp = 1, 4 > 3", "too_old"),
            ("data is from future: now = 1, timestamp = 9, 8 > 3", "too_far_in_future"),
            ("too many new series: more than 10 a minute; ...", "new_series_refused"),
            ("value is not finite (NaN); NaN and infinities are not accepted", "non_finite_value"),
            ("duplicate tag key: 'a'", "invalid_series"),
        ];
        for (reason, label) in cases {
            assert_eq!(RejectClass::of(reason).label(), label, "{reason}");
        }
    }

    #[test]
    fn count_publish_counts_a_204_as_ok() {
        let stats = ServerStats::default();
        stats.count_publish(204, 3, 0);
        stats.count_publish(202, 1, 1);
        stats.count_publish(400, 0, 2);
        let got = |c: &AtomicU64| c.load(Relaxed);
        let requests = (
            got(&stats.publish_requests_ok),
            got(&stats.publish_requests_partial),
            got(&stats.publish_requests_refused),
        );
        assert_eq!(requests, (1, 1, 1));
        assert_eq!((got(&stats.datapoints_accepted), got(&stats.datapoints_rejected)), (4, 3));
    }

    #[test]
    fn rejections_are_counted_every_time_and_logged_at_most_once_per_interval() {
        let stats = ServerStats::default();
        let first = stats.count_rejections("/w", &[rejection(OUT_OF_ORDER_REASON), rejection(STALENESS_REASON)], 1_000);
        let line = first.unwrap();
        assert!(line.contains("out_of_order=1 staleness_marker=1"), "{line}");
        assert!(line.contains("(out of order)"), "the example reason is in full: {line}");
        assert_eq!(stats.count_rejections("/w", &[rejection(OUT_OF_ORDER_REASON)], 5_000), None);
        assert_eq!(stats.count_rejections("/w", &[], 20_000), None, "no rejection, no line");
        let later = stats.count_rejections("/w", &[rejection(OUT_OF_ORDER_REASON)], 11_000).unwrap();
        assert!(
            later.contains("out_of_order=2") && !later.contains("staleness"),
            "counts since the last line: {later}"
        );
        let at = |class: RejectClass| {
            let i = RejectClass::ALL.iter().position(|&c| c == class).unwrap();
            stats.rejected_by_class[i].load(Relaxed)
        };
        assert_eq!((at(RejectClass::OutOfOrder), at(RejectClass::Staleness)), (3, 1));
    }
}
