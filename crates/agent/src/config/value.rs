//! Parsers for option values: addresses, URLs, durations and sizes, each with the range it may
//! take. They see only the text; the caller says where the text came from when it reports.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// A plumb server to publish to: `http://host[:port][/base]`, without query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: String,
}

impl ServerUrl {
    /// Checks `text` and keeps it without a trailing `/`. Only plain `http://` is supported for
    /// now; an `https://` URL is refused with a message saying so.
    pub fn parse(text: &str) -> Result<ServerUrl, String> {
        let text = text.trim();
        if text.len() > 2048 {
            return Err("longer than 2048 bytes".into());
        }
        if text.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) {
            return Err("https is not supported yet: give an http:// URL (or put a local TLS proxy in front)".into());
        }
        let rest = match text.get(..7) {
            Some(s) if s.eq_ignore_ascii_case("http://") => &text[7..],
            _ => return Err("expected an http:// URL such as http://plumb-server:7101".into()),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err("the URL has no host".into());
        }
        if authority.contains('@') {
            return Err("user names and passwords in the URL are not supported".into());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the URL contains white space or control characters".into());
        }
        if path.contains(['?', '#']) {
            return Err("the URL may not have a query or fragment".into());
        }
        check_port(authority)?;
        let path = path.trim_end_matches('/');
        Ok(ServerUrl { base: format!("http://{authority}{path}") })
    }

    /// The URL as configured, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Where batches are POSTed: `{base}/api/v1/publish`, Atlas's publish endpoint.
    pub fn publish_url(&self) -> String {
        format!("{}/api/v1/publish", self.base)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// Checks the port of `host[:port]` or `[v6]:port`, if there is one.
fn check_port(authority: &str) -> Result<(), String> {
    let port = if let Some(rest) = authority.strip_prefix('[') {
        let Some(end) = rest.find(']') else { return Err("unclosed [ in the IPv6 host".into()) };
        match &rest[end + 1..] {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("junk after the IPv6 host")?),
        }
    } else {
        authority.rsplit_once(':').map(|(_, p)| p)
    };
    match port {
        Some(p) if p.parse::<u16>().is_err() => Err(format!("bad port {p:?}")),
        _ => Ok(()),
    }
}

/// An `IP:PORT` to listen on, e.g. `127.0.0.1:7102` or `[::1]:0`.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| "expected IP:PORT such as 127.0.0.1:7102".to_string())
}

/// A duration such as `1s`, `500ms`, `2m` or `1h`; a bare number is seconds. Must lie within
/// `min..=max`.
pub fn parse_duration(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| "expected a duration such as 1s, 500ms or 2m".to_string())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h")),
    };
    if d < min || d > max {
        return Err(format!("must be between {} and {}", show_duration(min), show_duration(max)));
    }
    Ok(d)
}

/// A size in bytes such as `268435456`, `256MiB`, `1GiB` or `500MB` (KB/MB/GB are powers of
/// 1000, KiB/MiB/GiB powers of 1024). Must lie within `min..=max`.
pub fn parse_size(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| "expected a size such as 256MiB or 1048576".to_string())?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        u => return Err(format!("unknown unit {u:?}: use B, KiB, MiB, GiB, KB, MB or GB")),
    };
    let bytes = n.checked_mul(mult).ok_or("too large")?;
    if bytes < min || bytes > max {
        return Err(format!("must be between {} and {}", show_size(min), show_size(max)));
    }
    Ok(bytes)
}

/// A whole number within `min..=max`.
pub fn parse_count(text: &str, min: usize, max: usize) -> Result<usize, String> {
    let n: usize = text.trim().parse().map_err(|_| "expected a whole number".to_string())?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}"));
    }
    Ok(n)
}

/// A duration as the user would write it.
/// Shortest and longest bearer token accepted, in characters.
pub const TOKEN_LENGTH: (usize, usize) = (16, 4096);

