//! `POST /api/v1/publish`: Atlas publish, decoded and validated by [`crate::ingest`], stored
//! durably, answered as Atlas answers: 200 all stored, 202 some, 400 none, with the reasons.
//! A datapoint at or before its series' last timestamp is refused by the store and reported
//! like any other rejection.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plumb_tsdb::SeriesTags;

use super::{ApiError, AppState, with_head};
use crate::ingest::{Rejection, body_of, decode_atlas_publish, status_of};

pub async fn publish(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_string);
    let limits = state.limits.clone();
    let outcome = match decode_atlas_publish(&body, encoding.as_deref(), now_ms(), &limits) {
        Ok(o) => o,
        Err(e) => {
            state.stats.count_publish(e.status(), 0, 0);
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return Ok((status, Json(e.body_json())).into_response());
        }
    };
    let mut rejected = outcome.rejected;
    // The request position of each accepted datapoint: the positions no rejection took.
    let total = outcome.accepted.len() + rejected.len();
    let taken: std::collections::HashSet<usize> = rejected.iter().map(|r| r.index).collect();
    let positions: Vec<usize> = (0..total).filter(|i| !taken.contains(i)).collect();
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
        with_head(&state, move |h| h.append(samples)).await?.map_err(|e| ApiError::Internal(e.to_string()))?
    };
    for at in &report.out_of_order_at {
        if let Some(pos) = sample_positions.get(*at) {
            rejected.push(Rejection {
                index: *pos,
                reason: "timestamp is not after the last datapoint of its series (out of order)".into(),
            });
        }
    }
    rejected.sort_by_key(|r| r.index);
    let code = status_of(report.accepted, rejected.len());
    state.stats.count_publish(code, report.accepted, rejected.len());
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    if status == StatusCode::OK {
        return Ok(StatusCode::OK.into_response());
    }
    Ok((status, Json(body_of(report.accepted, &rejected))).into_response())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
