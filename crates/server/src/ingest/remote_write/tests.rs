//! Tests of the remote write decoder: data-driven cases from `test_data/remote_write/`, direct
//! checks of each rule, and property tests (random bytes and random snappy-wrapped bytes never
//! panic; random valid requests come back exactly).
//!
//! A case is `<case>.in.hex`, a request body (snappy-compressed protobuf) in hex, whitespace
//! ignored, written by `make_inputs.py` independently of the prost types, and the expected
//! `<case>.out.json`: status, accepted datapoints (tags sorted by key, values as their bits
//! too), rejections, or the error. A missing expected file fails; `PLUMB_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::proto::{Exemplar, Histogram, Label, Sample, TimeSeries};
use super::*;

/// The clock every case is judged against: 2023-11-14T22:13:20Z.
const NOW: i64 = 1_700_000_000_000;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/remote_write")
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex {s:?}"))
        })
        .collect()
}

/// The outcome rendered for an expected file.
fn render(result: &Result<PublishOutcome, DecodeError>) -> Json {
    match result {
        Err(e) => json!({"status": e.status(), "error": e.to_string()}),
        Ok(o) => {
            let accepted: Vec<Json> = o
                .accepted
                .iter()
                .map(|d| {
                    let tags: serde_json::Map<String, Json> =
                        d.tags.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect();
                    assert_eq!(tags.len(), d.tags.len(), "accepted tags must have unique keys: {:?}", d.tags);
                    json!({"tags": tags, "timestamp": d.timestamp_ms, "value": format!("{:?}", d.value),
                           "bits": format!("{:016x}", d.value.to_bits())})
                })
                .collect();
            let rejected: Vec<Json> =
                o.rejected.iter().map(|r| json!({"index": r.index, "reason": r.reason})).collect();
            json!({"status": o.status(), "accepted": accepted, "rejected": rejected})
        }
    }
}

