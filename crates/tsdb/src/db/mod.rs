//! The database: the head, its WAL and the on-disk blocks as one store.
//!
//! A data directory holds `wal/` (the head's write-ahead log), one directory per block
//! (`docs/format/README.md`) and `LOCK`, which an open store holds locked so that a second
//! process (a second server, `plumb tsdb`) cannot open it. [`Db::open`] removes what a crash left (`*.tmp`, `*.deleted`),
//! opens every block (a damaged one is reported in [`OpenReport`] and skipped) and replays the
//! WAL into the head, skipping samples blocks already hold. [`Db::append`] goes to the head;
//! [`Db::read`] merges the blocks and the head per series. [`Db::compact`] (`compact.rs`) moves
//! closed time ranges from the head into blocks and shrinks the WAL; [`Db::apply_retention`]
//! (`retention.rs`) deletes blocks past the retention; [`Storage`] (`storage.rs`) is the small
//! trait the server can hold instead of a concrete store.
//!
//! Design decision: the head refuses samples at or before the newest block's last timestamp
//! (after a compaction: before the compacted range's end), so a sample is either in blocks or
//! in the head, and replay can skip the WAL's samples up to that time without losing any.

mod compact;
mod retention;
mod storage;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::block::{Block, BlockError, BlockMeta, block_dirs, cleanup_tmp};
use crate::head::{AppendReport, Head, HeadError, SeriesData};
use crate::index::Matcher;
use crate::wal::{ReplayReport, WalOptions};
use crate::{Batch, SeriesTags};

pub use compact::{CompactReport, PendingBlock, WrittenBlock};
pub use storage::Storage;

/// The default block range, 2 hours.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 2 * 3600 * 1000;
/// The default retention, 15 days.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 3600 * 1000;
/// The name of the WAL's directory inside the data directory.
pub const WAL_DIR: &str = "wal";
/// The name of the directory the head spills its full chunks to (a cache, emptied at open).
pub const HEAD_CHUNKS_DIR: &str = "head_chunks";
/// The name of the file a running store holds a lock on, so no second process opens the directory.
pub const LOCK_FILE: &str = "LOCK";
/// The suffix a block directory gets while retention deletes it.
pub const DELETED_SUFFIX: &str = ".deleted";

/// How the database is laid out and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    /// The time range one block covers, in milliseconds; ranges are aligned to multiples of it.
    /// Default is 2 hours ([`DEFAULT_BLOCK_RANGE_MS`]).
    pub block_range_ms: i64,
    /// How long blocks are kept after their last sample, in milliseconds. Default is 15 days
    /// ([`DEFAULT_RETENTION_MS`]).
    pub retention_ms: i64,
    /// The WAL's options. Default is [`WalOptions::default`].
    pub wal: WalOptions,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            block_range_ms: DEFAULT_BLOCK_RANGE_MS,
            retention_ms: DEFAULT_RETENTION_MS,
            wal: WalOptions::default(),
        }
    }
}

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The head (its WAL, or a query) failed.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// A block could not be written, opened or read.
    #[error("block: {0}")]
    Block(#[from] BlockError),
    /// A file-system operation on the data directory failed.
    #[error("{op} {path}: {source}", path = path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An option is out of its range.
    #[error("bad option: {0}")]
    Options(String),
    /// Another open store (in this or another process) holds the directory's lock.
    #[error("{} is in use by another process (it holds a lock on {}); stop that one first", dir.display(), dir.join(LOCK_FILE).display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
}

/// What [`Db::open`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The blocks opened, oldest first.
    pub blocks: Vec<BlockMeta>,
    /// The block directories skipped, with the reason (a damaged or unreadable block).
    pub skipped: Vec<(PathBuf, String)>,
    /// Leftover `*.tmp` and `*.deleted` directories removed.
    pub leftovers_removed: usize,
    /// What replaying the WAL did.
    pub replay: ReplayReport,
    /// How long opening took.
    pub elapsed: Duration,
}

/// The store: blocks on disk, the head in memory.
pub struct Db {
    dir: PathBuf,
    opts: DbOptions,
    head: Head,
    /// Open blocks, ordered by first timestamp.
    blocks: Vec<Block>,
    /// The data directory's lock file, locked exclusively while the store is open; the kernel
    /// drops the lock when the file is closed, also when the process dies.
    _lock: std::fs::File,
}

/// Opens the data directory's lock file and locks it exclusively (flock), or fails with
/// [`DbError::Locked`] when another open store holds it. Two processes writing one WAL and
/// compacting the same head into blocks would corrupt the store.
fn lock_dir(dir: &Path) -> Result<std::fs::File, DbError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DbError::Io { op: "opening", path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DbError::Locked { dir: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(source)) => Err(DbError::Io { op: "locking", path, source }),
    }
}

