//! The head: the recent, writable part of the store, in memory.
//!
//! Each series has its closed chunks and one open [`XorChunk`] it appends to; the [`MemIndex`]
//! finds series by tag, and a map from [`SeriesTags`] to [`SeriesId`] resolves writes. An
//! append is checked first (a sample at or before its series' last timestamp is rejected and
//! counted), then written to the [`Wal`] and made durable, and only then applied in memory, so
//! whatever an append acknowledged survives a crash: [`Head::open`] replays the WAL.
//!
//! Compaction ([`crate::db`]) cuts closed time ranges out of the head ([`Head::cut`]), drops
//! them ([`Head::drop_before`]) and shrinks the WAL to what the head still holds
//! ([`Head::checkpoint`]); from then on samples before the cut are refused as out of order.
//!
//! Design decision: one writer at a time (`&mut self`); the server wraps the head in a lock.
//! Appends are batched per request so a request costs one WAL sync. Series are kept by id in a
//! map, so compaction can drop series without renumbering the others, and replay keeps the ids
//! the WAL gave (see `append.rs`). The head's maps hash with foldhash, not std's SipHash: every
//! appended sample is looked up by its tags, and SipHash was a visible share of ingest CPU.
//! foldhash's seeds are random per process and map, so a client cannot precompute colliding
//! tags offline, though it is not a keyed cryptographic hash as SipHash is.

mod append;
mod compact;
mod read;
mod spill;

use std::path::Path;

use foldhash::HashMapExt;
use hashbrown::HashTable;

use crate::batch;
use crate::chunkenc::XorChunk;
use crate::index::MemIndex;
use crate::wal::{ReplayReport, Wal, WalError, WalOptions};
use crate::{SeriesId, SeriesTags};

pub use append::AppendReport;
pub use compact::CheckpointReport;
pub use read::SeriesData;
use spill::Closed;
pub use spill::{MAX_FILE_BYTES, Spill};