#[test]
fn data_driven_cases() {
    let dir = cases_dir();
    let bless = std::env::var("PLUMB_BLESS").is_ok_and(|v| v == "1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("test_data/remote_write exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut inputs = 0;
    for name in &names {
        let Some(case) = name.strip_suffix(".in.hex") else { continue };
        inputs += 1;
        let body = unhex(&std::fs::read_to_string(dir.join(name)).expect("read input"));
        let got = serde_json::to_string_pretty(&render(&decode_remote_write(&body, NOW, &Limits::default())))
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
        if let Some(case) = name.strip_suffix(".out.json")
            && !names.contains(&format!("{case}.in.hex"))
        {
            failures.push(format!("{name} has no input"));
        }
    }
    assert!(inputs >= 5, "only {inputs} cases found in {}", dir.display());
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn labels(pairs: &[(&str, &str)]) -> Vec<Label> {
    pairs.iter().map(|(k, v)| Label { name: k.to_string(), value: v.to_string() }).collect()
}

fn series(pairs: &[(&str, &str)], samples: &[(f64, i64)]) -> TimeSeries {
    TimeSeries {
        labels: labels(pairs),
        samples: samples.iter().map(|&(value, timestamp)| Sample { value, timestamp }).collect(),
        ..TimeSeries::default()
    }
}

fn decode_with(timeseries: Vec<TimeSeries>, limits: &Limits) -> Result<PublishOutcome, DecodeError> {
    let body = encode_remote_write(&WriteRequest { timeseries }).expect("compress");
    decode_remote_write(&body, NOW, limits)
}

fn decode(timeseries: Vec<TimeSeries>) -> PublishOutcome {
    decode_with(timeseries, &Limits::default()).expect("decodes")
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    t.sort();
    t
}

fn reasons(o: &PublishOutcome) -> Vec<(usize, &str)> {
    o.rejected.iter().map(|r| (r.index, r.reason.as_str())).collect()
}

/// A `WriteRequest` of one series whose samples are encoded by hand: prost, like any proto3
/// encoder, leaves out a double equal to zero, so it would send `-0.0` as `0.0`.
fn raw_request(pairs: &[(&str, &str)], samples: &[(f64, i64)]) -> Vec<u8> {
    let mut series = TimeSeries { labels: labels(pairs), ..TimeSeries::default() }.encode_to_vec();
    for &(value, ts) in samples {
        let mut sample = vec![0x09];
        sample.extend(value.to_le_bytes());
        sample.push(0x10);
        prost::encoding::encode_varint(ts as u64, &mut sample);
        series.push(0x12);
        prost::encoding::encode_varint(sample.len() as u64, &mut series);
        series.extend(sample);
    }
    let mut request = vec![0x0a];
    prost::encoding::encode_varint(series.len() as u64, &mut request);
    request.extend(series);
    snap::raw::Encoder::new().compress_vec(&request).expect("compress")
}

#[test]
fn name_label_becomes_name_and_values_are_bit_exact() {
    let values = [1.5, -0.0, 0.0, f64::MIN_POSITIVE, -1e308, 5e-324];
    let samples: Vec<(f64, i64)> = values.iter().enumerate().map(|(i, &v)| (v, NOW - i as i64)).collect();
    let body = raw_request(&[("job", "a/b c"), ("__name__", "http:requests:rate5m")], &samples);
    let o = decode_remote_write(&body, NOW, &Limits::default()).expect("decodes");
    assert_eq!(reasons(&o), []);
    let want_tags = tags(&[("name", "http:requests:rate5m"), ("job", "a/b c")]);
    assert_eq!(o.accepted.len(), values.len());
    for (got, (value, ts)) in o.accepted.iter().zip(&samples) {
        assert_eq!(got.tags, want_tags);
        assert_eq!((got.timestamp_ms, got.value.to_bits()), (*ts, value.to_bits()));
    }
}

#[test]
fn a_name_label_is_renamed_and_empty_values_are_dropped() {
    let o =
        decode(vec![series(&[("__name__", "cpu"), ("name", "k8s_POD"), ("ns", ""), ("pod", "ü 1")], &[(1.0, NOW)])]);
    assert_eq!(
        o.accepted.first().map(|d| d.tags.clone()),
        Some(tags(&[("exported_name", "k8s_POD"), ("name", "cpu"), ("pod", "ü 1")]))
    );
}

#[test]
fn series_rules_reject_every_sample_of_the_series() {
    let long_key = "k".repeat(61);
    let long_value = "v".repeat(121);
    let long_name = "n".repeat(256);
    let cases: [(&[(&str, &str)], &str); 9] = [
        (&[("job", "x")], "missing label '__name__' (the metric name)"),
        (&[("__name__", "cpu"), ("job", "a"), ("job", "b")], "duplicate tag key: \"job\""),
        (&[("__name__", "cpu"), ("__name__", "mem")], "duplicate tag key: \"name\""),
        (&[("__name__", "cpu"), ("name", "x"), ("exported_name", "y")], "duplicate tag key: \"exported_name\""),
        (&[("__name__", "cpu"), ("", "x")], "empty label name"),
        (&[("__name__", "cpu"), ("a\nb", "x")], "invalid characters in key: \"a\\nb\""),
        (&[("__name__", "cpu"), (&long_key, "x")], "key too long"),
        (&[("__name__", "cpu"), ("id", &long_value)], "value too long: id"),
        (&[("__name__", &long_name)], "value too long: name"),
    ];
    for (pairs, want) in cases {
        let o = decode(vec![series(&[("__name__", "ok")], &[(1.0, NOW)]), series(pairs, &[(1.0, NOW), (2.0, NOW)])]);
        assert_eq!(o.accepted.len(), 1, "{want}");
        let got = reasons(&o);
        assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2], "{want}");
        assert!(got.iter().all(|r| r.1.starts_with(want)), "{got:?} should start with {want:?}");
    }
    let reserved = decode(vec![series(&[("__name__", "cpu"), ("nf.bogus", "x")], &[(1.0, NOW)])]);
    assert_eq!(reasons(&reserved), [(0, "invalid key for reserved prefix 'nf.': nf.bogus")]);
    let unchecked = Limits { check_reserved_keys: false, ..Limits::default() };
    let ok = decode_with(vec![series(&[("__name__", "cpu"), ("nf.bogus", "x")], &[(1.0, NOW)])], &unchecked);
    assert_eq!(ok.map(|o| o.accepted.len()).ok(), Some(1));
    let max = Limits::default().max_tags_per_series;
    let names: Vec<String> = (0..max).map(|i| format!("l{i}")).collect();
    let mut many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    many.push(("__name__", "cpu"));
    let o = decode(vec![series(&many, &[(1.0, NOW)])]);
    assert_eq!(reasons(&o), [(0, format!("too many tags: {} > {max}", max + 1).as_str())]);
    many.push(("empty", ""));
    many.remove(0);
    assert_eq!(decode(vec![series(&many, &[(1.0, NOW)])]).accepted.len(), 1, "empty values do not count");
}

