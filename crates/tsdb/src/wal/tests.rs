//! Tests of the whole log against real files in temporary directories.

use std::fs;
use std::path::Path;
use std::time::Instant;

use proptest::prelude::*;

use super::segment::encode_frame;
use super::*;
use crate::SeriesTags;

fn tags(pairs: &[(&str, &str)]) -> SeriesTags {
    SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
}

fn open(dir: &Path, opts: WalOptions) -> (Wal, Vec<Record>, ReplayReport) {
    let mut got = Vec::new();
    let (wal, report) = Wal::open(dir, opts, |r| got.push(r)).unwrap();
    (wal, got, report)
}

fn reopen(dir: &Path) -> (Vec<Record>, ReplayReport) {
    let (_, got, report) = open(dir, WalOptions::default());
    (got, report)
}

/// Records compared with values as bits, so NaN equals itself.
fn bits(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r {
            Record::Series(s) => format!("{s:?}"),
            Record::Samples(s) => format!("{:?}", s.iter().map(|&(i, t, v)| (i, t, v.to_bits())).collect::<Vec<_>>()),
        })
        .collect()
}

fn samples(id: u64, from: i64, n: usize) -> Record {
    Record::Samples((0..n).map(|i| (id, from + i as i64 * 1000, i as f64 * 0.5)).collect())
}

fn frame_len(r: &Record) -> u64 {
    let mut buf = Vec::new();
    encode_frame(r, &mut buf).unwrap();
    buf.len() as u64
}

fn seg(dir: &Path, n: u64) -> std::path::PathBuf {
    dir.join(format!("{n:08}"))
}

#[test]
fn round_trip_unicode_tags_and_special_values() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, got, report) = open(dir.path(), WalOptions::default());
    assert!(got.is_empty());
    assert_eq!(report, ReplayReport { segments: 0, records: 0, bytes: 0, corrupt: None });
    let records = vec![
        Record::Series(vec![
            (0, tags(&[("name", "cpu.user"), ("nf.node", "i-1")])),
            (1, tags(&[("name", "température"), ("区域", "東京 🌏"), ("k", "")])),
        ]),
        Record::Samples(vec![
            (0, 1_700_000_000_000, f64::NAN),
            (1, 1_700_000_000_000, f64::from_bits(0xfff0_0000_0000_0001)),
            (0, 1_700_000_010_000, f64::INFINITY),
            (1, -1, f64::NEG_INFINITY),
            (0, i64::MAX, -0.0),
        ]),
    ];
    wal.append(&records).unwrap();
    let size = wal.size_bytes();
    assert_eq!(size, records.iter().map(frame_len).sum::<u64>());
    drop(wal);
    let (got, report) = reopen(dir.path());
    assert_eq!(bits(&got), bits(&records));
    assert_eq!((report.segments, report.records, report.bytes, report.corrupt), (1, 2, size, None));
}

#[test]
fn reopen_appends_after_existing_records() {
    let dir = tempfile::tempdir().unwrap();
    let a = samples(1, 0, 3);
    let b = samples(2, 5000, 4);
    let (mut wal, _, _) = open(dir.path(), WalOptions::default());
    wal.append(std::slice::from_ref(&a)).unwrap();
    drop(wal);
    let (mut wal, got, _) = open(dir.path(), WalOptions::default());
    assert_eq!(got, vec![a.clone()]);
    wal.append(std::slice::from_ref(&b)).unwrap();
    assert_eq!(wal.segments().len(), 2);
    drop(wal);
    let (wal, got, report) = open(dir.path(), WalOptions::default());
    assert_eq!(got, vec![a, b]);
    assert_eq!(report.segments, 2);
    // An open without appends leaves an empty segment, which the next open reuses.
    drop(wal);
    let (wal, _, report) = open(dir.path(), WalOptions::default());
    assert_eq!(report.segments, 3);
    assert_eq!(wal.current_segment(), 3);
}

