//! The write-ahead log: every acknowledged write is durable here before the head applies it.
//!
//! A WAL is a directory of numbered segment files (`00000001`, `00000002`, ...), each at most
//! [`WalOptions::segment_bytes`]. Each holds framed [`Record`]s (length, CRC32, type byte,
//! payload; records never span segments), laid out in `docs/format/wal.md`. [`Wal::open`]
//! replays every segment in order into a callback, so a large log is never held in memory, then
//! writes into a new segment; [`Wal::append`] writes a batch and syncs it once before
//! returning. Compaction later calls [`Wal::rotate`] and [`Wal::truncate_before`] to drop what
//! blocks now hold.
//!
//! Design decision: damage is data, not an error. A torn or corrupt frame stops replay; the
//! log is repaired on the spot (the segment truncated to its last good record, later segments
//! renamed aside) and [`ReplayReport::corrupt`] says what was dropped, so a crash mid-write
//! costs only the unacknowledged tail, and the next open is clean.
//!
//! Files: `record` (record types and payloads), `segment` (names, framing, scanning one
//! segment), `replay` (reading all segments and repairing), `writer` (the [`Wal`] itself).

mod record;
mod replay;
mod segment;
mod writer;

#[cfg(test)]
mod tests;

use std::io;
use std::path::PathBuf;

use crate::SeriesId;

pub use record::{
    DecodeError, MAX_RECORD_BYTES, MAX_STRING_BYTES, MAX_TAGS_PER_SERIES, Record, TYPE_SAMPLES, TYPE_SERIES,
    TYPE_TOMBSTONES,
};
pub use replay::{Corruption, ReplayReport};
pub use segment::{CorruptKind, HEADER_BYTES};
pub use writer::Wal;

/// The default segment size, 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

/// How the WAL is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// The size a segment may reach before the next record goes to a new one (a single record
    /// larger than this gets a segment of its own). Default is 64 MiB ([`DEFAULT_SEGMENT_BYTES`]).
    pub segment_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions { segment_bytes: DEFAULT_SEGMENT_BYTES }
    }
}

/// Why a WAL operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file-system operation on the log failed.
    #[error("WAL: {op} {path}: {source}", path = path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A record's payload would exceed [`MAX_RECORD_BYTES`]; split the batch.
    #[error("a WAL record of {bytes} bytes exceeds the {MAX_RECORD_BYTES}-byte limit")]
    RecordTooLarge {
        /// The payload size.
        bytes: usize,
    },
    /// A series has more than [`MAX_TAGS_PER_SERIES`] tags.
    #[error("series {id} has {count} tags, more than {MAX_TAGS_PER_SERIES}")]
    TooManyTags {
        /// The series.
        id: SeriesId,
        /// Its number of tags.
        count: usize,
    },
    /// A tag key or value is longer than [`MAX_STRING_BYTES`].
    #[error("series {id} has a tag string of {bytes} bytes, more than {MAX_STRING_BYTES}")]
    StringTooLong {
        /// The series.
        id: SeriesId,
        /// The string's length.
        bytes: usize,
    },
    /// An earlier write or sync failed in a way that leaves the log's state unknown; reopen it.
    #[error("the WAL is unusable after an earlier write or sync failure; reopen it")]
    Broken,
    /// The segment numbers have reached `u64::MAX`.
    #[error("no segment number is left")]
    SegmentsExhausted,
}