#[test]
fn staleness_markers_and_non_finite_values() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let samples = [(stale, NOW), (f64::NAN, NOW), (f64::INFINITY, NOW), (f64::NEG_INFINITY, NOW), (2.0, NOW)];
    let o = decode(vec![series(&[("__name__", "up")], &samples)]);
    let got = reasons(&o);
    assert_eq!(got.first(), Some(&(0, STALENESS_REASON)));
    assert_eq!(got.iter().skip(1).map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(got.iter().skip(1).all(|r| r.1.starts_with("value is not finite")), "{got:?}");
    let lenient = Limits { allow_non_finite: true, ..Limits::default() };
    let o = decode_with(vec![series(&[("__name__", "up")], &samples)], &lenient).expect("decodes");
    assert_eq!(reasons(&o), [(0, STALENESS_REASON)], "staleness markers are refused even when NaN is allowed");
    let bits: Vec<u64> = o.accepted.iter().map(|d| d.value.to_bits()).collect();
    assert_eq!(bits, samples.iter().skip(1).map(|s| s.0.to_bits()).collect::<Vec<_>>());
}

#[test]
fn time_window_applies() {
    let o = decode(vec![series(
        &[("__name__", "up")],
        &[(1.0, NOW - 3_600_001), (1.0, NOW + 60_001), (1.0, NOW + 60_000)],
    )]);
    let got = reasons(&o);
    assert!(got.first().is_some_and(|r| r.0 == 0 && r.1.starts_with("data is too old")), "{got:?}");
    assert!(got.get(1).is_some_and(|r| r.0 == 1 && r.1.starts_with("data is from future")), "{got:?}");
    assert_eq!(o.accepted.len(), 1);
}

#[test]
fn histograms_and_exemplars_are_rejected_in_index_order() {
    let mut with_extras = series(&[("__name__", "rpc")], &[(1.0, NOW), (2.0, NOW)]);
    with_extras.histograms = vec![Histogram { count_int: 3, sum: 1.5, timestamp: NOW }];
    with_extras.exemplars = vec![Exemplar { labels: labels(&[("trace_id", "abc")]), value: 0.2, timestamp: NOW }];
    let o = decode(vec![
        series(&[("__name__", "a")], &[(1.0, NOW)]),
        with_extras,
        series(&[("__name__", "b")], &[(1.0, NOW)]),
    ]);
    assert_eq!(reasons(&o), [(3, HISTOGRAM_REASON), (4, EXEMPLAR_REASON)]);
    assert_eq!(o.accepted.len(), 4);
    assert_eq!(o.accepted.last().map(|d| d.tags.clone()), Some(tags(&[("name", "b")])));
}

#[test]
fn every_accepted_sample_of_a_series_carries_its_tags() {
    // The series' last sample takes the tags rather than copying them: whichever samples pass,
    // each accepted one must still have the whole tag list, renamed labels included.
    let stale = f64::from_bits(STALE_NAN_BITS);
    let pairs = [("__name__", "up"), ("name", "c1"), ("job", "node")];
    let want = tags(&[("name", "up"), ("exported_name", "c1"), ("job", "node")]);
    for last in [1.0, stale] {
        let o = decode(vec![series(&pairs, &[(1.0, NOW - 2), (2.0, NOW - 1), (last, NOW)])]);
        let accepted = if last.is_nan() { 2 } else { 3 };
        assert_eq!(o.accepted.len(), accepted, "last sample {last:?}");
        for d in &o.accepted {
            assert_eq!(d.tags, want, "last sample {last:?}");
        }
    }
}

/// `WriteRequest` with its metadata field, which the decoder's type leaves out.
#[derive(Clone, PartialEq, prost::Message)]
struct WriteRequestWithMetadata {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    metadata: Vec<Label>,
}

