use super::*;
use crate::Batch;
use crate::index::Matcher;

fn tags(name: &str, node: &str) -> SeriesTags {
    SeriesTags::new(vec![("name".into(), name.into()), ("nf.node".into(), node.into())]).unwrap()
}

fn eq(k: &str, v: &str) -> Matcher {
    Matcher::Eq(k.into(), v.into())
}

/// 3 series × 1000 samples at a 10 s step, in batches of 100 per series, as a publisher sends.
fn fill(head: &mut Head) {
    for batch in 0..10 {
        let mut samples = Vec::new();
        for (k, node) in ["i-1", "i-2", "i-3"].iter().enumerate() {
            for i in batch * 100..(batch + 1) * 100 {
                let v = if k == 2 { f64::NAN } else { (i * (k + 1)) as f64 + 0.5 };
                samples.push((tags("cpu.user", node), i as i64 * 10_000, v));
            }
        }
        let r = head.append(samples).unwrap();
        assert_eq!(r.accepted, 300);
        assert_eq!(r.new_series, if batch == 0 { 3 } else { 0 });
    }
}

/// The one expectation every path (fresh head, replayed WAL) must meet.
fn check(head: &Head) {
    assert_eq!(head.series_count(), 3);
    let all = head.read(&eq("name", "cpu.user"), i64::MIN, i64::MAX).unwrap();
    assert_eq!(all.len(), 3);
    for s in &all {
        assert_eq!(s.timestamps.len(), 1000, "{:?}", s.tags);
        assert!(s.timestamps.windows(2).all(|w| w[1] - w[0] == 10_000));
    }
    let two = head.read(&eq("nf.node", "i-2"), 50_000, 80_000).unwrap();
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].timestamps, [50_000, 60_000, 70_000, 80_000]);
    assert_eq!(two[0].values, [10.5, 12.5, 14.5, 16.5]);
    let nan = head.read(&eq("nf.node", "i-3"), 0, 0).unwrap();
    assert!(nan[0].values[0].is_nan(), "NaN survives");
    assert!(head.read(&eq("nf.node", "i-9"), i64::MIN, i64::MAX).unwrap().is_empty());
}

#[test]
fn appended_samples_read_back_across_chunk_boundaries() {
    let mut head = Head::in_memory();
    fill(&mut head);
    check(&head);
    assert!(head.series.values().all(|s| !s.closed.is_empty()), "1000 samples span several chunks");
}

#[test]
fn out_of_order_samples_are_rejected_and_counted() {
    let mut head = Head::in_memory();
    let r = head
        .append(vec![
            (tags("m", "a"), 10, 1.0),
            (tags("m", "a"), 10, 2.0),
            (tags("m", "a"), 5, 3.0),
            (tags("m", "a"), 20, 4.0),
            (tags("m", "b"), 7, 5.0),
        ])
        .unwrap();
    assert_eq!(
        r,
        AppendReport { accepted: 3, out_of_order: 2, new_series: 2, out_of_order_at: vec![1, 2], refused_at: vec![] }
    );
    let r = head.append(vec![(tags("m", "a"), 20, 9.0), (tags("m", "c"), 1, 1.0), (tags("m", "c"), 1, 1.0)]).unwrap();
    assert_eq!(
        r,
        AppendReport { accepted: 1, out_of_order: 2, new_series: 1, out_of_order_at: vec![0, 2], refused_at: vec![] }
    );
    let a = head.read(&eq("nf.node", "a"), i64::MIN, i64::MAX).unwrap();
    assert_eq!(a[0].values, [1.0, 4.0]);
}

#[test]
fn a_series_whose_samples_are_all_rejected_is_not_created() {
    let mut head = Head::in_memory();
    head.append(vec![(tags("m", "a"), 10, 1.0)]).unwrap();
    let r = head.append(vec![(tags("m", "a"), 9, 1.0), (tags("m", "z"), 1, 1.0)]).unwrap();
    assert_eq!(r.new_series, 1);
    assert_eq!(head.series_count(), 2);
}