#[test]
fn rotation_truncation_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { segment_bytes: 200 };
    let (mut wal, _, _) = open(dir.path(), opts.clone());
    let mut written = Vec::new();
    for i in 0..10 {
        // Each record is 9 + 1 + ~11 * 5 bytes, so about three fit a segment.
        let batch = [samples(i, i as i64 * 10_000, 5), samples(i + 100, 0, 5)];
        wal.append(&batch).unwrap();
        written.extend(batch);
    }
    // One record larger than a segment gets a segment of its own.
    let big = samples(7, 0, 100);
    wal.append(std::slice::from_ref(&big)).unwrap();
    written.push(big.clone());
    let segs = wal.segments();
    assert!(segs.len() >= 6, "{segs:?}");
    let on_disk: u64 = segs.iter().map(|(_, p)| fs::metadata(p).unwrap().len()).sum();
    assert_eq!(wal.size_bytes(), on_disk);
    for (n, p) in &segs {
        let len = fs::metadata(p).unwrap().len();
        assert!(len <= 200 || len == frame_len(&big), "segment {n} has {len} bytes");
    }
    assert_eq!(segs.windows(2).filter(|w| w[0].0 + 1 != w[1].0).count(), 0);
    drop(wal);

    let (mut wal, got, report) = open(dir.path(), opts);
    assert_eq!(got, written);
    assert_eq!(report.segments as usize, segs.len());
    assert_eq!(report.bytes, on_disk);
    let cut = segs[3].0;
    wal.truncate_before(cut).unwrap();
    assert_eq!(wal.segments().first().map(|s| s.0), Some(cut));
    assert!(!segs[0].1.exists() && segs[3].1.exists());
    // The segment being written survives any truncation.
    let current = wal.rotate().unwrap();
    wal.truncate_before(u64::MAX).unwrap();
    assert_eq!(wal.segments(), vec![(current, seg(dir.path(), current))]);
    assert_eq!(wal.size_bytes(), 0);
}

#[test]
fn torn_tail_at_every_offset_keeps_earlier_records() {
    let records = [
        Record::Series(vec![(1, tags(&[("name", "m"), ("host", "ä")]))]),
        samples(1, 0, 2),
        Record::Series(vec![(2, tags(&[("name", "n"), ("x", "y")]))]),
    ];
    let src = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = open(src.path(), WalOptions::default());
    wal.append(&records).unwrap();
    drop(wal);
    let full = fs::read(seg(src.path(), 1)).unwrap();
    let last_start = full.len() as u64 - frame_len(&records[2]);
    for cut in last_start..full.len() as u64 {
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg(dir.path(), 1), &full[..cut as usize]).unwrap();
        let (mut wal, got, report) = open(dir.path(), WalOptions::default());
        assert_eq!(got, records[..2], "cut at {cut}");
        assert_eq!((report.records, report.bytes), (2, last_start));
        let dropped = cut - last_start;
        match report.corrupt {
            None => assert_eq!(dropped, 0),
            Some(c) => {
                assert_eq!((c.segment, c.offset, c.dropped_bytes), (1, last_start, dropped), "cut at {cut}");
                assert!(c.moved_aside.is_empty());
                assert!(!c.to_string().is_empty());
            }
        }
        assert_eq!(fs::metadata(seg(dir.path(), 1)).unwrap().len(), last_start);
        wal.append(&records[2..]).unwrap();
        drop(wal);
        let (got, report) = reopen(dir.path());
        assert_eq!(got, records, "cut at {cut}");
        assert_eq!(report.corrupt, None);
    }
}

#[test]
fn flipped_payload_byte_is_a_crc_error_at_its_record() {
    let records = [samples(1, 0, 3), samples(2, 0, 3), samples(3, 0, 3)];
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = open(dir.path(), WalOptions::default());
    wal.append(&records).unwrap();
    drop(wal);
    let path = seg(dir.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    let second = frame_len(&records[0]);
    let at = second as usize + HEADER_BYTES + 4;
    bytes[at] ^= 0x10;
    fs::write(&path, &bytes).unwrap();
    let (got, report) = reopen(dir.path());
    assert_eq!(got, records[..1]);
    let c = report.corrupt.unwrap();
    assert_eq!((c.segment, c.offset, c.dropped_bytes), (1, second, bytes.len() as u64 - second));
    assert!(matches!(c.reason, CorruptKind::Crc { .. }), "{c}");
}

#[test]
fn corruption_in_an_earlier_segment_drops_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { segment_bytes: 1 };
    let records: Vec<_> = (0..4).map(|i| samples(i, 0, 2)).collect();
    let (mut wal, _, _) = open(dir.path(), opts.clone());
    wal.append(&records).unwrap();
    assert_eq!(wal.segments().len(), 4);
    drop(wal);
    let path = seg(dir.path(), 2);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).unwrap();

    let (mut wal, got, report) = open(dir.path(), opts.clone());
    assert_eq!(got, records[..1]);
    let c = report.corrupt.unwrap();
    assert_eq!((c.segment, c.offset), (2, 0));
    assert_eq!(c.dropped_bytes, 3 * frame_len(&records[0]));
    assert_eq!(c.moved_aside, vec![dir.path().join("00000003.dropped"), dir.path().join("00000004.dropped")]);
    assert!(c.moved_aside.iter().all(|p| p.exists()));
    // Segment 2 is now empty and written to again.
    assert_eq!(wal.current_segment(), 2);
    wal.append(&records[3..]).unwrap();
    drop(wal);
    let (got, report) = reopen(dir.path());
    assert_eq!(got, vec![records[0].clone(), records[3].clone()]);
    assert_eq!(report.corrupt, None);
}

