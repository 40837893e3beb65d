//! pprof tests: round trips through prost, and the encoded bytes read by an independent minimal
//! protobuf wire decoder that knows profile.proto's field numbers (test_data/pprof/ holds its
//! dumps; `PLUMB_BLESS=1` rewrites them).

use super::*;
use crate::model::{Frame, FrameKind};
use proptest::prelude::*;

fn sample_profile() -> Profile {
    let mut profile = Profile::new(ProfileMeta {
        host: Some("db1".into()),
        event: Some("cpu-clock".into()),
        unit: WeightUnit::Samples,
        sampling: Some(Sampling::FrequencyHz(100)),
        start_unix_nanos: Some(1_700_000_000_000_000_000),
        duration: Some(Duration::from_secs(30)),
        sample_count: None,
        lost_samples: 3,
        command_line: Some("./burn --fast".into()),
    });
    profile.add_stack(
        &[
            Frame::user("main"),
            Frame::user("work"),
            Frame::new("inlined_helper", FrameKind::Inlined),
            Frame::kernel("page_fault"),
        ],
        30,
    );
    profile.add_stack(&[Frame::user("main"), Frame::new("jitted", FrameKind::Jit)], 70);
    profile
}

#[test]
fn round_trips_stacks_kinds_and_meta() {
    let profile = sample_profile();
    let bytes = to_pprof(&profile).unwrap();
    assert!(is_gzip(&bytes));
    let read = read_pprof(&bytes).unwrap();
    assert_eq!(read.to_named_stacks(), profile.to_named_stacks());
    assert_eq!(read.meta, profile.meta);
    let raw = read_pprof(&to_pprof_raw(&profile)).unwrap();
    assert_eq!(raw.to_named_stacks(), profile.to_named_stacks());
}

#[test]
fn off_cpu_weights_are_nanoseconds() {
    let mut profile = Profile::new(ProfileMeta {
        event: Some("off-cpu".into()),
        unit: WeightUnit::Nanoseconds,
        ..ProfileMeta::default()
    });
    profile.add_stack(&[Frame::user("main"), Frame::kernel("schedule")], 5_000_000);
    let message = to_message(&profile);
    assert_eq!(message.sample_type.len(), 1);
    let read = read_pprof(&to_pprof(&profile).unwrap()).unwrap();
    assert_eq!(read.meta.unit, WeightUnit::Nanoseconds);
    assert_eq!(read.total(), 5_000_000);
}

