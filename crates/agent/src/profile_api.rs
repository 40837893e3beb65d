//! `POST /api/v1/profile`: an on-demand profile of this instance (Vector's "on-demand flame
//! graph"). The request is a small JSON object (duration, frequency, pids, format, event); the
//! answer is the profile itself (SVG, folded stacks, pprof or speedscope JSON).
//!
//! The agent runs as root, so this endpoint is guarded: it needs `Authorization: Bearer TOKEN`
//! with the token from the agent's configuration (`profile_token_file`). With no token
//! configured the endpoint is disabled (403 naming the setting); a missing or wrong token is 401.
//! One profile runs at a time: a second request meanwhile gets 429.
//!
//! Design decision: the handler knows nothing of perf events. It is handed a [`Profiler`], a
//! plain function run on a blocking thread, so the authentication, the one-at-a-time rule and the
//! request checks are tested here without privileges, and the real recorder is wired in by the
//! runner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Longest profile one request may ask for, in seconds.
pub const MAX_DURATION_SECS: f64 = 300.0;
/// Highest sampling frequency one request may ask for, in Hz.
pub const MAX_FREQUENCY_HZ: u32 = 10_000;
/// Largest request body accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Most pids one request may name.
pub const MAX_PIDS: usize = 1024;

/// What a client asks for. Every field is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Seconds to sample. Default is 10; at most [`MAX_DURATION_SECS`].
    #[serde(default = "default_duration")]
    pub duration_secs: f64,
    /// Samples per second per CPU. Default is 99; at most [`MAX_FREQUENCY_HZ`].
    #[serde(default = "default_frequency")]
    pub frequency: u32,
    /// Only these processes (and their threads). Default is empty: every process on every CPU.
    #[serde(default)]
    pub pids: Vec<u32>,
    /// `svg`, `folded`, `pprof` or `speedscope`. Default is `svg`.
    #[serde(default = "default_format")]
    pub format: String,
    /// `cpu-clock`, `page-faults` or `context-switches`. Default is `cpu-clock`.
    #[serde(default = "default_event")]
    pub event: String,
}

fn default_duration() -> f64 {
    10.0
}
fn default_frequency() -> u32 {
    99
}
fn default_format() -> String {
    "svg".to_string()
}
fn default_event() -> String {
    "cpu-clock".to_string()
}

impl Default for ProfileRequest {
    fn default() -> Self {
        ProfileRequest {
            duration_secs: default_duration(),
            frequency: default_frequency(),
            pids: Vec::new(),
            format: default_format(),
            event: default_event(),
        }
    }
}

impl ProfileRequest {
    /// Checks the values against the limits; the reason names the field.
    pub fn check(&self) -> Result<(), String> {
        if !(self.duration_secs > 0.0 && self.duration_secs <= MAX_DURATION_SECS) {
            return Err(format!("duration_secs must be more than 0 and at most {MAX_DURATION_SECS}"));
        }
        if self.frequency == 0 || self.frequency > MAX_FREQUENCY_HZ {
            return Err(format!("frequency must be 1 to {MAX_FREQUENCY_HZ} Hz"));
        }
        if self.pids.len() > MAX_PIDS {
            return Err(format!("at most {MAX_PIDS} pids"));
        }
        if !matches!(self.format.as_str(), "svg" | "folded" | "pprof" | "speedscope") {
            return Err(format!("format {:?}: use svg, folded, pprof or speedscope", self.format));
        }
        if !matches!(self.event.as_str(), "cpu-clock" | "page-faults" | "context-switches") {
            return Err(format!("event {:?}: use cpu-clock, page-faults or context-switches", self.event));
        }
        Ok(())
    }
}

/// A finished profile: its media type and bytes.
#[derive(Debug, Clone)]
pub struct ProfileReply {
    /// The Content-Type of `body`.
    pub content_type: &'static str,
    /// The profile.
    pub body: Vec<u8>,
}

