//! `GET /api/v1/tags` and `GET /api/v1/tags/{key}`, as Atlas: JSON arrays of strings, sorted.

use axum::Json;
use axum::extract::{Path, State};

use super::{ApiError, AppState, with_head};

/// The tag keys of every series.
pub async fn keys(State(state): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    let keys = with_head(&state, |h| h.index().tag_keys().map(str::to_string).collect()).await?;
    Ok(Json(keys))
}

/// The values of tag `key`.
pub async fn values(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Vec<String>>, ApiError> {
    let values = with_head(&state, move |h| h.index().tag_values(&key).map(str::to_string).collect()).await?;
    Ok(Json(values))
}