#[test]
fn metadata_is_skipped_and_an_empty_request_is_an_empty_outcome() {
    let req = WriteRequestWithMetadata {
        timeseries: vec![series(&[("__name__", "up")], &[(1.0, NOW)])],
        metadata: labels(&[("up", "gauge")]),
    };
    let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).expect("compress");
    let o = decode_remote_write(&body, NOW, &Limits::default()).expect("decodes");
    assert_eq!((o.accepted.len(), o.rejected.len()), (1, 0));
    let empty = decode_remote_write(&[0], NOW, &Limits::default()).expect("an empty request decodes");
    assert_eq!(empty, PublishOutcome::default());
    assert!(matches!(decode_remote_write(&[], NOW, &Limits::default()), Err(DecodeError::EmptyBody)));
}

#[test]
fn size_limits() {
    let l = Limits { max_body_bytes: 10, ..Limits::default() };
    assert!(matches!(decode_remote_write(&[0; 11], NOW, &l), Err(DecodeError::BodyTooLarge { size: 11, limit: 10 })));
    // A snappy bomb: five bytes claiming 4 GiB decoded, refused before anything is allocated.
    let bomb = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01];
    let l = Limits::default();
    assert!(matches!(decode_remote_write(&bomb, NOW, &l), Err(DecodeError::DecodedTooLarge { .. })));
    // A real one: 1 MB of zeros compress to about 47 KB.
    let zeros = snap::raw::Encoder::new().compress_vec(&[0u8; 1 << 20]).expect("compress");
    let l = Limits { max_decoded_bytes: 1000, ..Limits::default() };
    assert!(matches!(decode_remote_write(&zeros, NOW, &l), Err(DecodeError::DecodedTooLarge { limit: 1000 })));
}

#[test]
fn count_limits_refuse_the_body() {
    let l = Limits { max_datapoints: 3, max_tags_per_series: 2, ..Limits::default() };
    let three =
        vec![series(&[("__name__", "a")], &[(1.0, NOW), (2.0, NOW)]), series(&[("__name__", "b")], &[(1.0, NOW)])];
    assert_eq!(decode_with(three.clone(), &l).map(|o| o.accepted.len()).ok(), Some(3));
    let mut four = three.clone();
    four.push(TimeSeries { exemplars: vec![Exemplar::default()], ..TimeSeries::default() });
    let err = decode_with(four, &l).expect_err("4 items");
    assert!(err.to_string().contains("holds 4 samples, histograms and exemplars, more than the limit of 3"), "{err}");
    let empty_series = vec![TimeSeries::default(); 4];
    let err = decode_with(empty_series, &l).expect_err("4 series");
    assert!(err.to_string().contains("holds 4 series"), "{err}");
    let labelled = vec![TimeSeries { labels: labels(&[("a", "b"); 7]), ..TimeSeries::default() }];
    let err = decode_with(labelled, &l).expect_err("7 labels");
    assert!(err.to_string().contains("holds 7 labels, more than the limit of 6"), "{err}");
}

#[test]
fn bad_snappy_and_bad_protobuf_are_refused_with_a_reason() {
    let l = Limits::default();
    let err = decode_remote_write(b"\x05\x00not snappy", NOW, &l).expect_err("bad snappy");
    assert!(err.to_string().contains("not valid snappy"), "{err}");
    assert_eq!(err.status(), 400);
    let garbage = snap::raw::Encoder::new().compress_vec(b"\x0a\x05\x0a\x03\x0a\x09x").expect("compress");
    let err = decode_remote_write(&garbage, NOW, &l).expect_err("bad protobuf");
    assert!(err.to_string().contains("not a valid remote write protobuf WriteRequest"), "{err}");
    let bad_utf8 = encode_remote_write(&WriteRequest { timeseries: vec![series(&[("__name__", "up")], &[])] })
        .expect("compress")
        .iter()
        .map(|&b| if b == b'u' { 0xff } else { b })
        .collect::<Vec<u8>>();
    let err = decode_remote_write(&bad_utf8, NOW, &l).expect_err("invalid UTF-8");
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

/// A quick timing of a 10k-sample request, printed, never asserted.
#[test]
fn timing_of_ten_thousand_samples() {
    let timeseries: Vec<TimeSeries> = (0..1000)
        .map(|i| {
            let (cpu, node) = (format!("{}", i % 64), format!("10.0.{}.{}:9100", i / 250, i % 250));
            let pairs = [
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", &cpu),
                ("instance", &node),
                ("job", "node"),
                ("mode", "idle"),
            ];
            let samples: Vec<(f64, i64)> =
                (0..10).map(|j| (f64::from(i * 10 + j) + 0.25, NOW - i64::from(j) * 15_000)).collect();
            series(&pairs, &samples)
        })
        .collect();
    let body = encode_remote_write(&WriteRequest { timeseries }).expect("compress");
    let mut fastest = std::time::Duration::MAX;
    let mut o = PublishOutcome::default();
    for _ in 0..3 {
        let start = std::time::Instant::now();
        o = decode_remote_write(&body, NOW, &Limits::default()).expect("decodes");
        fastest = fastest.min(start.elapsed());
    }
    eprintln!("10k samples in 1000 series, {} bytes compressed: decoded in {fastest:?} (fastest of 3)", body.len());
    assert_eq!((o.accepted.len(), o.rejected.len()), (10_000, 0));
}

/// A datapoint as compared: tags, timestamp, value bits.
type Point = (Vec<(String, String)>, i64, u64);

/// A label name within Prometheus's classic rule.
fn label_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z_][a-zA-Z0-9_]{0,15}").expect("regex")
}

