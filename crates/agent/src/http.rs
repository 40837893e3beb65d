//! The agent's HTTP endpoints: `GET /` lists them, `GET /metrics` serves the latest values in
//! the Prometheus text format, `POST /api/v1/profile` takes an on-demand profile (see
//! [`crate::profile_api`]); anything else is 404. Only the profile handler reads a request body,
//! at most [`MAX_REQUEST_BYTES`] of it.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::exposition::CONTENT_TYPE;
use crate::latest::Latest;
use crate::profile_api::{MAX_REQUEST_BYTES, ProfileService, profile};

const INDEX: &str = "plumb agent\n\nGET /                this list\nGET /metrics         latest values, \
Prometheus text format 0.0.4\nPOST /api/v1/profile an on-demand profile (Authorization: Bearer TOKEN; JSON body \
{\"duration_secs\":10,\"frequency\":99,\"pids\":[],\"format\":\"svg|folded|pprof|speedscope\",\"event\":\"cpu-clock\"})\n";

/// The router, with the latest body and the profile service as state; tests call it without a
/// socket.
pub fn app(latest: Arc<Latest>, profiles: Arc<ProfileService>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/metrics", get(metrics))
        .route("/api/v1/profile", post(profile).with_state(profiles).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)))
        .fallback(not_found)
        .with_state(latest)
}

async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], INDEX)
}

async fn metrics(State(latest): State<Arc<Latest>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], latest.get())
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found: see GET /\n")
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use tower::ServiceExt;

    use super::*;

    async fn call(app: Router, method: Method, path: &str) -> (StatusCode, String, String) {
        let req = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let ctype =
            resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, ctype, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn routes() {
        let latest = Arc::new(Latest::new("# TYPE a gauge\na 1\n"));
        let no_profiler: crate::profile_api::Profiler =
            Arc::new(|_: &_| Err(crate::profile_api::ProfileFailure::Failed("none".into())));
        let app = app(latest.clone(), Arc::new(ProfileService::new(None, no_profiler)));
        let (s, ct, body) = call(app.clone(), Method::GET, "/metrics").await;
        assert_eq!((s, ct.as_str(), body.as_str()), (StatusCode::OK, CONTENT_TYPE, "# TYPE a gauge\na 1\n"));
        latest.set("# TYPE b gauge\nb 2\n");
        assert_eq!(
            call(app.clone(), Method::GET, "/metrics").await.2,
            "# TYPE b gauge\nb 2\n",
            "serves the newest body"
        );
        let (s, _, body) = call(app.clone(), Method::GET, "/").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("/metrics"));
        assert_eq!(call(app.clone(), Method::GET, "/nope").await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(app.clone(), Method::POST, "/metrics").await.0, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(call(app.clone(), Method::GET, "/api/v1/profile").await.0, StatusCode::METHOD_NOT_ALLOWED);
        let (s, _, body) = call(app, Method::POST, "/api/v1/profile").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "no token configured: {body}");
    }
}
