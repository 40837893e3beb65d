//! The head: the recent, writable part of the store, in memory.
//!
//! Each series has its closed chunks and one open [`XorChunk`] it appends to; the [`MemIndex`]
//! finds series by tag, and a map from [`SeriesTags`] to [`SeriesId`] resolves writes. An
//! append is checked first (a sample at or before its series' last timestamp is rejected and
//! counted), then written to the [`Wal`] and made durable, and only then applied in memory, so
//! whatever an append acknowledged survives a crash: [`Head::open`] replays the WAL.
//!
//! Design decision: one writer at a time (`&mut self`); the server wraps the head in a lock.
//! Appends are batched per request so a request costs one WAL sync.

mod append;
mod read;

use std::collections::HashMap;
use std::path::Path;

use crate::chunkenc::XorChunk;
use crate::index::MemIndex;
use crate::wal::{ReplayReport, Wal, WalError, WalOptions};
use crate::{SeriesId, SeriesTags};

pub use append::AppendReport;
pub use read::SeriesData;

/// Why the head could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The write-ahead log failed; nothing of the failed append was applied.
    #[error("write-ahead log: {0}")]
    Wal(#[from] WalError),
    /// A query's matcher could not be compiled.
    #[error("bad query: {0}")]
    Query(String),
}

/// One series in memory.
#[derive(Debug)]
struct MemSeries {
    tags: SeriesTags,
    /// Full chunks, oldest first.
    closed: Vec<XorChunk>,
    /// The chunk being appended to.
    open: XorChunk,
    /// The last timestamp appended, for out-of-order checks.
    last_t: Option<i64>,
}

/// The in-memory part of the store, backed by a WAL (or not, for tests and benchmarks).
pub struct Head {
    series: Vec<MemSeries>,
    ids: HashMap<SeriesTags, SeriesId>,
    index: MemIndex,
    wal: Option<Wal>,
}

impl Head {
    /// A head with no WAL: nothing survives the process.
    pub fn in_memory() -> Self {
        Head { series: Vec::new(), ids: HashMap::new(), index: MemIndex::default(), wal: None }
    }

    /// Opens the WAL in `dir`, replaying it into a new head.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Self, ReplayReport), HeadError> {
        let mut head = Head::in_memory();
        let (wal, report) = Wal::open(dir, opts, |record| head.replay(record))?;
        head.wal = Some(wal);
        Ok((head, report))
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
        self.series.iter().map(|s| s.closed.iter().map(XorChunk::len).sum::<usize>() + s.open.len()).sum()
    }

    /// Approximate bytes of memory the head's chunks and index take.
    pub fn memory_bytes(&self) -> usize {
        let chunks: usize = self
            .series
            .iter()
            .map(|s| s.closed.iter().map(|c| c.bytes().len()).sum::<usize>() + s.open.bytes().len())
            .sum();
        chunks + self.index.memory_bytes() + self.series.len() * std::mem::size_of::<MemSeries>()
    }

    /// The index, for tag listings.
    pub fn index(&self) -> &MemIndex {
        &self.index
    }

    /// Adds a series with the next id.
    fn new_series(&mut self, tags: SeriesTags) -> SeriesId {
        let id = self.series.len() as SeriesId;
        self.index.add(id, &tags);
        self.ids.insert(tags.clone(), id);
        self.series.push(MemSeries { tags, closed: Vec::new(), open: XorChunk::new(), last_t: None });
        id
    }
}

#[cfg(test)]
mod tests;
