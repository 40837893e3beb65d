//! `GET /metrics`: the server's own metrics in the Prometheus text format, named
//! `plumb_server_<thing>_<unit>`: requests and datapoints by outcome, and the store's size.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::{ApiError, AppState, with_head};

/// Counters the handlers bump.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub publish_requests_ok: AtomicU64,
    pub publish_requests_partial: AtomicU64,
    pub publish_requests_refused: AtomicU64,
    pub datapoints_accepted: AtomicU64,
    pub datapoints_rejected: AtomicU64,
}

impl ServerStats {
    /// Counts one publish answered with `status` that stored `accepted` and refused `rejected`.
    pub fn count_publish(&self, status: u16, accepted: usize, rejected: usize) {
        let counter = match status {
            200 => &self.publish_requests_ok,
            202 => &self.publish_requests_partial,
            _ => &self.publish_requests_refused,
        };
        counter.fetch_add(1, Relaxed);
        self.datapoints_accepted.fetch_add(accepted as u64, Relaxed);
        self.datapoints_rejected.fetch_add(rejected as u64, Relaxed);
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
