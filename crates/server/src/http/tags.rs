//! `GET /api/v1/tags` and `GET /api/v1/tags/{key}`, as Atlas: JSON arrays of strings, sorted.
//!
//! Parameters, as Atlas's tags API takes them:
//! - `q`: a query expression (`name,cpu,:eq`); only the series it selects are listed.
//! - `limit`: at most this many strings, default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`].
//! - `offset`: only strings after this one, for paging (pass the last string of a page).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{ApiError, AppState, with_head};

/// Strings listed when `limit` is not given (Atlas's default).
pub const DEFAULT_LIMIT: usize = 1000;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 100_000;

/// The query parameters of both listings.
#[derive(Debug, Default, Deserialize)]
pub struct TagsParams {
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<String>,
}

impl TagsParams {
    /// The matcher of `q`, if any, and the limit, checked.
    fn checked(&self) -> Result<(Option<plumb_tsdb::index::Matcher>, usize), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::BadRequest(format!("limit must be 1 to {MAX_LIMIT}, not {limit}")));
        }
        let matcher = match &self.q {
            None => None,
            Some(q) => Some(crate::select::matcher(q).map_err(|e| ApiError::BadRequest(format!("q: {e}")))?),
        };
        Ok((matcher, limit))
    }

    /// `all` (sorted) after `offset`, at most `limit`.
    fn page(&self, all: Vec<String>, limit: usize) -> Vec<String> {
        let start = match &self.offset {
            Some(o) => all.partition_point(|s| s.as_str() <= o.as_str()),
            None => 0,
        };
        all.into_iter().skip(start).take(limit).collect()
    }
}

/// The tag keys of every series, or of those `q` selects.
pub async fn keys(State(state): State<AppState>, Query(p): Query<TagsParams>) -> Result<Json<Vec<String>>, ApiError> {
    let (matcher, limit) = p.checked()?;
    let keys = with_head(&state, move |db| match matcher {
        None => Ok(db.tag_keys()),
        Some(m) => db.tag_keys_matching(&m),
    })
    .await?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(p.page(keys, limit)))
}

/// The values of tag `key` over every series, or over those `q` selects.
pub async fn values(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(p): Query<TagsParams>,
) -> Result<Json<Vec<String>>, ApiError> {
    let (matcher, limit) = p.checked()?;
    let values = with_head(&state, move |db| match matcher {
        None => Ok(db.tag_values(&key)),
        Some(m) => db.tag_values_matching(&key, &m),
    })
    .await?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(p.page(values, limit)))
}