impl Db {
    /// Opens (or creates) the store in `dir`: cleans up, opens the blocks, replays the WAL.
    pub fn open(dir: &Path, opts: DbOptions) -> Result<(Db, OpenReport), DbError> {
        let started = std::time::Instant::now();
        if opts.block_range_ms <= 0 || opts.retention_ms < 0 {
            return Err(DbError::Options(format!(
                "block range {} ms must be positive and retention {} ms not negative",
                opts.block_range_ms, opts.retention_ms
            )));
        }
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io { op: "creating", path: dir.into(), source })?;
        let lock = lock_dir(dir)?;
        let mut report = OpenReport {
            leftovers_removed: cleanup_tmp(dir)? + retention::cleanup_deleted(dir)?,
            ..OpenReport::default()
        };
        let mut blocks = Vec::new();
        for path in block_dirs(dir)? {
            match Block::open(&path) {
                Ok(b) => blocks.push(b),
                Err(e) => report.skipped.push((path, e.to_string())),
            }
        }
        blocks.sort_by_key(|b| (b.meta().min_t, b.meta().max_t));
        report.blocks = blocks.iter().map(|b| b.meta().clone()).collect();
        let min_valid = blocks.iter().map(|b| b.meta().max_t).max().map_or(i64::MIN, |t| t.saturating_add(1));
        let (head, replay) =
            Head::open_spilling(&dir.join(WAL_DIR), &dir.join(HEAD_CHUNKS_DIR), opts.wal.clone(), min_valid)?;
        report.replay = replay;
        report.elapsed = started.elapsed();
        Ok((Db { dir: dir.to_path_buf(), opts, head, blocks, _lock: lock }, report))
    }

    /// Appends to the head; see [`Head::append`].
    pub fn append(&mut self, samples: Vec<(SeriesTags, i64, f64)>) -> Result<AppendReport, DbError> {
        Ok(self.head.append(samples)?)
    }

    /// Appends to the head asking `admit` before each new series; see [`Head::append_admitting`].
    pub fn append_admitting(
        &mut self,
        samples: Vec<(SeriesTags, i64, f64)>,
        admit: impl FnMut(&SeriesTags) -> Option<String>,
    ) -> Result<AppendReport, DbError> {
        Ok(self.head.append_admitting(samples, admit)?)
    }

    /// Appends a [`Batch`] to the head asking `admit` before each new series; see
    /// [`Head::append_batch`].
    pub fn append_batch(
        &mut self,
        batch: &Batch<'_>,
        admit: impl FnMut(&SeriesTags) -> Option<String>,
    ) -> Result<AppendReport, DbError> {
        Ok(self.head.append_batch(batch, admit)?)
    }

    /// The samples of every series `m` selects with `start <= t <= end`, from the blocks that
    /// overlap the range and the head, one [`SeriesData`] per series (in tag order) with
    /// ascending, distinct timestamps.
    ///
    /// Each place gives a series' samples ascending and distinct (the head refuses samples out
    /// of order, a block's chunks follow each other), so a series found in one place only is
    /// passed on as it is; only a series found in several is merged, sorted and deduplicated.
    pub fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, DbError> {
        let mut places: Vec<Vec<SeriesData>> = Vec::new();
        for b in self.blocks.iter().filter(|b| b.meta().max_t >= start && b.meta().min_t <= end) {
            places.push(b.read(m, start, end)?);
        }
        places.push(self.head.read(m, start, end)?);
        places.retain(|p| !p.is_empty());
        if places.len() <= 1 {
            let mut out = places.pop().unwrap_or_default();
            out.sort_unstable_by(|a, b| a.tags.cmp(&b.tags));
            return Ok(out);
        }
        let mut by_tags: BTreeMap<SeriesTags, Vec<SeriesData>> = BTreeMap::new();
        for d in places.into_iter().flatten() {
            match by_tags.get_mut(&d.tags) {
                Some(parts) => parts.push(d),
                None => {
                    by_tags.insert(d.tags.clone(), vec![d]);
                }
            }
        }
        Ok(by_tags.into_values().filter_map(merge_parts).collect())
    }

    /// The tag keys of the blocks and the head, sorted.
    pub fn tag_keys(&self) -> Vec<String> {
        let mut keys: BTreeSet<&str> = self.head.index().tag_keys().collect();
        self.blocks.iter().for_each(|b| keys.extend(b.tag_keys()));
        keys.into_iter().map(str::to_string).collect()
    }

    /// The values of `key` in the blocks and the head, sorted.
    pub fn tag_values(&self, key: &str) -> Vec<String> {
        let mut values: BTreeSet<&str> = self.head.index().tag_values(key).collect();
        self.blocks.iter().for_each(|b| values.extend(b.tag_values(key)));
        values.into_iter().map(str::to_string).collect()
    }

    /// The tag keys of the series `m` selects in the blocks and the head, sorted.
    pub fn tag_keys_matching(&self, m: &Matcher) -> Result<Vec<String>, DbError> {
        let mut keys: BTreeSet<&str> = BTreeSet::new();
        self.each_selected(m, |tags| keys.extend(tags.iter().map(|(k, _)| k)))?;
        Ok(keys.into_iter().map(str::to_string).collect())
    }

    /// The values of `key` in the series `m` selects in the blocks and the head, sorted.
    pub fn tag_values_matching(&self, key: &str, m: &Matcher) -> Result<Vec<String>, DbError> {
        let mut values: BTreeSet<&str> = BTreeSet::new();
        self.each_selected(m, |tags| values.extend(tags.get(key)))?;
        Ok(values.into_iter().map(str::to_string).collect())
    }

    /// Calls `f` with the tags of every series `m` selects, in the blocks then the head (a
    /// series in several is visited once per place).
    fn each_selected<'s>(&'s self, m: &Matcher, mut f: impl FnMut(&'s SeriesTags)) -> Result<(), DbError> {
        for b in &self.blocks {
            b.select(m)?.into_iter().filter_map(|r| b.tags(r)).for_each(&mut f);
        }
        self.head.select(m)?.into_iter().filter_map(|id| self.head.tags(id)).for_each(&mut f);
        Ok(())
    }

    /// Series in the head.
    pub fn series_count(&self) -> usize {
        self.head.series_count()
    }

    /// Samples in the head.
    pub fn sample_count(&self) -> usize {
        self.head.sample_count()
    }

    /// Approximate memory of the head and the blocks' loaded indexes, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.head.memory_bytes() + self.blocks.iter().map(Block::memory_bytes).sum::<usize>()
    }

    /// Bytes of WAL on disk.
    pub fn wal_bytes(&self) -> u64 {
        self.head.wal_bytes()
    }

    /// Bytes of blocks on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.blocks.iter().map(Block::disk_bytes).sum()
    }

    /// Bytes of the head's full chunks spilled to disk.
    pub fn spill_bytes(&self) -> u64 {
        self.head.spill_bytes()
    }

    /// The open blocks, oldest first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The head.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &DbOptions {
        &self.opts
    }
}