#[test]
fn foreign_profile_without_plumb_comments_reads_samples_count() {
    // As Go's runtime/pprof writes a CPU profile: samples/count then cpu/nanoseconds, a
    // mapping for the binary, one location with two lines (an inlined call).
    let s = |v: &str| v.as_bytes().to_vec();
    let message = proto::Profile {
        string_table: vec![
            s(""),
            s("samples"),
            s("count"),
            s("cpu"),
            s("nanoseconds"),
            s("/bin/app"),
            s("main.main"),
            s("main.inl"),
        ],
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }, proto::ValueType { r#type: 3, unit: 4 }],
        mapping: vec![proto::Mapping { id: 1, filename: 5, ..Default::default() }],
        function: vec![
            proto::Function { id: 1, name: 6, ..Default::default() },
            proto::Function { id: 2, name: 7, ..Default::default() },
        ],
        location: vec![
            proto::Location {
                id: 9,
                mapping_id: 1,
                line: vec![proto::Line { function_id: 2, line: 3 }, proto::Line { function_id: 1, line: 10 }],
                ..Default::default()
            },
            proto::Location { id: 10, mapping_id: 1, address: 0x1234, ..Default::default() },
        ],
        sample: vec![proto::Sample { location_id: vec![10, 9], value: vec![7, 70_000_000], label: vec![] }],
        period: 10_000_000,
        period_type: Some(proto::ValueType { r#type: 3, unit: 4 }),
        ..Default::default()
    };
    let profile = from_message(&message).unwrap();
    let expected =
        vec![Frame::user("main.main"), Frame::new("main.inl", FrameKind::Inlined), Frame::user("/bin/app+0x1234")];
    assert_eq!(profile.to_named_stacks().into_iter().collect::<Vec<_>>(), vec![(expected, 7)]);
    assert_eq!(profile.meta.sampling, Some(Sampling::Period(10_000_000)));
    assert_eq!(profile.meta.unit, WeightUnit::Samples);
}

#[test]
fn dangling_references_are_errors() {
    let mut message = to_message(&sample_profile());
    message.sample[0].location_id.push(999);
    assert!(matches!(from_message(&message), Err(Error::PprofInvalid(_))));
    let mut message = to_message(&sample_profile());
    message.function[0].name = 10_000;
    assert!(matches!(from_message(&message), Err(Error::PprofInvalid(_))));
}

// ---- an independent protobuf wire decoder, written from the encoding spec ----

#[derive(Debug, Clone)]
enum Wire {
    Varint(u64),
    Bytes(Vec<u8>),
}

fn varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = bytes[*pos];
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    value
}

/// (field number, value) pairs; panics on wire types profile.proto does not use.
fn fields(bytes: &[u8]) -> Vec<(u64, Wire)> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let key = varint(bytes, &mut pos);
        let value = match key & 7 {
            0 => Wire::Varint(varint(bytes, &mut pos)),
            2 => {
                let len = varint(bytes, &mut pos) as usize;
                let v = bytes[pos..pos + len].to_vec();
                pos += len;
                Wire::Bytes(v)
            }
            t => panic!("wire type {t} in field {}", key >> 3),
        };
        out.push((key >> 3, value));
    }
    out
}

fn packed(value: &Wire) -> Vec<u64> {
    match value {
        Wire::Varint(v) => vec![*v],
        Wire::Bytes(b) => {
            let mut pos = 0;
            let mut out = Vec::new();
            while pos < b.len() {
                out.push(varint(b, &mut pos));
            }
            out
        }
    }
}

fn bytes_of(value: &Wire) -> &[u8] {
    match value {
        Wire::Bytes(b) => b,
        Wire::Varint(_) => panic!("expected a length-delimited field"),
    }
}