#[test]
fn the_wal_replays_into_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut head, report) = Head::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(report.records, 0);
        fill(&mut head);
        check(&head);
    }
    let (head, report) = Head::open(dir.path(), WalOptions::default()).unwrap();
    assert!(report.corrupt.is_none(), "{report:?}");
    check(&head);
    // and appends continue after the replayed data
    let (mut head, _) = (head, ());
    let r = head.append(vec![(tags("cpu.user", "i-1"), 9_990_000, 1.0), (tags("cpu.user", "i-1"), 10_000_000, 2.0)]);
    assert_eq!(r.unwrap().accepted, 1, "9_990_000 is the last replayed timestamp, so it is out of order");
}

#[test]
fn refused_new_series_are_not_created_and_say_why() {
    let mut head = Head::in_memory();
    head.append(vec![(tags("m", "a"), 1, 1.0)]).unwrap();
    let mut asked = 0;
    let r = head
        .append_admitting(
            vec![
                (tags("m", "a"), 2, 1.0),
                (tags("m", "b"), 2, 1.0),
                (tags("m", "b"), 3, 1.0),
                (tags("m", "c"), 2, 1.0),
            ],
            |t| {
                asked += 1;
                (t.get("nf.node") == Some("b")).then(|| "too many".to_string())
            },
        )
        .unwrap();
    assert_eq!(asked, 2, "asked once per new series, never for existing ones");
    assert_eq!(r.accepted, 2);
    assert_eq!(r.refused_at, vec![(1, "too many".to_string()), (2, "too many".to_string())]);
    assert_eq!(head.series_count(), 2, "a and c; b was refused");
    assert!(head.read(&eq("nf.node", "b"), i64::MIN, i64::MAX).unwrap().is_empty());
}

#[test]
fn replay_keeps_the_wal_ids_and_relogs_a_series_whose_id_was_taken() {
    use crate::wal::{Record, Wal};
    let dir = tempfile::tempdir().unwrap();
    {
        // As a crash in the middle of a WAL truncation can leave it: id 5 named twice.
        let (mut wal, _) = Wal::open(dir.path(), WalOptions::default(), |_| {}).unwrap();
        let records = [
            Record::Series(vec![(5, tags("m", "x"))]),
            Record::Samples(vec![(5, 1, 1.0), (7, 1, 9.0)]),
            Record::Series(vec![(5, tags("m", "y"))]),
            Record::Samples(vec![(5, 2, 2.0)]),
        ];
        wal.append(&records).unwrap();
    }
    for round in 0..3 {
        let (mut head, _) = Head::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(head.series_count(), 2, "round {round}; id 7 was never named");
        assert_eq!(head.select(&eq("nf.node", "x")).unwrap(), [5], "the WAL's id is kept");
        let y = head.read(&eq("nf.node", "y"), i64::MIN, i64::MAX).unwrap();
        assert_eq!(y[0].timestamps, (2..3 + round).collect::<Vec<_>>(), "round {round}");
        assert_eq!(head.read(&eq("nf.node", "x"), i64::MIN, i64::MAX).unwrap()[0].values, [1.0]);
        head.append(vec![(tags("m", "y"), 3 + round, 0.0)]).unwrap();
    }
}

/// Opens the head in `dir`, spilling full chunks to `dir/../spill-<dir name>` when `spill`.
fn open_head(dir: &std::path::Path, spill: bool) -> Head {
    if spill {
        let spill_dir = dir.with_extension("spill");
        Head::open_spilling(dir, &spill_dir, WalOptions::default(), i64::MIN).unwrap().0
    } else {
        Head::open(dir, WalOptions::default()).unwrap().0
    }
}

#[test]
fn drop_before_and_checkpoint_keep_exactly_the_newer_samples() {
    for spill in [false, true] {
        drop_before_and_checkpoint(spill);
    }
}