/// A valid series: unique label names (no `name`, `nf.`/`atlas.`), non-empty values, samples
/// in the time window with any value but the staleness marker (non-finite allowed by the test).
fn valid_series() -> impl Strategy<Value = TimeSeries> {
    let labels = proptest::collection::btree_map(label_name(), "\\PC{1,20}", 0..8);
    let samples = proptest::collection::vec((any::<f64>(), -3_600_000i64..=60_000), 0..5);
    ("[a-zA-Z_:][a-zA-Z0-9_:]{0,30}", labels, samples).prop_map(|(name, labels, samples)| {
        let mut labels: Vec<Label> = labels
            .into_iter()
            .filter(|(k, _)| k != "name" && k != "__name__")
            .map(|(name, value)| Label { name, value })
            .collect();
        labels.push(Label { name: "__name__".into(), value: name });
        let samples = samples
            .into_iter()
            .filter(|(v, _)| v.to_bits() != STALE_NAN_BITS)
            .map(|(value, offset)| Sample { value, timestamp: NOW + offset })
            .collect();
        TimeSeries { labels, samples, ..TimeSeries::default() }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let limits = Limits { max_decoded_bytes: 4096, ..Limits::default() };
        let _ = decode_remote_write(&bytes, NOW, &limits);
    }

    #[test]
    fn random_protobuf_behind_valid_snappy_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let body = snap::raw::Encoder::new().compress_vec(&bytes).expect("compress");
        let _ = decode_remote_write(&body, NOW, &Limits { max_datapoints: 50, ..Limits::default() });
    }

    #[test]
    fn mangled_valid_requests_never_panic(series in proptest::collection::vec(valid_series(), 1..4), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let raw = WriteRequest { timeseries: series }.encode_to_vec();
        let mut mangled = raw.clone();
        let i = cut.index(mangled.len().max(1));
        if let Some(b) = mangled.get_mut(i) {
            *b = byte;
        }
        for body in [&mangled[..], raw.get(..i).unwrap_or_default()] {
            let body = snap::raw::Encoder::new().compress_vec(body).expect("compress");
            let _ = decode_remote_write(&body, NOW, &Limits::default());
        }
    }

    #[test]
    fn valid_requests_round_trip(series in proptest::collection::vec(valid_series(), 1..10)) {
        let limits = Limits { allow_non_finite: true, max_key_len: 100, max_value_len: 100, ..Limits::default() };
        let outcome = decode_with(series.clone(), &limits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(reasons(&outcome), []);
        let want: Vec<Point> = series
            .iter()
            .flat_map(|s| {
                let mut t: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .map(|l| (if l.name == "__name__" { "name".to_string() } else { l.name.clone() }, l.value.clone()))
                    .collect();
                t.sort();
                // prost's encoder leaves out zero doubles, so -0.0 arrives as 0.0.
                s.samples.iter().map(move |p| (t.clone(), p.timestamp, if p.value == 0.0 { 0 } else { p.value.to_bits() }))
            })
            .collect();
        let got: Vec<Point> =
            outcome.accepted.iter().map(|d| (d.tags.clone(), d.timestamp_ms, d.value.to_bits())).collect();
        prop_assert_eq!(got, want);
    }
}

/// A request as compared between the in-place reader and prost: per series its labels, its
/// samples (value bits, timestamp), and how many histograms and exemplars.
type Comparable = Vec<(Vec<(String, String)>, Vec<(u64, i64)>, usize, usize)>;

fn read_in_place(raw: &[u8]) -> Result<Comparable, String> {
    let counts = scan::count(raw)?;
    let w = wire::parse(raw, &counts)?;
    Ok(w.series
        .iter()
        .map(|s| {
            let labels = w.labels[s.labels.clone()].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let samples = w.samples[s.samples.clone()].iter().map(|(v, t)| (v.to_bits(), *t)).collect();
            (labels, samples, s.histograms, s.exemplars)
        })
        .collect())
}

fn read_with_prost(raw: &[u8]) -> Result<Comparable, prost::DecodeError> {
    Ok(WriteRequest::decode(raw)?
        .timeseries
        .into_iter()
        .map(|s| {
            let labels = s.labels.into_iter().map(|l| (l.name, l.value)).collect();
            let samples = s.samples.iter().map(|p| (p.value.to_bits(), p.timestamp)).collect();
            (labels, samples, s.histograms.len(), s.exemplars.len())
        })
        .collect())
}

/// Both refuse `raw`, or both read the same request. Groups (wire types 3 and 4) are the one
/// known difference: prost skips them in unknown fields, plumb refuses them (no sender emits them).
fn agrees_with_prost(raw: &[u8]) -> Result<(), TestCaseError> {
    match (read_in_place(raw), read_with_prost(raw)) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) if e.contains("groups") => {}
        (a, b) => return Err(TestCaseError::fail(format!("in place: {a:?}\nprost: {b:?}"))),
    }
    Ok(())
}

