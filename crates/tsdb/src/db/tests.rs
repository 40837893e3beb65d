use std::collections::BTreeMap;

use super::*;

const R: i64 = 100_000;
const STEP: i64 = 10_000;
const NODES: [&str; 3] = ["i-1", "i-2", "i-3"];

fn tags(node: &str) -> SeriesTags {
    SeriesTags::new(vec![("name".into(), "cpu.user".into()), ("nf.node".into(), node.into())]).unwrap()
}

fn value(k: usize, t: i64) -> f64 {
    (t / STEP) as f64 * (k + 1) as f64 + 0.25
}

fn opts() -> DbOptions {
    DbOptions { block_range_ms: R, retention_ms: 250_000, wal: WalOptions::default() }
}

/// Appends every series' samples at `from, from+STEP, .. < to`, in batches of 10 timestamps.
fn fill(db: &mut Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut batch = Vec::new();
        for (k, node) in NODES.iter().enumerate() {
            batch.extend((0..10).map(|i| t + i * STEP).filter(|&t| t < to).map(|t| (tags(node), t, value(k, t))));
        }
        let n = batch.len();
        assert_eq!(db.append(batch).unwrap().accepted, n);
        t += 10 * STEP;
    }
}

/// The one expectation every path (head only, blocks and head, after a restart) must meet:
/// every sample appended in `[0, upto)` reads back exactly once, whatever the query range.
fn check(db: &Db, upto: i64) {
    let all = Matcher::Eq("name".into(), "cpu.user".into());
    for (start, end) in [(i64::MIN, i64::MAX), (0, upto), (95_000, 215_000), (upto - 25_000, upto)] {
        let got = db.read(&all, start, end).unwrap();
        let mut want = BTreeMap::new();
        for (k, node) in NODES.iter().enumerate() {
            let ts: Vec<i64> = (0..upto).step_by(STEP as usize).filter(|t| *t >= start && *t <= end).collect();
            if !ts.is_empty() {
                want.insert(tags(node), (ts.iter().map(|&t| value(k, t)).collect::<Vec<_>>(), ts));
            }
        }
        assert_eq!(got.len(), want.len(), "range {start}..={end}");
        for s in &got {
            let (values, ts) = &want[&s.tags];
            assert_eq!(&s.timestamps, ts, "range {start}..={end}");
            assert_eq!(&s.values, values);
        }
    }
    assert_eq!(db.tag_values("nf.node"), NODES);
    assert_eq!(db.tag_keys(), ["name", "nf.node"]);
}

/// Samples stored, counting each copy: blocks plus head.
fn stored(db: &Db) -> u64 {
    db.blocks().iter().map(|b| b.meta().samples).sum::<u64>() + db.sample_count() as u64
}

#[test]
fn compaction_cuts_closed_ranges_into_blocks_and_reads_stay_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, report) = Db::open(dir.path(), opts()).unwrap();
    assert!(report.blocks.is_empty() && report.skipped.is_empty());
    // The last sample at 130 s: [0, 100 s) ended only 30 s before it, so it stays open.
    fill(&mut db, 0, 140_000);
    assert_eq!(db.compact(i64::MAX).unwrap(), CompactReport::default(), "nothing closed yet");
    fill(&mut db, 140_000, 500_000);
    check(&db, 500_000);
    // The last sample at 490 s: the ranges ending by 440 s are closed, [0, 100 s) .. [300, 400 s).
    let (head_before, wal_before) = (db.sample_count(), db.wal_bytes());
    let report = db.compact(i64::MAX).unwrap();
    let ranges: Vec<_> = report.blocks.iter().map(|m| (m.min_t, m.max_t, m.series, m.samples)).collect();
    assert_eq!(
        ranges,
        (0..4).map(|k| (k * R, k * R + R - STEP, 3, 30)).collect::<Vec<_>>(),
        "four closed ranges, each whole"
    );
    assert_eq!(head_before, 150);
    assert_eq!(db.sample_count(), 30, "the head keeps [400 s, 490 s]");
    assert!(db.wal_bytes() < wal_before, "the checkpoint shrank the WAL: {} -> {}", wal_before, db.wal_bytes());
    assert!(db.disk_bytes() > 0);
    assert_eq!(stored(&db), 150, "each sample stored once");
    check(&db, 500_000);
    assert_eq!(db.compact(i64::MAX).unwrap().blocks.len(), 0, "a second call finds nothing closed");

    // An old sample, even of a new series, is refused now: its range is in a block.
    let r = db.append(vec![(tags("i-9"), 50_000, 1.0)]).unwrap();
    assert_eq!((r.accepted, r.out_of_order), (0, 1));

    // Restart: blocks plus the checkpointed WAL, nothing twice.
    drop(db);
    let (mut db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.blocks.len(), 4);
    assert!(report.replay.corrupt.is_none());
    assert_eq!(db.sample_count(), 30);
    assert_eq!(stored(&db), 150);
    check(&db, 500_000);

    // And on: more data, another compaction, another restart.
    fill(&mut db, 500_000, 800_000);
    assert_eq!(db.compact(i64::MAX).unwrap().blocks.len(), 3);
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.blocks().len(), 7);
    assert_eq!(stored(&db), 240);
    check(&db, 800_000);
}

