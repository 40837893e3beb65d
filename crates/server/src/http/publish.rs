//! `POST /api/v1/publish`: Atlas publish, decoded and validated by [`crate::ingest`], stored
//! durably, answered as Atlas answers: 200 all stored, 202 some, 400 none, with the reasons.
//! `POST /api/v1/write`: Prometheus remote write into the same store.
//! A datapoint at or before its series' last timestamp is refused by the store and reported
//! like any other rejection.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plumb_tsdb::SeriesTags;

use super::{ApiError, AppState, with_head};
use crate::ingest::{
    DecodeError, PublishOutcome, Rejection, body_of, decode_atlas_publish, decode_remote_write, status_of,
};

pub async fn publish(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_string);
    let outcome = match decode_atlas_publish(&body, encoding.as_deref(), now_ms(), &state.limits) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let (accepted, rejected) = store(&state, outcome).await?;
    let code = status_of(accepted, rejected.len());
    state.stats.count_publish(code, accepted, rejected.len());
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    if status == StatusCode::OK {
        return Ok(StatusCode::OK.into_response());
    }
    Ok((status, Json(body_of(accepted, &rejected))).into_response())
}

/// `POST /api/v1/write`: Prometheus remote write (snappy protobuf), so Prometheus, vmagent and
/// the OpenTelemetry collector can send unchanged. Prometheus retries a 5xx and drops a 4xx, so:
/// 204 when anything was stored (or there was nothing to store, as in a metadata-only request),
/// 400 with the reasons when samples came and none could be stored.
pub async fn remote_write(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let outcome = match decode_remote_write(&body, now_ms(), &state.limits) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let had_samples = !outcome.accepted.is_empty() || !outcome.rejected.is_empty();
    let (accepted, rejected) = store(&state, outcome).await?;
    let code = if accepted == 0 && had_samples { 400 } else { 204 };
    state.stats.count_publish(if code == 204 && !rejected.is_empty() { 202 } else { code }, accepted, rejected.len());
    if code == 204 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((StatusCode::BAD_REQUEST, Json(body_of(accepted, &rejected))).into_response())
}

/// The answer to a body refused as a whole, counted.
fn refused(state: &AppState, e: &DecodeError) -> Response {
    state.stats.count_publish(e.status(), 0, 0);
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(e.body_json())).into_response()
}

/// Stores the accepted datapoints of `outcome`; returns how many were stored and every
/// rejection (the decoder's, then the store's: out of order, new series refused), by position.
async fn store(state: &AppState, outcome: PublishOutcome) -> Result<(usize, Vec<Rejection>), ApiError> {
    let mut rejected = outcome.rejected;
    // The request position of each accepted datapoint: the positions no rejection took.
    let total = outcome.accepted.len() + rejected.len();
    // Sorted for a binary search: usually empty, and cheaper than hashing every position.
    let mut taken: Vec<usize> = rejected.iter().map(|r| r.index).collect();
    taken.sort_unstable();
    let positions: Vec<usize> = (0..total).filter(|i| taken.binary_search(i).is_err()).collect();
    let mut samples = Vec::with_capacity(outcome.accepted.len());
    let mut sample_positions = Vec::with_capacity(outcome.accepted.len());
    for (dp, pos) in outcome.accepted.into_iter().zip(positions) {
        match SeriesTags::new(dp.tags) {
            Ok(tags) => {
                samples.push((tags, dp.timestamp_ms, dp.value));
                sample_positions.push(pos);
            }
            Err(e) => rejected.push(Rejection { index: pos, reason: e.to_string() }),
        }
    }
    let report = if samples.is_empty() {
        Default::default()
    } else {
        let limiter = state.cardinality.clone();
        with_head(state, move |h| {
            let mut limiter = limiter.lock().unwrap_or_else(|p| p.into_inner());
            let now = now_ms();
            h.append_admitting(samples, |tags| limiter.admit(tags.name(), now).err().map(|r| r.to_string()))
        })
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    for (at, reason) in &report.refused_at {
        if let Some(pos) = sample_positions.get(*at) {
            rejected.push(Rejection { index: *pos, reason: reason.clone() });
        }
    }
    for at in &report.out_of_order_at {
        if let Some(pos) = sample_positions.get(*at) {
            rejected.push(Rejection {
                index: *pos,
                reason: "timestamp is not after the last datapoint of its series (out of order)".into(),
            });
        }
    }
    rejected.sort_by_key(|r| r.index);
    Ok((report.accepted, rejected))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