/// Why a profile could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileFailure {
    /// The request names something that cannot be profiled (e.g. a pid that does not exist): 400.
    BadRequest(String),
    /// Nothing was sampled (the pids or CPUs were idle): 422.
    NoSamples(String),
    /// The machine denies it or something broke: 500, with the reason.
    Failed(String),
}

/// Takes one profile; runs on a blocking thread.
pub type Profiler = Arc<dyn Fn(&ProfileRequest) -> Result<ProfileReply, ProfileFailure> + Send + Sync>;

/// The profiler the agent uses: a [`plumb_record::record`] session as the request says, written
/// in the format it asks for.
pub fn recorder(host: Option<String>) -> Profiler {
    Arc::new(move |request: &ProfileRequest| {
        use plumb_perf::{Event, SampleRate};
        use plumb_record::{RecordError, RecordOptions, Target};
        let event = Event::from_name(&request.event)
            .ok_or_else(|| ProfileFailure::BadRequest(format!("unknown event {:?}", request.event)))?;
        let options = RecordOptions {
            event,
            rate: SampleRate::Frequency(u64::from(request.frequency)),
            target: if request.pids.is_empty() { Target::AllCpus } else { Target::Pids(request.pids.clone()) },
            duration: Some(std::time::Duration::from_secs_f64(request.duration_secs)),
            host: host.clone(),
            ..RecordOptions::default()
        };
        let stop = AtomicBool::new(false);
        let recording = plumb_record::record(&options, &stop, |_| {}).map_err(|e| match e {
            RecordError::Perf(plumb_perf::Error::NoSuchProcess { .. }) => ProfileFailure::BadRequest(e.to_string()),
            e => ProfileFailure::Failed(e.to_string()),
        })?;
        let profile = recording.profile;
        if profile.is_empty() {
            return Err(ProfileFailure::NoSamples(format!(
                "no samples in {} s: nothing ran where the profile looked",
                request.duration_secs
            )));
        }
        // check() accepted the name, so it is one of the formats.
        let format =
            plumb_profile::OutputFormat::from_name(&request.format).unwrap_or(plumb_profile::OutputFormat::Svg);
        let body = plumb_profile::render(&profile, format, None)
            .map_err(|e| ProfileFailure::Failed(format!("cannot write the profile: {e}")))?;
        let content_type = format.content_type();
        Ok(ProfileReply { content_type, body })
    })
}

/// The endpoint's state: the token, the profiler, and whether one is running.
pub struct ProfileService {
    token: Option<String>,
    profiler: Profiler,
    busy: AtomicBool,
}

impl ProfileService {
    /// A service answering with `profiler` to requests bearing `token`; `None` disables it.
    pub fn new(token: Option<String>, profiler: Profiler) -> Self {
        ProfileService { token, profiler, busy: AtomicBool::new(false) }
    }
}