#[test]
fn compaction_waits_for_now_when_the_head_runs_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 500_000);
    assert_eq!(db.compact(160_000).unwrap().blocks.len(), 1, "only [0,100 s) ended 50 s before now");
    check(&db, 500_000);
}

#[test]
fn a_crash_between_block_and_wal_checkpoint_reads_each_sample_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 500_000);
    let wal_before = db.wal_bytes();
    assert_eq!(db.write_blocks(i64::MAX).unwrap().blocks.len(), 4);
    assert_eq!(db.wal_bytes(), wal_before, "the WAL still holds everything");
    drop(db);
    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.blocks.len(), 4);
    assert_eq!(db.sample_count(), 30, "replay skipped what the blocks hold");
    assert_eq!(stored(&db), 150);
    check(&db, 500_000);
}

#[test]
fn a_corrupt_block_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 500_000);
    let report = db.compact(i64::MAX).unwrap();
    drop(db);
    let victim = dir.path().join(&report.blocks[1].id);
    let chunks = victim.join(crate::block::CHUNKS_FILE);
    let mut bytes = std::fs::read(&chunks).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&chunks, bytes).unwrap();
    std::fs::create_dir(dir.path().join(format!("{}.tmp", report.blocks[0].id))).unwrap();
    let (db, open) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(open.skipped.len(), 1, "{open:?}");
    assert_eq!(open.skipped[0].0, victim);
    assert!(open.skipped[0].1.contains("corrupt"), "{}", open.skipped[0].1);
    assert_eq!(open.leftovers_removed, 1);
    assert_eq!(db.blocks().len(), 3);
    let got = db.read(&Matcher::Eq("nf.node".into(), "i-1".into()), 0, 500_000).unwrap();
    assert_eq!(got[0].timestamps.len(), 40, "the other blocks and the head still answer");
}

#[test]
fn retention_deletes_only_blocks_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 500_000);
    let metas = db.compact(i64::MAX).unwrap().blocks;
    assert!(db.apply_retention(0).unwrap().is_empty());
    // Retention 250 s at now = 500 s: blocks ending before 250 s go ([0,100) and [100,200)).
    let removed = db.apply_retention(500_000).unwrap();
    assert_eq!(removed, metas[..2].to_vec());
    assert!(!dir.path().join(&metas[0].id).exists() && dir.path().join(&metas[2].id).exists());
    let all = db.read(&Matcher::Eq("nf.node".into(), "i-2".into()), i64::MIN, i64::MAX).unwrap();
    assert_eq!(all[0].timestamps.first(), Some(&200_000));
    assert_eq!(db.sample_count(), 30, "the head is untouched");
    // A deletion a crash interrupted is finished at open.
    std::fs::create_dir(dir.path().join(format!("{}{DELETED_SUFFIX}", metas[0].id))).unwrap();
    drop(db);
    let (db, open) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!((open.leftovers_removed, db.blocks().len()), (1, 2));
}

#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = DbOptions { block_range_ms: 0, ..DbOptions::default() };
    assert!(matches!(Db::open(dir.path(), bad), Err(DbError::Options(_))));
    assert_eq!(DbOptions::default().block_range_ms, 7_200_000);
}

#[test]
fn the_storage_trait_answers_as_the_store_does() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 300_000);
    db.compact(i64::MAX).unwrap();
    let m = Matcher::Has("nf.node".into());
    let via_trait = {
        let s: &mut dyn Storage = &mut db;
        let t = tags("i-4");
        let mut batch = crate::Batch::new();
        batch.push_tags(&t, &[(400_000, 1.0)]);
        s.append(&batch).unwrap();
        (s.read(&m, 0, i64::MAX).unwrap(), s.tag_values("nf.node"))
    };
    assert_eq!(via_trait.0, db.read(&m, 0, i64::MAX).unwrap());
    assert_eq!(via_trait.1, ["i-1", "i-2", "i-3", "i-4"]);
}

