use super::*;
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
    assert!(head.series.iter().all(|s| !s.closed.is_empty()), "1000 samples span several chunks");
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
