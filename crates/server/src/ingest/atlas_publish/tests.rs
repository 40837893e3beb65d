//! Tests of the Atlas publish decoder: data-driven cases from `test_data/atlas_publish/`,
//! a few direct checks, and property tests (random bytes never panic; random valid payloads
//! come back exactly).
//!
//! A case is `<case>.in.json` (or `<case>.in.json.gz`, sent with `Content-Encoding: gzip`),
//! an optional `<case>.opts` of `key = value` lines overriding [`Limits`] fields, and the
//! expected `<case>.out.json`: status, accepted datapoints (tags sorted by key), rejections
//! and the answer's body. A missing expected file fails; `PLUMB_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::*;

/// The clock every data-driven case is judged against: 2023-11-14T22:13:20Z.
const NOW: i64 = 1_700_000_000_000;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/atlas_publish")
}

/// Applies a `<case>.opts` file to the default limits.
fn limits_for(opts: Option<String>) -> Limits {
    let mut l = Limits::default();
    for line in opts.iter().flat_map(|t| t.lines()).map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("bad opts line {line:?}"));
        let (k, v) = (k.trim(), v.trim());
        let n = || v.parse::<usize>().unwrap_or_else(|_| panic!("{k}: {v:?} is not a number"));
        match k {
            "max_body_bytes" => l.max_body_bytes = n(),
            "max_decoded_bytes" => l.max_decoded_bytes = n(),
            "max_datapoints" => l.max_datapoints = n(),
            "max_tags_per_series" => l.max_tags_per_series = n(),
            "allow_non_finite" => l.allow_non_finite = v == "true",
            "check_reserved_keys" => l.check_reserved_keys = v == "true",
            _ => panic!("unknown opts key {k:?}"),
        }
    }
    l
}

/// A number as JSON, or a string for the values JSON cannot hold.
fn number(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or_else(|| Json::String(rules::non_finite_name(v).to_string()), Json::Number)
}

/// The outcome rendered for an expected file.
fn render(result: &Result<PublishOutcome, DecodeError>) -> Json {
    match result {
        Err(e) => json!({"status": e.status(), "error": e.to_string(), "body": e.body_json()}),
        Ok(o) => {
            let accepted: Vec<Json> = o
                .accepted
                .iter()
                .map(|d| {
                    let mut tags = d.tags.clone();
                    tags.sort();
                    let n = tags.len();
                    tags.dedup_by(|a, b| a.0 == b.0);
                    assert_eq!(n, tags.len(), "accepted tags must have unique keys: {:?}", d.tags);
                    let tags: serde_json::Map<String, Json> =
                        tags.into_iter().map(|(k, v)| (k, Json::String(v))).collect();
                    json!({"tags": tags, "timestamp": d.timestamp_ms, "value": number(d.value)})
                })
                .collect();
            let rejected: Vec<Json> =
                o.rejected.iter().map(|r| json!({"index": r.index, "reason": r.reason})).collect();
            json!({"status": o.status(), "accepted": accepted, "rejected": rejected, "body": o.body_json()})
        }
    }
}

