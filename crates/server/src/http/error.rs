//! One error type for every handler: the status and reason are the client's; internal details
//! are logged, not sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the reason says how.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// Something failed inside the server; logged, and the client told only that.
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m.clone()),
            ApiError::Internal(detail) => {
                eprintln!("plumb server: internal error: {detail}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server log".to_string())
            }
        };
        (status, Json(json!({"type": "error", "message": message}))).into_response()
    }
}