#[test]
fn a_missing_segment_stops_replay() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { segment_bytes: 1 };
    let records: Vec<_> = (0..3).map(|i| samples(i, 0, 1)).collect();
    let (mut wal, _, _) = open(dir.path(), opts.clone());
    wal.append(&records).unwrap();
    drop(wal);
    fs::remove_file(seg(dir.path(), 2)).unwrap();
    let (wal, got, report) = open(dir.path(), opts);
    assert_eq!(got, records[..1]);
    let c = report.corrupt.unwrap();
    assert_eq!((c.segment, c.offset, c.reason), (2, 0, CorruptKind::MissingSegment(2)));
    assert_eq!(c.moved_aside.len(), 1);
    assert_eq!(wal.current_segment(), 2);
}

#[test]
fn garbage_segment_and_stray_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(seg(dir.path(), 1), b"this is not a write-ahead log, just some text\n".repeat(10)).unwrap();
    fs::write(dir.path().join("README"), b"ignored").unwrap();
    fs::write(dir.path().join("123"), b"too short a name, ignored").unwrap();
    fs::create_dir(dir.path().join("00000009")).unwrap();
    let (mut wal, got, report) = open(dir.path(), WalOptions::default());
    assert!(got.is_empty());
    let c = report.corrupt.unwrap();
    assert_eq!((c.segment, c.offset, c.dropped_bytes), (1, 0, 460));
    assert_eq!(wal.segments(), vec![(1, seg(dir.path(), 1))]);
    wal.append(&[samples(1, 0, 1)]).unwrap();
    drop(wal);
    let (got, report) = reopen(dir.path());
    assert_eq!((got.len(), report.corrupt), (1, None));
}

#[test]
fn limits_fail_the_call_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = open(dir.path(), WalOptions::default());
    let value = "v".repeat(MAX_STRING_BYTES);
    let mut pairs: Vec<_> = (1..MAX_TAGS_PER_SERIES).map(|i| (format!("k{i:03}"), value.clone())).collect();
    pairs.push(("name".into(), value.clone()));
    let big = SeriesTags::new(pairs).unwrap();
    let record = Record::Series((0..5).map(|i| (i, big.clone())).collect());
    let err = wal.append(&[samples(1, 0, 1), record]).unwrap_err();
    assert!(matches!(err, WalError::RecordTooLarge { bytes } if bytes > MAX_RECORD_BYTES), "{err}");
    assert_eq!(wal.size_bytes(), 0);
    wal.append(&[samples(1, 0, 1)]).unwrap();
    assert_eq!(wal.size_bytes(), frame_len(&samples(1, 0, 1)));
}

#[test]
fn timing_of_append_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = open(dir.path(), WalOptions::default());
    let batch = samples(1, 1_700_000_000_000, 1000);
    let start = Instant::now();
    wal.append(std::slice::from_ref(&batch)).unwrap();
    let one = start.elapsed();
    let start = Instant::now();
    for i in 0..100 {
        wal.append(&[samples(i, 1_700_000_000_000, 10)]).unwrap();
    }
    let hundred = start.elapsed();
    println!(
        "WAL: 1000 samples in one append+sync: {one:?} ({} bytes); 100 appends of 10 samples: {hundred:?}",
        frame_len(&batch)
    );
    drop(wal);
    assert_eq!(reopen(dir.path()).1.records, 101);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_segment_never_panics_and_repairs(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg(dir.path(), 1), &bytes).unwrap();
        let (wal, got, report) = open(dir.path(), WalOptions::default());
        prop_assert_eq!(got.len() as u64, report.records);
        drop(wal);
        let (again, report) = reopen(dir.path());
        prop_assert_eq!(again, got);
        prop_assert_eq!(report.corrupt, None);
    }
}