fn drop_before_and_checkpoint(spill: bool) {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("wal");
    let mut head = open_head(&dir, spill);
    fill(&mut head);
    head.append(vec![(tags("m", "old"), 5_000, 1.0)]).unwrap();
    assert_eq!(head.time_range(), Some((0, 9_990_000)));
    if spill {
        assert!(head.spill_bytes() > 0, "full chunks went to disk");
    }
    let all = head.read(&Matcher::True, i64::MIN, i64::MAX).unwrap();
    assert_eq!(all.iter().map(|s| s.timestamps.len()).sum::<usize>(), 3 * 1000 + 1);
    let cut = head.cut(0, 5_000_000).unwrap();
    assert_eq!(cut.len(), 4);
    assert_eq!(cut.iter().flat_map(|(_, c)| c).map(|c| c.len()).sum::<usize>(), 3 * 500 + 1);
    assert_eq!(head.drop_before(5_000_000).unwrap(), 1, "the series with only an old sample goes");
    assert_eq!(head.sample_count(), 3 * 500);
    assert_eq!(head.min_valid_time(), 5_000_000);
    let before = head.wal_bytes();
    let report = head.checkpoint().unwrap();
    assert_eq!((report.series, report.samples), (3, 1500));
    assert!(report.bytes_after < before);
    drop(head);
    let head = open_head(&dir, spill);
    assert_eq!(head.series_count(), 3);
    let two = head.read(&eq("nf.node", "i-2"), i64::MIN, i64::MAX).unwrap();
    assert_eq!(two[0].timestamps, (500..1000).map(|i| i * 10_000).collect::<Vec<i64>>());
    assert_eq!(two[0].values[0], 1000.5);
}

/// The borrowed-tag path: a batch names known and new series, twice in one batch, out of
/// order, and refused ones; the report's positions are the batch's.
#[test]
fn append_batch_resolves_borrowed_tags_and_reports_positions() {
    let mut h = Head::in_memory();
    let mut b = Batch::new();
    b.push_series([("name", "cpu"), ("nf.node", "i-1")], &[(10, 1.0), (20, 2.0)]).unwrap();
    let r = h.append_batch(&b, |_| None).unwrap();
    assert_eq!((r.accepted, r.new_series), (2, 1));

    let mut b = Batch::new();
    // Known series, keys in another order: one stale sample (pos 0), one new (pos 1).
    b.push_series([("nf.node", "i-1"), ("name", "cpu")], &[(20, 9.0), (30, 3.0)]).unwrap();
    // A new series, then again in the same batch with an older time (pos 3 out of order).
    b.push_series([("name", "mem")], &[(5, 1.0)]).unwrap();
    b.push_series([("name", "mem")], &[(4, 1.0), (6, 2.0)]).unwrap();
    // Refused by admission, twice: asked once.
    b.push_series([("name", "bad")], &[(1, 1.0)]).unwrap();
    b.push_series([("name", "bad")], &[(2, 1.0)]).unwrap();
    let mut asked = 0;
    let r = h
        .append_batch(&b, |t| {
            asked += 1;
            (t.name() == "bad").then(|| "too many".to_string())
        })
        .unwrap();
    assert_eq!(asked, 2, "asked for mem and bad, once each");
    assert_eq!((r.accepted, r.new_series, r.out_of_order), (3, 1, 2));
    assert_eq!(r.out_of_order_at, vec![0, 3]);
    assert_eq!(r.refused_at, vec![(5, "too many".to_string()), (6, "too many".to_string())]);
    let got = h.read(&Matcher::Eq("name".into(), "mem".into()), 0, 100).unwrap();
    assert_eq!(got[0].timestamps, vec![5, 6]);
    let got = h.read(&Matcher::Eq("name".into(), "cpu".into()), 0, 100).unwrap();
    assert_eq!(got[0].values, vec![1.0, 2.0, 3.0]);
    assert_eq!(h.series_count(), 2);
}

#[test]
fn grouping_replayed_samples_by_id_keeps_each_series_in_order() {
    use super::append::group_by_id_for_tests as group;
    let input = vec![(7, 1, 1.0), (5, 1, 2.0), (7, 2, 3.0), (6, 5, 4.0), (5, 0, 5.0), (7, 0, 6.0)];
    let want = vec![(5, 1, 2.0), (5, 0, 5.0), (6, 5, 4.0), (7, 1, 1.0), (7, 2, 3.0), (7, 0, 6.0)];
    assert_eq!(group(input.clone()), want, "counting sort (dense ids)");
    let sparse: Vec<_> = input.iter().map(|&(id, t, v)| (id * 1_000_000, t, v)).collect();
    let want_sparse: Vec<_> = want.iter().map(|&(id, t, v)| (id * 1_000_000, t, v)).collect();
    assert_eq!(group(sparse), want_sparse, "stable sort (sparse ids)");
    assert!(group(Vec::new()).is_empty());
}
