//! `GET /api/v1/tags` and `GET /api/v1/tags/{key}`, as Atlas: JSON arrays of strings, sorted.

use axum::Json;
use axum::extract::{Path, State};

use super::{ApiError, AppState, with_head};

/// The tag keys of every series.
pub async fn keys(State(state): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    let keys = with_head(&state, |h| h.tag_keys()).await?;
    Ok(Json(keys))
}

/// The values of tag `key`.
pub async fn values(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Vec<String>>, ApiError> {
    let values = with_head(&state, move |h| h.tag_values(&key)).await?;
    Ok(Json(values))
}