/// Clears the busy flag when the profile ends, however it ends.
struct BusyGuard(Arc<ProfileService>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

fn text(status: StatusCode, reason: impl Into<String>) -> Response {
    let mut body = reason.into();
    body.push('\n');
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Compares without an early exit, so the time taken does not reveal how much of a guess matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

/// `POST /api/v1/profile`.
pub async fn profile(State(service): State<Arc<ProfileService>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = service.token.as_deref() else {
        return text(
            StatusCode::FORBIDDEN,
            "profiling is disabled on this agent: set profile_token_file (--profile-token-file) to enable it",
        );
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
        let mut r =
            text(StatusCode::UNAUTHORIZED, "a profile needs Authorization: Bearer TOKEN with the agent's token");
        r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return r;
    }
    if body.len() > MAX_REQUEST_BYTES {
        return text(StatusCode::PAYLOAD_TOO_LARGE, format!("the request is over {MAX_REQUEST_BYTES} bytes"));
    }
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        ProfileRequest::default()
    } else {
        match serde_json::from_slice::<ProfileRequest>(&body) {
            Ok(r) => r,
            Err(e) => return text(StatusCode::BAD_REQUEST, format!("bad profile request: {e}")),
        }
    };
    if let Err(reason) = request.check() {
        return text(StatusCode::BAD_REQUEST, format!("bad profile request: {reason}"));
    }
    if service.busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "a profile is already running on this agent; try again when it ends",
        );
    }
    let guard = BusyGuard(service.clone());
    let run = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        (service.profiler)(&request)
    });
    match run.await {
        Ok(Ok(reply)) => ([(header::CONTENT_TYPE, reply.content_type)], reply.body).into_response(),
        Ok(Err(ProfileFailure::BadRequest(reason))) => text(StatusCode::BAD_REQUEST, reason),
        Ok(Err(ProfileFailure::NoSamples(reason))) => text(StatusCode::UNPROCESSABLE_ENTITY, reason),
        Ok(Err(ProfileFailure::Failed(reason))) => text(StatusCode::INTERNAL_SERVER_ERROR, reason),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "the profiler thread failed"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Method, Request};
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    fn app(token: Option<&str>, delay: Duration) -> Router {
        let profiler: Profiler = Arc::new(move |r: &ProfileRequest| {
            std::thread::sleep(delay);
            if r.pids.contains(&0) {
                return Err(ProfileFailure::BadRequest("pid 0 does not exist".into()));
            }
            Ok(ProfileReply { content_type: "text/plain", body: format!("{} {}", r.format, r.frequency).into_bytes() })
        });
        let service = Arc::new(ProfileService::new(token.map(String::from), profiler));
        Router::new().route("/api/v1/profile", post(profile)).with_state(service)
    }

    async fn call(app: Router, auth: Option<&str>, body: &str) -> (StatusCode, String) {
        let mut req = Request::builder().method(Method::POST).uri("/api/v1/profile");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let resp = app.oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn needs_the_token() {
        let a = app(Some("s3cret"), Duration::ZERO);
        assert_eq!(call(a.clone(), None, "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(a.clone(), Some("Bearer wrong"), "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(a.clone(), Some("Bearer s3cret0"), "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(a.clone(), Some("s3cret"), "").await.0, StatusCode::UNAUTHORIZED);
        let (status, body) = call(a, Some("Bearer s3cret"), r#"{"format":"folded","frequency":49}"#).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "folded 49"));
    }

    #[tokio::test]
    async fn disabled_without_a_configured_token() {
        let (status, body) = call(app(None, Duration::ZERO), Some("Bearer x"), "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("profile_token_file"), "{body}");
    }

    #[tokio::test]
    async fn bad_requests_name_the_field() {
        let a = app(Some("t"), Duration::ZERO);
        for (body, needle) in [
            (r#"{"duration_secs":0}"#, "duration_secs"),
            (r#"{"duration_secs":301}"#, "duration_secs"),
            (r#"{"frequency":0}"#, "frequency"),
            (r#"{"format":"png"}"#, "format"),
            (r#"{"event":"cycles"}"#, "event"),
            (r#"{"colour":"red"}"#, "colour"),
            ("{", "bad profile request"),
            (r#"{"pids":[0]}"#, "pid 0"),
        ] {
            let (status, text) = call(a.clone(), Some("Bearer t"), body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
            assert!(text.contains(needle), "{body}: {text}");
        }
    }

    #[tokio::test]
    async fn one_at_a_time() {
        let a = app(Some("t"), Duration::from_millis(400));
        let first = tokio::spawn(call(a.clone(), Some("Bearer t"), ""));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, _) = call(a.clone(), Some("Bearer t"), "").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(first.await.unwrap().0, StatusCode::OK);
        // Free again once the first ended.
        assert_eq!(call(a, Some("Bearer t"), "").await.0, StatusCode::OK);
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"", b"a"));
        assert!(same_secret(b"", b""));
    }
}