#[test]
fn data_driven_cases() {
    let dir = cases_dir();
    let bless = std::env::var("PLUMB_BLESS").is_ok_and(|v| v == "1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("test_data/atlas_publish exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut inputs = 0;
    for name in &names {
        let (case, encoding) = if let Some(c) = name.strip_suffix(".in.json") {
            (c, None)
        } else if let Some(c) = name.strip_suffix(".in.json.gz") {
            (c, Some("gzip"))
        } else {
            continue;
        };
        inputs += 1;
        let body = std::fs::read(dir.join(name)).expect("read input");
        let limits = limits_for(std::fs::read_to_string(dir.join(format!("{case}.opts"))).ok());
        let got = serde_json::to_string_pretty(&render(&decode_atlas_publish(&body, encoding, NOW, &limits)))
            .expect("render")
            + "\n";
        let expected_path = dir.join(format!("{case}.out.json"));
        if bless {
            std::fs::write(&expected_path, &got).expect("write expected");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{case}: expected\n{want}\ngot\n{got}")),
            Err(_) => failures.push(format!("{case}: no {case}.out.json (PLUMB_BLESS=1 writes it); got\n{got}")),
        }
    }
    for name in &names {
        if let Some(case) = name.strip_suffix(".out.json") {
            let has_input = names.iter().any(|n| *n == format!("{case}.in.json") || *n == format!("{case}.in.json.gz"));
            if !has_input {
                failures.push(format!("{name} has no input"));
            }
        }
    }
    assert!(inputs >= 20, "only {inputs} cases found in {}", dir.display());
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn decode(body: &str) -> Result<PublishOutcome, DecodeError> {
    decode_atlas_publish(body.as_bytes(), None, NOW, &Limits::default())
}

#[test]
fn common_tags_merge_under_own_tags_in_either_order() {
    let metric = format!(r#"[{{"tags":{{"name":"cpu","app":"own"}},"timestamp":{NOW},"value":1}}]"#);
    for body in [
        format!(r#"{{"tags":{{"app":"common","nf.node":"i-1"}},"metrics":{metric}}}"#),
        format!(r#"{{"metrics":{metric},"tags":{{"app":"common","nf.node":"i-1"}}}}"#),
    ] {
        let o = decode(&body).expect("decodes");
        let mut tags = o.accepted.first().expect("accepted").tags.clone();
        tags.sort();
        let want = [("app", "own"), ("name", "cpu"), ("nf.node", "i-1")].map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(tags, want, "{body}");
    }
}

#[test]
fn escaped_strings_are_unescaped() {
    let body = format!(r#"{{"metrics":[{{"tags":{{"na\u006De":"c\u0070u"}},"timestamp":{NOW},"value":"-1.5e3"}}]}}"#);
    let o = decode(&body).expect("decodes");
    assert_eq!(
        o.accepted,
        [Datapoint { tags: vec![("name".into(), "cpu".into())], timestamp_ms: NOW, value: -1500.0 }]
    );
}

#[test]
fn value_strings_follow_atlas() {
    assert_eq!(parse_value_str("NaN").map(f64::is_nan), Some(true));
    assert_eq!(parse_value_str("+Infinity"), Some(f64::INFINITY));
    assert_eq!(parse_value_str("-Infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_value_str("12.5"), Some(12.5));
    for bad in ["", "inf", "nan", "infinity", "1,5", " 1", "0x10", "e"] {
        assert_eq!(parse_value_str(bad), None, "{bad:?}");
    }
}

#[test]
fn too_many_datapoints_refuses_the_body() {
    let point = format!(r#"{{"tags":{{"name":"cpu"}},"timestamp":{NOW},"value":1}}"#);
    let body = format!(r#"{{"metrics":[{point},{point},{point}]}}"#);
    let limits = Limits { max_datapoints: 2, ..Limits::default() };
    let err = decode_atlas_publish(body.as_bytes(), None, NOW, &limits).expect_err("over the limit");
    assert!(err.to_string().contains("more than 2 datapoints"), "{err}");
    let limits = Limits { max_datapoints: 3, ..limits };
    assert_eq!(decode_atlas_publish(body.as_bytes(), None, NOW, &limits).map(|o| o.accepted.len()).ok(), Some(3));
}

/// A quick timing of a 10k-datapoint body, printed, never asserted.
#[test]
fn timing_of_ten_thousand_datapoints() {
    let metrics: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                r#"{{"tags":{{"name":"cpu.user","id":"core{}","statistic":"gauge","nf.node":"i-{}"}},"timestamp":{},"value":{}.25}}"#,
                i % 64,
                i % 100,
                NOW - i,
                i
            )
        })
        .collect();
    let body = format!(r#"{{"tags":{{"nf.app":"web","nf.cluster":"web-main"}},"metrics":[{}]}}"#, metrics.join(","));
    let mut fastest = std::time::Duration::MAX;
    let mut o = PublishOutcome::default();
    for _ in 0..3 {
        let start = std::time::Instant::now();
        o = decode(&body).expect("decodes");
        fastest = fastest.min(start.elapsed());
    }
    let start = std::time::Instant::now();
    let scanned = serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok();
    let scan = start.elapsed();
    eprintln!("10k datapoints, {} bytes: decoded in {fastest:?} (fastest of 3); JSON scan alone {scan:?}", body.len());
    assert!(scanned);
    assert_eq!((o.accepted.len(), o.rejected.len()), (10_000, 0));
}

/// A generated datapoint: tags, timestamp, value.
type Point = (Vec<(String, String)>, i64, f64);

/// A tag key or value within Atlas's rules.
fn tag_string(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[-._A-Za-z0-9^~]{{{min},20}}")).expect("regex")
}

/// A valid datapoint: tags (no `nf.`/`atlas.` keys, unique), timestamp in the window, finite value.
fn valid_point() -> impl Strategy<Value = Point> {
    let tags = proptest::collection::btree_map(tag_string(2), tag_string(1), 0..8);
    let value = prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (-1_000_000i64..1_000_000).prop_map(|v| v as f64)
    ];
    (tag_string(2), tags, -3_600_000i64..=60_000, value).prop_map(|(name, tags, offset, value)| {
        let mut tags: Vec<(String, String)> = tags
            .into_iter()
            .filter(|(k, _)| k != "name" && !k.starts_with("nf.") && !k.starts_with("atlas."))
            .collect();
        tags.push(("name".to_string(), name));
        (tags, NOW + offset, value)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), gz in any::<bool>()) {
        let limits = Limits { max_decoded_bytes: 4096, ..Limits::default() };
        let _ = decode_atlas_publish(&bytes, gz.then_some("gzip"), NOW, &limits);
    }

    #[test]
    fn mangled_valid_bodies_never_panic(points in proptest::collection::vec(valid_point(), 1..4), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let body = encode(&points, true).into_bytes();
        let mut mangled = body.clone();
        let i = cut.index(mangled.len());
        if let Some(b) = mangled.get_mut(i) {
            *b = byte;
        }
        let _ = decode_atlas_publish(&mangled, None, NOW, &Limits::default());
        let _ = decode_atlas_publish(body.get(..i).unwrap_or_default(), None, NOW, &Limits::default());
    }

    #[test]
    fn valid_payloads_round_trip(points in proptest::collection::vec(valid_point(), 1..20), split_common in any::<bool>()) {
        let body = encode(&points, split_common);
        let outcome = decode(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert!(outcome.rejected.is_empty(), "{:?} for {body}", outcome.rejected);
        prop_assert_eq!(outcome.accepted.len(), points.len());
        for (got, (tags, ts, value)) in outcome.accepted.iter().zip(&points) {
            let (mut got_tags, mut want_tags) = (got.tags.clone(), tags.clone());
            got_tags.sort();
            want_tags.sort();
            prop_assert_eq!(got_tags, want_tags);
            prop_assert_eq!(got.timestamp_ms, *ts);
            prop_assert_eq!(got.value.to_bits(), value.to_bits());
        }
    }
}

/// A publish body for `points`; with `split_common`, the `name` tag shared by the first point
/// moves to the common tags where every point overrides it anyway.
fn encode(points: &[Point], split_common: bool) -> String {
    let metrics: Vec<Json> = points
        .iter()
        .map(|(tags, ts, value)| {
            let tags: serde_json::Map<String, Json> =
                tags.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect();
            json!({"tags": tags, "timestamp": ts, "value": value})
        })
        .collect();
    let common = if split_common { json!({"name": "overridden"}) } else { json!({}) };
    json!({"tags": common, "metrics": metrics}).to_string()
}