/// The bearer token in the file at `path`: its content without surrounding white space, 16 to
/// 4096 printable ASCII characters (a short token is too easy to guess for an endpoint that runs
/// profilers as root).
pub fn read_token_file(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if bytes.len() > TOKEN_LENGTH.1 + 64 {
        return Err(format!("{path} is over {} bytes: a token file holds one token", TOKEN_LENGTH.1));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{path} is not text"))?;
    parse_token(text.trim()).map_err(|reason| format!("{path}: {reason}"))
}

/// Checks a bearer token's length and characters.
pub fn parse_token(token: &str) -> Result<String, String> {
    let (lo, hi) = TOKEN_LENGTH;
    if token.len() < lo || token.len() > hi {
        return Err(format!("the token must be {lo} to {hi} characters, not {}", token.len()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the token must be printable ASCII without spaces".to_string());
    }
    Ok(token.to_string())
}

pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) { format!("{ms}ms") } else { format!("{}s", ms / 1000) }
}

/// A size as the user would write it.
pub fn show_size(b: u64) -> String {
    for (unit, m) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    format!("{b}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(parse_token("0123456789abcdef").unwrap(), "0123456789abcdef");
        assert!(parse_token("short").unwrap_err().contains("16 to 4096"));
        assert!(parse_token("0123456789 abcdef").unwrap_err().contains("printable"));
        assert!(parse_token(&"x".repeat(4097)).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  0123456789abcdefXYZ\n").unwrap();
        assert_eq!(read_token_file(path.to_str().unwrap()).unwrap(), "0123456789abcdefXYZ");
        let e = read_token_file(dir.path().join("missing").to_str().unwrap()).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn server_urls() {
        let u = ServerUrl::parse("http://plumb:7101/").unwrap();
        assert_eq!(u.as_str(), "http://plumb:7101");
        assert_eq!(u.publish_url(), "http://plumb:7101/api/v1/publish");
        assert_eq!(
            ServerUrl::parse("http://[::1]:80/base/").unwrap().publish_url(),
            "http://[::1]:80/base/api/v1/publish"
        );
        let e = ServerUrl::parse("https://plumb").unwrap_err();
        assert!(e.contains("https is not supported"), "{e}");
        assert!(ServerUrl::parse("plumb:7101").is_err());
        assert!(ServerUrl::parse("http://").is_err());
        assert!(ServerUrl::parse("http://h:99999").is_err());
        assert!(ServerUrl::parse("http://h:1/x?y=1").is_err());
        assert!(ServerUrl::parse("http://u:p@h").is_err());
        assert!(ServerUrl::parse("http://h st").is_err());
    }

    #[test]
    fn durations() {
        let (lo, hi) = (Duration::from_millis(100), Duration::from_secs(3600));
        assert_eq!(parse_duration("1s", lo, hi), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("2", lo, hi), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms", lo, hi), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m", lo, hi), Ok(Duration::from_secs(120)));
        assert!(parse_duration("50ms", lo, hi).unwrap_err().contains("between 100ms and 3600s"));
        assert!(parse_duration("2h", lo, hi).is_err());
        assert!(parse_duration("1.5s", lo, hi).is_err());
        assert!(parse_duration("s", lo, hi).is_err());
        assert!(parse_duration("99999999999999999999h", lo, hi).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB", 1, u64::MAX), Ok(256 << 20));
        assert_eq!(parse_size("1048576", 1, u64::MAX), Ok(1 << 20));
        assert_eq!(parse_size("2 KB", 1, u64::MAX), Ok(2000));
        assert!(parse_size("1TB", 1, u64::MAX).is_err());
        assert!(parse_size("-1", 1, u64::MAX).is_err());
        assert!(parse_size("18446744073709551615GiB", 1, u64::MAX).is_err());
        assert!(parse_size("1KiB", 1 << 20, 1 << 30).unwrap_err().contains("between 1MiB and 1GiB"));
        assert_eq!(show_size(256 << 20), "256MiB");
        assert_eq!(show_size(1000), "1000B");
    }

    #[test]
    fn listen_and_counts() {
        assert_eq!(parse_listen("127.0.0.1:0").unwrap().port(), 0);
        assert!(parse_listen("[::1]:7102").is_ok());
        assert!(parse_listen("localhost").is_err());
        assert_eq!(parse_count("10", 0, 20), Ok(10));
        assert!(parse_count("21", 0, 20).is_err());
        assert!(parse_count("x", 0, 20).is_err());
    }
}