#[test]
fn in_place_reader_agrees_with_prost_on_edge_cases() {
    let full = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: labels(&[("__name__", "up"), ("job", "x")]),
            samples: vec![Sample { value: -1.5, timestamp: -7 }, Sample { value: 2.0, timestamp: i64::MAX }],
            exemplars: vec![Exemplar { labels: labels(&[("trace", "t")]), value: 1.0, timestamp: 3 }],
            histograms: vec![Histogram { count_int: 4, sum: 2.0, timestamp: 5 }],
        }],
    }
    .encode_to_vec();
    let cases: Vec<Vec<u8>> = vec![
        full.clone(),
        vec![],
        vec![0x0a, 0],
        // A label field repeated: the last value wins.
        vec![0x0a, 10, 0x0a, 8, 0x0a, 1, b'a', 0x0a, 1, b'b', 0x12, 1, b'c'],
        // A sample's value sent as a varint: a wire type error for both.
        vec![0x0a, 4, 0x12, 2, 0x08, 1],
        // A ten-byte varint whose last byte carries more than the 64th bit.
        vec![0x0a, 13, 0x12, 11, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        vec![0x0a, 13, 0x12, 11, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        // Field number 0, and a key past 32 bits.
        vec![0x00, 0x00],
        vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0],
        // Invalid UTF-8 in a label value.
        vec![0x0a, 5, 0x0a, 3, 0x12, 1, 0xff],
    ];
    for raw in cases {
        agrees_with_prost(&raw).unwrap_or_else(|e| panic!("{raw:02x?}: {e}"));
    }
    assert_eq!(read_in_place(&full).unwrap().len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn in_place_reader_agrees_with_prost_on_random_bytes(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
        agrees_with_prost(&raw)?;
    }

    #[test]
    fn in_place_reader_agrees_with_prost_on_mangled_requests(
        series in proptest::collection::vec(valid_series(), 1..4),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let raw = WriteRequest { timeseries: series }.encode_to_vec();
        agrees_with_prost(&raw)?;
        let mut mangled = raw.clone();
        let i = cut.index(mangled.len().max(1));
        if let Some(b) = mangled.get_mut(i) {
            *b = byte;
        }
        agrees_with_prost(&mangled)?;
        agrees_with_prost(raw.get(..i).unwrap_or_default())?;
    }
}
