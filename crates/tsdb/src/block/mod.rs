//! Immutable on-disk blocks: the samples of a closed time range, written once, read many times.
//!
//! A block is a directory named by its id ([`new_id`]: the first timestamp and a nonce, so names
//! sort by time) holding `chunks` (the series' samples re-cut into
//! [`PackedChunk`](crate::chunkenc::PackedChunk)s, each in its smallest encoding, back to back,
//! each with a length and a CRC), `index` (a symbol table, the series sorted by tags with
//! their chunk references, and postings per tag pair, each section CRC-checked) and `meta.json`
//! ([`BlockMeta`]: the range, the counts and each file's size and CRC). [`BlockWriter::write`]
//! builds one in a `.tmp` directory and renames it into place; [`Block::open`] checks everything
//! and answers [`Block::select`] and [`Block::read`] as the head does. [`block_dirs`] lists the
//! blocks of a directory and [`cleanup_tmp`] removes what a crash left. The layout is drawn in
//! `docs/format/block.md`.
//!
//! Design decision: for now [`Block::open`] reads and checks every byte (both files' CRCs, every
//! chunk record, the postings against the series) and loads the index into a
//! [`MemIndex`](crate::index::MemIndex), while chunks are read from the file on demand. Opening
//! costs one pass over the block and memory for its index; the per-section and per-chunk CRCs
//! let a later reader skip the pass and read the index through a cache or mmap instead.

mod format;
mod meta;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub use meta::{BlockMeta, FileMeta, MAX_META_BYTES, META_VERSION};
pub use reader::{Block, MAX_INDEX_BYTES};
pub use writer::BlockWriter;

/// The name of the file of chunk bytes.
pub const CHUNKS_FILE: &str = "chunks";
/// The name of the index file.
pub const INDEX_FILE: &str = "index";
/// The name of the metadata file.
pub const META_FILE: &str = "meta.json";
/// The suffix of a block directory being written.
pub const TMP_SUFFIX: &str = ".tmp";
/// The length of a block id: 16 hex digits, a dash, 8 hex digits.
pub const ID_LEN: usize = 25;

/// Why a block could not be written, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// A file or directory could not be created, written, synced, renamed or read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A block file is damaged or is not one this version wrote; `reason` says how.
    #[error("{path}: corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The series given to the writer cannot form a block (none, duplicates, overlapping chunks).
    #[error("cannot write a block: {0}")]
    Input(String),
    /// A query's matcher could not be compiled.
    #[error("bad query: {0}")]
    Query(String),
}

impl BlockError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        BlockError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        BlockError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }

    /// The file or directory the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            BlockError::Io { path, .. } | BlockError::Corrupt { path, .. } => Some(path),
            BlockError::Input(_) | BlockError::Query(_) => None,
        }
    }
}

/// A new block id for a block starting at `min_t`: `min_t` with its sign bit flipped as 16
/// lowercase hex digits (so ids sort as times do, negative ones first), a dash, and an 8-digit
/// nonce from the clock, the process id and a counter.
pub fn new_id(min_t: i64) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let n =
        COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9e37_79b9) ^ nanos ^ std::process::id().rotate_left(16);
    format!("{:016x}-{n:08x}", (min_t as u64) ^ (1 << 63))
}

/// True when `name` has the shape of a block id (not of a temporary directory).
pub fn is_block_id(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == ID_LEN
        && b.iter()
            .enumerate()
            .all(|(i, &c)| if i == 16 { c == b'-' } else { c.is_ascii_digit() || (b'a'..=b'f').contains(&c) })
}

/// The block directories in `dir`, sorted by id (so by first timestamp); temporary directories
/// and anything else not named like a block are left out.
pub fn block_dirs(dir: &Path) -> Result<Vec<PathBuf>, BlockError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| BlockError::io(dir, e))? {
        let entry = entry.map_err(|e| BlockError::io(dir, e))?;
        let is_dir = entry.file_type().map_err(|e| BlockError::io(&entry.path(), e))?.is_dir();
        if is_dir && entry.file_name().to_str().is_some_and(is_block_id) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Removes the temporary directories (`ID.tmp`) an interrupted [`BlockWriter::write`] left in
/// `dir`; returns how many. Call it only when no writer is running in `dir`.
pub fn cleanup_tmp(dir: &Path) -> Result<usize, BlockError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| BlockError::io(dir, e))? {
        let entry = entry.map_err(|e| BlockError::io(dir, e))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(TMP_SUFFIX)) else { continue };
        if is_block_id(id) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| BlockError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}