/// Why the head could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The write-ahead log failed; nothing of the failed append was applied.
    #[error("write-ahead log: {0}")]
    Wal(#[from] WalError),
    /// A query's matcher could not be compiled.
    #[error("bad query: {0}")]
    Query(String),
    /// A spill file of full head chunks could not be created, written or read.
    #[error("{op} head chunk file {path}: {source}", path = path.display())]
    Spill {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The head's maps: std's `HashMap` with foldhash's per-map random seeds.
type FastMap<K, V> = foldhash::HashMap<K, V>;

/// One series in memory.
#[derive(Debug)]
struct MemSeries {
    tags: SeriesTags,
    /// Full chunks, oldest first, in memory or spilled to disk.
    closed: Vec<Closed>,
    /// The chunk being appended to.
    open: XorChunk,
    /// The last timestamp appended, for out-of-order checks.
    last_t: Option<i64>,
}

/// The in-memory part of the store, backed by a WAL (or not, for tests and benchmarks).
pub struct Head {
    series: FastMap<SeriesId, MemSeries>,
    /// Every series by the hash of its tags ([`batch::hash_tags`]): (hash, id).
    ids: HashTable<(u64, SeriesId)>,
    /// The seed of `ids`' hashes, random per head.
    hasher: foldhash::fast::RandomState,
    index: MemIndex,
    wal: Option<Wal>,
    /// Where full chunks go (none: they stay in memory).
    spill: Option<Spill>,
    /// The id the next new series gets; ids are never reused within a process.
    next_id: SeriesId,
    /// Samples before this time are refused (appends) or skipped (replay): blocks hold them.
    min_valid_t: i64,
    /// During replay, the WAL's series ids mapped to the head's.
    replay_ids: FastMap<SeriesId, SeriesId>,
    /// During replay, samples (under the head's ids) waiting to be applied.
    replay_buffer: Vec<(SeriesId, i64, f64)>,
    /// Series replay had to give another id than the WAL's, to be logged again under it.
    relog: Vec<SeriesId>,
}

impl Head {
    /// A head with no WAL: nothing survives the process.
    pub fn in_memory() -> Self {
        Head {
            series: FastMap::new(),
            ids: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            index: MemIndex::default(),
            wal: None,
            spill: None,
            next_id: 0,
            min_valid_t: i64::MIN,
            replay_ids: FastMap::new(),
            replay_buffer: Vec::new(),
            relog: Vec::new(),
        }
    }

    /// Opens the WAL in `dir`, replaying it into a new head.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Self, ReplayReport), HeadError> {
        Head::open_after(dir, opts, i64::MIN)
    }

    /// [`Head::open_after`], moving full chunks out of memory into files in `spill_dir`
    /// (emptied first: the WAL, not the files, is the durable copy; see `spill.rs`).
    pub fn open_spilling(
        dir: &Path,
        spill_dir: &Path,
        opts: WalOptions,
        min_valid_t: i64,
    ) -> Result<(Self, ReplayReport), HeadError> {
        Head::open_inner(dir, Some(Spill::open(spill_dir)?), opts, min_valid_t)
    }

    /// [`Head::open`], skipping the WAL's samples before `min_valid_t` (blocks hold them) and
    /// refusing later appends before it. Series the replay had to renumber (only after a crash
    /// in the middle of a WAL truncation) are logged again under their new ids before this returns.
    pub fn open_after(dir: &Path, opts: WalOptions, min_valid_t: i64) -> Result<(Self, ReplayReport), HeadError> {
        Head::open_inner(dir, None, opts, min_valid_t)
    }

    fn open_inner(
        dir: &Path,
        spill: Option<Spill>,
        opts: WalOptions,
        min_valid_t: i64,
    ) -> Result<(Self, ReplayReport), HeadError> {
        let mut head = Head::in_memory();
        head.spill = spill;
        head.min_valid_t = min_valid_t;
        let (mut wal, report) = Wal::open(dir, opts, |record| head.replay(record))?;
        head.flush_replay();
        head.replay_ids = FastMap::new();
        head.replay_buffer = Vec::new();
        let relog: Vec<_> = std::mem::take(&mut head.relog)
            .into_iter()
            .filter_map(|id| Some((id, head.series.get(&id)?.tags.clone())))
            .collect();
        if !relog.is_empty() {
            wal.append(&[crate::wal::Record::Series(relog)])?;
        }
        head.wal = Some(wal);
        Ok((head, report))
    }

    /// The time before which samples are refused (`i64::MIN` until a compaction or
    /// [`Head::open_after`] sets it).
    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_t
    }

    /// How many series the head holds.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Bytes of WAL on disk (0 without a WAL).
    pub fn wal_bytes(&self) -> u64 {
        self.wal.as_ref().map_or(0, |w| w.size_bytes())
    }

    /// Samples held in memory.
    pub fn sample_count(&self) -> usize {
        self.series.values().map(|s| s.closed.iter().map(Closed::len).sum::<usize>() + s.open.len()).sum()
    }

    /// Approximate bytes of memory the head's chunks and index take.
    pub fn memory_bytes(&self) -> usize {
        let chunks: usize = self
            .series
            .values()
            .map(|s| {
                s.closed.iter().map(|c| c.memory_bytes() + std::mem::size_of::<Closed>()).sum::<usize>()
                    + s.open.bytes().len()
            })
            .sum();
        let tags: usize = self.series.values().map(|s| s.tags.heap_bytes()).sum();
        chunks + tags + self.index.memory_bytes() + self.series.len() * std::mem::size_of::<MemSeries>()
    }

    /// Bytes of full chunks spilled to disk (0 without a spill directory).
    pub fn spill_bytes(&self) -> u64 {
        self.spill.as_ref().map_or(0, Spill::disk_bytes)
    }

    /// The index, for tag listings.
    pub fn index(&self) -> &MemIndex {
        &self.index
    }

    /// Adds a series with id `id` (which must be free).
    fn new_series(&mut self, id: SeriesId, tags: SeriesTags) {
        self.next_id = self.next_id.max(id.saturating_add(1));
        self.index.add(id, &tags);
        let hash = batch::hash_tags(&self.hasher, tags.iter());
        self.ids.insert_unique(hash, (hash, id), |e| e.0);
        self.series.insert(id, MemSeries { tags, closed: Vec::new(), open: XorChunk::new(), last_t: None });
    }

    /// The id of the series with these tags (sorted by key), whose hash is `hash`.
    fn find_id(&self, hash: u64, tags: &[(&str, &str)]) -> Option<SeriesId> {
        let series = &self.series;
        let found = self
            .ids
            .find(hash, |&(h, id)| h == hash && series.get(&id).is_some_and(|s| batch::same_tags(&s.tags, tags)));
        found.map(|e| e.1)
    }

    /// The id of the series with these owned tags.
    fn find_id_owned(&self, tags: &SeriesTags) -> Option<SeriesId> {
        let hash = batch::hash_tags(&self.hasher, tags.iter());
        let series = &self.series;
        self.ids.find(hash, |&(h, id)| h == hash && series.get(&id).is_some_and(|s| &s.tags == tags)).map(|e| e.1)
    }

    /// Forgets series `id`'s entry in `ids` (the series itself stays in `series`).
    fn forget_id(&mut self, id: SeriesId) {
        let Some(s) = self.series.get(&id) else { return };
        let hash = batch::hash_tags(&self.hasher, s.tags.iter());
        if let Ok(entry) = self.ids.find_entry(hash, |&(h, i)| h == hash && i == id) {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests;