/// 1k series × 2 h at 10 s, with values shaped like CPU percentages: prints the bytes per
/// sample the block takes on disk and the WAL took before compaction (not asserted).
#[test]
fn bytes_per_sample_on_disk_for_a_realistic_set() {
    let dir = tempfile::tempdir().unwrap();
    let o = DbOptions { block_range_ms: DEFAULT_BLOCK_RANGE_MS, ..DbOptions::default() };
    let (mut db, _) = Db::open(dir.path(), o).unwrap();
    let names: Vec<SeriesTags> = (0..1000)
        .map(|i| {
            let t = vec![
                ("name".into(), format!("cpu.{}", ["user", "system", "idle", "iowait"][i % 4])),
                ("nf.node".into(), format!("i-{:08x}", i / 4)),
                ("nf.app".into(), format!("app{}", i % 17)),
            ];
            SeriesTags::new(t).unwrap()
        })
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut level: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
    let started = std::time::Instant::now();
    let steps = DEFAULT_BLOCK_RANGE_MS / STEP;
    for chunk in 0..steps / 60 {
        let mut batch = Vec::with_capacity(60_000);
        for step in chunk * 60..(chunk + 1) * 60 {
            for (i, tags) in names.iter().enumerate() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                level[i] = (level[i] + (seed % 21) as f64 / 10.0 - 1.0).clamp(0.0, 100.0);
                batch.push((tags.clone(), step * STEP, (level[i] * 10.0).round() / 10.0));
            }
        }
        db.append(batch).unwrap();
    }
    let wal = db.wal_bytes();
    // One more sample an hour and a half later closes the range.
    db.append(names.iter().map(|t| (t.clone(), DEFAULT_BLOCK_RANGE_MS * 7 / 4, 0.0)).collect()).unwrap();
    let report = db.compact(i64::MAX).unwrap();
    assert_eq!(report.blocks.len(), 1);
    let samples = report.blocks[0].samples as f64;
    println!(
        "1000 series x {steps} samples: block {:.2} bytes/sample ({} bytes), WAL {:.2} bytes/sample, {:.2?}",
        db.disk_bytes() as f64 / samples,
        db.disk_bytes(),
        wal as f64 / samples,
        started.elapsed()
    );
}

#[test]
fn tag_listings_restricted_by_a_matcher_cover_blocks_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    let mk = |pairs: &[(&str, &str)]| {
        SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    };
    db.append(vec![(mk(&[("name", "cpu"), ("nf.node", "i-1"), ("mode", "user")]), 1_000, 1.0)]).unwrap();
    db.append(vec![(mk(&[("name", "mem"), ("nf.node", "i-2")]), 1_000, 1.0)]).unwrap();
    db.append(vec![(mk(&[("name", "cpu"), ("nf.node", "i-3"), ("zone", "a")]), 9_000_000, 1.0)]).unwrap();
    db.compact(i64::MAX).unwrap();
    assert_eq!(db.blocks().len(), 1, "the first two series are in a block, the third in the head");
    let cpu = Matcher::Eq("name".into(), "cpu".into());
    assert_eq!(db.tag_values_matching("nf.node", &cpu).unwrap(), ["i-1", "i-3"]);
    assert_eq!(db.tag_keys_matching(&cpu).unwrap(), ["mode", "name", "nf.node", "zone"]);
    assert_eq!(db.tag_values_matching("nf.node", &Matcher::True).unwrap(), db.tag_values("nf.node"));
    assert!(db.tag_values_matching("nf.node", &Matcher::False).unwrap().is_empty());
}

#[test]
fn flush_head_writes_everything_to_blocks_and_empties_the_wal_of_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 250_000);
    let m = Matcher::Has("nf.node".into());
    let before = db.read(&m, 0, i64::MAX).unwrap();
    let report = db.flush_head().unwrap();
    assert_eq!(report.blocks.len(), 3, "ranges [0,R), [R,2R), [2R,3R) with R = {R}");
    assert_eq!(db.sample_count(), 0);
    assert_eq!(report.checkpoint.unwrap().samples, 0);
    assert_eq!(db.read(&m, 0, i64::MAX).unwrap(), before);
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.read(&m, 0, i64::MAX).unwrap(), before, "the same after a restart");
}

/// Compaction in steps (the server writes the block without the store's lock): while the block
/// is being written, reads still find the range in the head, a late sample inside the range is
/// refused (it would be lost when the range is dropped), and later samples are taken.
#[test]
fn a_compaction_in_steps_lets_appends_and_reads_go_on_while_the_block_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&mut db, 0, 300_000);
    let pending = db.begin_compaction(i64::MAX).unwrap().expect("[0, R) is closed");
    let late = db.append(vec![(tags("i-1"), 50_001, 9.0)]).unwrap();
    assert_eq!((late.accepted, late.out_of_order), (0, 1), "a sample inside the range being written is refused");
    check(&db, 300_000);
    let written = pending.write().unwrap();
    fill(&mut db, 300_000, 320_000);
    let report = db.finish_compaction(written).unwrap();
    assert_eq!(report.blocks.len(), 1);
    assert_eq!((report.blocks[0].min_t, report.blocks[0].max_t), (0, 90_000));
    check(&db, 320_000);
    db.checkpoint().unwrap();
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    check(&db, 320_000);
}

#[test]
fn a_second_open_of_one_directory_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    match Db::open(dir.path(), opts()) {
        Err(e @ DbError::Locked { .. }) => assert!(e.to_string().contains("in use by another process"), "{e}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a second store opened a directory in use"),
    }
    drop(db);
    let (_db, _) = Db::open(dir.path(), opts()).unwrap();
}
