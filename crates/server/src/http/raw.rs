//! `GET /api/v1/raw?s=START&e=END&KEY=VALUE...`: the raw datapoints of every series whose tags
//! equal all the given ones, as `[{"tags":{...},"timestamps":[...],"values":[...]}]`. Times are
//! epoch milliseconds; `s` defaults to 0 and `e` to now. NaN values are written as the string
//! "NaN" (JSON has no NaN), as Atlas does.

use axum::Json;
use axum::extract::{RawQuery, State};
use plumb_tsdb::index::Matcher;
use serde_json::{Value, json};

use super::{ApiError, AppState, with_head};

/// Most series one raw request may return.
pub const MAX_RAW_SERIES: usize = 10_000;

pub async fn raw(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let (start, end, matcher) = parse_query(query.as_deref().unwrap_or(""))?;
    let data = with_head(&state, move |h| h.read(&matcher, start, end))
        .await?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if data.len() > MAX_RAW_SERIES {
        return Err(ApiError::BadRequest(format!(
            "{} series match, more than the limit of {MAX_RAW_SERIES}: add tags to the query",
            data.len()
        )));
    }
    let out: Vec<Value> = data
        .into_iter()
        .map(|s| {
            let tags: serde_json::Map<String, Value> = s.tags.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            let values: Vec<Value> =
                s.values.iter().map(|v| if v.is_finite() { json!(v) } else { json!(float_word(*v)) }).collect();
            json!({"tags": tags, "timestamps": s.timestamps, "values": values})
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

fn float_word(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// `s`, `e` and the tag equalities of the query string.
fn parse_query(query: &str) -> Result<(i64, i64, Matcher), ApiError> {
    let mut start = 0i64;
    let mut end = now_ms();
    let mut matcher: Option<Matcher> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k)?, decode(v)?);
        match k.as_str() {
            "s" => start = v.parse().map_err(|_| ApiError::BadRequest(format!("s={v:?} is not epoch milliseconds")))?,
            "e" => end = v.parse().map_err(|_| ApiError::BadRequest(format!("e={v:?} is not epoch milliseconds")))?,
            _ => {
                let eq = Matcher::Eq(k, v);
                matcher = Some(match matcher {
                    None => eq,
                    Some(m) => Matcher::And(Box::new(m), Box::new(eq)),
                });
            }
        }
    }
    if start > end {
        return Err(ApiError::BadRequest(format!("s={start} is after e={end}")));
    }
    let matcher = matcher.ok_or_else(|| ApiError::BadRequest("no tags given: add e.g. name=cpu.user".into()))?;
    Ok((start, end, matcher))
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let b = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ApiError::BadRequest(format!("bad percent-escape in {s:?}")))?;
                out.push(b);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::BadRequest(format!("{s:?} is not UTF-8 once decoded")))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let (s, e, m) = parse_query("s=10&e=20&name=cpu.user&nf.node=i%2D1").unwrap();
        assert_eq!((s, e), (10, 20));
        assert_eq!(
            m,
            Matcher::And(
                Box::new(Matcher::Eq("name".into(), "cpu.user".into())),
                Box::new(Matcher::Eq("nf.node".into(), "i-1".into()))
            )
        );
        assert!(parse_query("s=x&name=a").is_err());
        assert!(parse_query("s=5&e=1&name=a").is_err());
        assert!(parse_query("s=1").is_err());
        assert!(parse_query("name=%zz").is_err());
    }
}
