//! The server's HTTP API: `app(state) -> Router`, a module per resource, one [`ApiError`].
//!
//! - `POST /api/v1/publish`: Atlas publish; `POST /api/v1/write`: Prometheus remote write
//!   ([`publish`]).
//! - `GET /api/v1/tags`, `GET /api/v1/tags/{key}`: tag keys and values ([`tags`]).
//! - `GET /api/v1/raw?s=&e=&KEY=VALUE...`: raw datapoints of the matching series ([`raw`]).
//! - `GET /api/v1/graph?q=...`, `GET /api/v1/expr?q=...`: Atlas graphs and expressions ([`graph`]).
//! - `GET /metrics`: the server's own metrics ([`metrics`]).
//!
//! Handlers that touch the store run it on the blocking pool: an append waits for a WAL sync.

mod error;
mod graph;
mod metrics;
mod publish;
mod raw;
mod tags;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use plumb_tsdb::db::Db;

pub use error::ApiError;
pub use metrics::ServerStats;

use crate::ingest::{CardinalityLimiter, Limits};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store: blocks on disk, the head in memory, the WAL.
    pub store: Arc<Mutex<Db>>,
    pub limits: Arc<Limits>,
    pub stats: Arc<ServerStats>,
    /// New-series limits, asked only when a sample would create a series.
    pub cardinality: Arc<Mutex<CardinalityLimiter>>,
}

const INDEX: &str = "plumb server\n\n\
POST /api/v1/publish       Atlas publish: {\"tags\":{...},\"metrics\":[{\"tags\":{\"name\":...},\"timestamp\":ms,\"value\":v}]}\n\
POST /api/v1/write         Prometheus remote write (snappy protobuf); 204, or 400 with reasons\n\
GET  /api/v1/tags          tag keys\n\
GET  /api/v1/tags/KEY      values of KEY\n\
GET  /api/v1/raw?s=MS&e=MS&KEY=VALUE...   raw datapoints of the matching series\n\
GET  /api/v1/graph?q=ASL&s=&e=&step=&tz=&w=&h=&format=png|svg|json|std.json|csv|txt|stats.json   Atlas graph\n\
GET  /api/v1/expr?q=ASL    the expressions q leaves, normalized (no evaluation)\n\
GET  /metrics              the server's own metrics, Prometheus text format\n";

/// The router; tests call it without a socket.
pub fn app(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], INDEX) }))
        .route("/api/v1/publish", post(publish::publish))
        .route("/api/v1/write", post(publish::remote_write))
        .route("/api/v1/tags", get(tags::keys))
        .route("/api/v1/tags/{key}", get(tags::values))
        .route("/api/v1/raw", get(raw::raw))
        .route("/api/v1/graph", get(graph::graph))
        .route("/api/v1/expr", get(graph::expr))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found: see GET /\n")
}

/// Runs `f` on the store on the blocking pool.
async fn with_head<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Db) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let head = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = head.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))
}
