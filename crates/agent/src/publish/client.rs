//! One publish request and what its answer means: the [`Transport`] seam (a real HTTP client
//! here, a scripted one in tests) and [`classify`], which turns Atlas's status codes into an
//! [`Outcome`].

use std::io::Read;
use std::time::Duration;

/// Longest response body read, in bytes; the rest is ignored.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// What became of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: every datapoint was accepted.
    Accepted,
    /// 202: some datapoints were refused; `errors` of them (0 when the answer does not say).
    Partial { errors: u64, reason: String },
    /// 400 (or 413): none was accepted and sending again would not help. Drop the batch.
    Rejected { status: u16, reason: String },
    /// Connection error, timeout, 5xx, 429 and any other answer: keep the batch and retry later.
    Retry { reason: String },
}

/// Sends one batch body to the server.
pub trait Transport: Send {
    fn post(&mut self, body: &[u8]) -> Outcome;
}

/// The real transport: a blocking HTTP/1.1 client with one overall timeout per request.
pub struct HttpTransport {
    agent: ureq::Agent,
    url: String,
}

impl HttpTransport {
    /// A client POSTing to `url` (plain http), each request bounded by `timeout`.
    pub fn new(url: String, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("plumb-agent/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpTransport { agent: config.into(), url }
    }
}

impl Transport for HttpTransport {
    fn post(&mut self, body: &[u8]) -> Outcome {
        let sent = self.agent.post(&self.url).header("Content-Type", "application/json").send(body);
        match sent {
            Err(e) => Outcome::Retry { reason: one_line(&e.to_string()) },
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let mut text = String::new();
                let _ = resp.body_mut().as_reader().take(MAX_RESPONSE_BYTES).read_to_string(&mut text);
                classify(status, &text)
            }
        }
    }
}

/// What an answer with `status` and `body` means, following Atlas's publish API: 200 all
/// accepted, 202 partly accepted with the errors listed, 400 none accepted.
pub fn classify(status: u16, body: &str) -> Outcome {
    let reason = || format!("HTTP {status}: {}", one_line(body));
    match status {
        202 => Outcome::Partial { errors: error_count(body), reason: reason() },
        200..=299 => Outcome::Accepted,
        400 | 413 => Outcome::Rejected { status, reason: reason() },
        _ => Outcome::Retry { reason: reason() },
    }
}

/// `errorCount` of an Atlas answer such as `{"type":"partial","errorCount":2,"message":[...]}`.
fn error_count(body: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errorCount").and_then(serde_json::Value::as_u64))
        .unwrap_or(0)
}

/// `s` on one line and at most 300 characters, for the log.
pub fn one_line(s: &str) -> String {
    let mut out: String = s.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect();
    if s.trim().chars().count() > 300 {
        out.push('…');
    }
    if out.is_empty() { "(no reason given)".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlas_status_codes() {
        assert_eq!(classify(200, ""), Outcome::Accepted);
        assert_eq!(classify(204, ""), Outcome::Accepted);
        assert_eq!(
            classify(202, r#"{"type":"partial","errorCount":2,"message":["bad","worse"]}"#),
            Outcome::Partial {
                errors: 2,
                reason: r#"HTTP 202: {"type":"partial","errorCount":2,"message":["bad","worse"]}"#.into()
            }
        );
        assert!(matches!(classify(202, "junk"), Outcome::Partial { errors: 0, .. }));
        assert!(
            matches!(classify(400, "missing name\ntag"), Outcome::Rejected { status: 400, ref reason } if reason == "HTTP 400: missing name tag")
        );
        assert!(matches!(classify(413, ""), Outcome::Rejected { status: 413, .. }));
        for s in [429, 500, 502, 503, 404, 401, 301] {
            assert!(matches!(classify(s, ""), Outcome::Retry { .. }), "{s}");
        }
        assert_eq!(one_line(&"x".repeat(400)).chars().count(), 301);
    }
}