/// A text dump of a raw profile.proto with string indices resolved, by field number.
fn dump(raw: &[u8]) -> String {
    let top = fields(raw);
    let strings: Vec<String> =
        top.iter().filter(|(f, _)| *f == 6).map(|(_, v)| String::from_utf8(bytes_of(v).to_vec()).unwrap()).collect();
    assert_eq!(strings.first().map(String::as_str), Some(""), "string_table[0] must be empty");
    let s = |i: u64| format!("{:?}", strings[i as usize]);
    let mut out = String::new();
    for (field, value) in &top {
        let line = match field {
            1 | 11 => {
                let name = if *field == 1 { "sample_type" } else { "period_type" };
                let sub = fields(bytes_of(value));
                let get = |n| sub.iter().find(|(f, _)| *f == n).map_or(0, |(_, v)| packed(v)[0]);
                format!("{name} type={} unit={}", s(get(1)), s(get(2)))
            }
            2 => {
                let sub = fields(bytes_of(value));
                let ids: Vec<u64> = sub.iter().filter(|(f, _)| *f == 1).flat_map(|(_, v)| packed(v)).collect();
                let values: Vec<u64> = sub.iter().filter(|(f, _)| *f == 2).flat_map(|(_, v)| packed(v)).collect();
                format!("sample location_id={ids:?} value={values:?}")
            }
            3 => {
                let sub = fields(bytes_of(value));
                let get = |n| sub.iter().find(|(f, _)| *f == n).map_or(0, |(_, v)| packed(v)[0]);
                format!("mapping id={} filename={} has_functions={}", get(1), s(get(5)), get(7))
            }
            4 => {
                let sub = fields(bytes_of(value));
                let get = |n| sub.iter().find(|(f, _)| *f == n).map_or(0, |(_, v)| packed(v)[0]);
                let lines: Vec<u64> = sub
                    .iter()
                    .filter(|(f, _)| *f == 4)
                    .map(|(_, v)| fields(bytes_of(v)).iter().find(|(f, _)| *f == 1).map_or(0, |(_, v)| packed(v)[0]))
                    .collect();
                format!("location id={} mapping_id={} line.function_id={lines:?}", get(1), get(2))
            }
            5 => {
                let sub = fields(bytes_of(value));
                let get = |n| sub.iter().find(|(f, _)| *f == n).map_or(0, |(_, v)| packed(v)[0]);
                format!("function id={} name={} system_name={}", get(1), s(get(2)), s(get(3)))
            }
            6 => continue,
            9 => format!("time_nanos {}", packed(value)[0]),
            10 => format!("duration_nanos {}", packed(value)[0]),
            12 => format!("period {}", packed(value)[0]),
            13 => {
                let comments: Vec<String> = packed(value).into_iter().map(s).collect();
                format!("comment {}", comments.join(" "))
            }
            other => format!("field {other} {value:?}"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn encoded_bytes_use_profile_proto_field_numbers() {
    let raw = to_pprof_raw(&sample_profile());
    let text = dump(&raw);
    for expected in [
        "sample_type type=\"samples\" unit=\"count\"",
        "sample_type type=\"cpu\" unit=\"nanoseconds\"",
        "period_type type=\"cpu\" unit=\"nanoseconds\"",
        "period 10000000",
        "duration_nanos 30000000000",
        "time_nanos 1700000000000000000",
        "sample location_id=[3, 2, 1] value=[30, 300000000]",
        "sample location_id=[4, 1] value=[70, 700000000]",
        "location id=2 mapping_id=0 line.function_id=[3, 2]",
        "location id=4 mapping_id=2 line.function_id=[5]",
        "mapping id=2 filename=\"[jit]\" has_functions=1",
        "mapping id=1 filename=\"[kernel.kallsyms]\" has_functions=1",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
}

/// test_data/pprof/NAME.folded -> NAME.pprof.txt: the independent decoder's dump of the raw
/// bytes plumb encodes for those stacks (at 99 Hz cpu-clock).
#[test]
fn data_driven_dumps() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/pprof");
    let bless = std::env::var("PLUMB_BLESS").is_ok_and(|v| v == "1");
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for input in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "folded")) {
        cases += 1;
        let mut profile = crate::folded::parse_folded(&std::fs::read(input).unwrap()).profile;
        profile.meta.event = Some("cpu-clock".into());
        profile.meta.sampling = Some(Sampling::FrequencyHz(99));
        let got = dump(&to_pprof_raw(&profile));
        let expected_path = input.with_extension("pprof.txt");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == got => {}
            Ok(expected) => failures.push(format!("{}: expected\n{expected}\ngot\n{got}", expected_path.display())),
            Err(_) => {
                failures.push(format!("{}: missing (PLUMB_BLESS=1 writes it); got\n{got}", expected_path.display()))
            }
        }
    }
    assert!(cases > 0, "no cases in {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn frame_strategy() -> impl Strategy<Value = Frame> {
    let kind = proptest::sample::select(FrameKind::ALL.to_vec());
    ("[a-z_]{1,6}", kind).prop_map(|(name, kind)| Frame::new(name, kind))
}

proptest! {
    #[test]
    fn write_then_read_round_trips(
        stacks in proptest::collection::vec((proptest::collection::vec(frame_strategy(), 1..8), 1u64..1_000_000), 0..20)
    ) {
        let mut profile = Profile::default();
        for (frames, weight) in &stacks {
            profile.add_stack(frames, *weight);
        }
        let read = read_pprof(&to_pprof(&profile).unwrap()).unwrap();
        prop_assert_eq!(read.to_named_stacks(), profile.to_named_stacks());
        prop_assert_eq!(read.meta, profile.meta);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = read_pprof(&bytes);
    }
}
