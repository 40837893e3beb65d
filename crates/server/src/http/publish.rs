//! `POST /api/v1/publish`: Atlas publish, decoded and validated by [`crate::ingest`], stored
//! durably, answered as Atlas answers: 200 all stored, 202 some, 400 none, with the reasons.
//! `POST /api/v1/write`: Prometheus remote write into the same store.
//! A datapoint at or before its series' last timestamp is refused by the store and reported
//! like any other rejection. Every datapoint of a request is either stored or rejected with a
//! reason, and both endpoints count both: `plumb_server_datapoints_total{outcome}` and
//! `plumb_server_datapoints_rejected_total{reason}`, with a rate-limited log line.
//!
//! Design decision, remote write with some samples rejected: plumb stores the rest and answers
//! 204, with `X-Plumb-Accepted`/`X-Plumb-Rejected` headers, the rejections counted by reason and
//! logged. This is what Prometheus 2.42 does with out-of-order samples (measured: it answers 2xx,
//! stores the in-order ones and counts the rest in `prometheus_tsdb_out_of_order_samples_total`,
//! without logging). A 400 would make the sender count the stored samples as failed, and
//! Prometheus sends staleness markers (rejected by design) in ordinary requests, so every such
//! request would be an error at the sender; retrying cannot help (a resent out-of-order sample
//! is still out of order). So the operator learns of rejections from plumb's counters and log.

use super::{ApiError, AppState};
use crate::ingest::{
    AcceptedBatch, DecodeError, OUT_OF_ORDER_REASON, Rejection, body_of, decode_atlas_publish, read_remote_write,
    status_of,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn publish(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_string);
    let outcome = match decode_atlas_publish(&body, encoding.as_deref(), now_ms(), &state.limits) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let st = state.clone();
    let (accepted, rejected) =
        blocking(move || store(&st, AcceptedBatch::from_outcome(&outcome))).await?.map_err(internal)?;
    let code = status_of(accepted, rejected.len());
    state.stats.count_publish(code, accepted, rejected.len());
    state.stats.count_rejections("/api/v1/publish", &rejected, now_ms());
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    if status == StatusCode::OK {
        return Ok(StatusCode::OK.into_response());
    }
    Ok((status, Json(body_of(accepted, &rejected))).into_response())
}

/// `POST /api/v1/write`: Prometheus remote write (snappy protobuf), so Prometheus, vmagent and
/// the OpenTelemetry collector can send unchanged. Prometheus retries a 5xx and drops a 4xx, so:
/// 204 when anything was stored (or there was nothing to store, as in a metadata-only request),
/// with the counts in `X-Plumb-Accepted` and `X-Plumb-Rejected`; 400 with the reasons when
/// samples came and none could be stored (see the module's documentation for why). Decoding runs
/// on a blocking thread, outside the store's lock; its tags stay slices of the decompressed body.
pub async fn remote_write(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let st = state.clone();
    let decoded = blocking(move || {
        read_remote_write(&body, now_ms(), &st.limits, |accepted| {
            let had_samples = !accepted.batch.is_empty() || !accepted.rejected.is_empty();
            store(&st, accepted).map(|stored| (had_samples, stored))
        })
    })
    .await?;
    let (had_samples, (accepted, rejected)) = match decoded {
        Ok(result) => result.map_err(internal)?,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let code = if accepted == 0 && had_samples { 400 } else { 204 };
    state.stats.count_publish(if code == 204 && !rejected.is_empty() { 202 } else { code }, accepted, rejected.len());
    state.stats.count_rejections("/api/v1/write", &rejected, now_ms());
    if code == 204 {
        let counts = [
            (HeaderName::from_static("x-plumb-accepted"), accepted.to_string()),
            (HeaderName::from_static("x-plumb-rejected"), rejected.len().to_string()),
        ];
        return Ok((StatusCode::NO_CONTENT, counts).into_response());
    }
    Ok((StatusCode::BAD_REQUEST, Json(body_of(accepted, &rejected))).into_response())
}

/// The answer to a body refused as a whole, counted.
fn refused(state: &AppState, e: &DecodeError) -> Response {
    state.stats.count_publish(e.status(), 0, 0);
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(e.body_json())).into_response()
}

/// Runs `f` on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("store task failed: {e}")))
}

fn internal(e: plumb_tsdb::db::DbError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Stores an accepted batch under the store's lock (call it from a blocking thread); returns
/// how many samples were stored and every rejection (the decoder's, then the store's: out of
/// order, new series refused), by request position.
fn store(state: &AppState, accepted: AcceptedBatch<'_>) -> Result<(usize, Vec<Rejection>), plumb_tsdb::db::DbError> {
    let AcceptedBatch { batch, positions, mut rejected } = accepted;
    if batch.is_empty() {
        return Ok((0, rejected));
    }
    let report = {
        let mut db = state.store.lock().unwrap_or_else(|p| p.into_inner());
        let mut limiter = state.cardinality.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_ms();
        db.append_batch(&batch, |tags| limiter.admit(tags.name(), now).err().map(|r| r.to_string()))?
    };
    let before = rejected.len();
    for (at, reason) in report.refused_at {
        if let Some(&index) = positions.get(at) {
            rejected.push(Rejection { index, reason });
        }
    }
    for at in report.out_of_order_at {
        if let Some(&index) = positions.get(at) {
            rejected.push(Rejection { index, reason: OUT_OF_ORDER_REASON.into() });
        }
    }
    if rejected.len() > before {
        rejected.sort_by_key(|r| r.index);
    }
    Ok((report.accepted, rejected))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