/// One series' samples from several places as one, ascending and distinct (the first place's
/// sample wins a tie, as blocks come before the head); `None` for no parts.
fn merge_parts(mut parts: Vec<SeriesData>) -> Option<SeriesData> {
    if parts.len() <= 1 {
        return parts.pop();
    }
    let mut samples: Vec<(i64, f64)> = Vec::with_capacity(parts.iter().map(|p| p.timestamps.len()).sum());
    for p in &parts {
        samples.extend(p.timestamps.iter().copied().zip(p.values.iter().copied()));
    }
    samples.sort_by_key(|&(t, _)| t);
    samples.dedup_by_key(|&mut (t, _)| t);
    let (timestamps, values) = samples.into_iter().unzip();
    let tags = parts.swap_remove(0).tags;
    Some(SeriesData { tags, timestamps, values })
}

#[cfg(test)]
mod read_tests {
    use super::*;

    fn tags(node: &str) -> SeriesTags {
        SeriesTags::new(vec![("name".into(), "cpu".into()), ("nf.node".into(), node.into())]).unwrap()
    }

    #[test]
    fn a_series_in_several_places_merges_ascending_and_the_first_place_wins_a_tie() {
        let part = |ts: &[i64], v: f64| SeriesData {
            tags: tags("i-1"),
            timestamps: ts.to_vec(),
            values: ts.iter().map(|_| v).collect(),
        };
        let merged = merge_parts(vec![part(&[10, 30], 1.0), part(&[20, 30, 40], 2.0)]).unwrap();
        assert_eq!(merged.timestamps, [10, 20, 30, 40]);
        assert_eq!(merged.values, [1.0, 2.0, 1.0, 2.0]);
        assert_eq!(merge_parts(vec![part(&[5], 3.0)]).unwrap(), part(&[5], 3.0));
        assert_eq!(merge_parts(vec![]), None);
    }

    #[test]
    fn series_read_from_the_head_alone_come_in_tag_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut db, _) = Db::open(dir.path(), DbOptions::default()).unwrap();
        // Created in reverse tag order, so series ids run against tag order.
        let batch: Vec<_> = ["i-3", "i-2", "i-1"].iter().map(|n| (tags(n), 1_000, 1.0)).collect();
        db.append(batch).unwrap();
        let got = db.read(&Matcher::Eq("name".into(), "cpu".into()), 0, 2_000).unwrap();
        let nodes: Vec<_> = got.iter().map(|s| s.tags.get("nf.node").unwrap().to_string()).collect();
        assert_eq!(nodes, ["i-1", "i-2", "i-3"]);
    }
}
