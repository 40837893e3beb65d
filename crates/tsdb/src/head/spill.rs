//! Full head chunks moved out of memory into files, read back with positioned reads.
//!
//! A series appends to one open chunk; once full (240 samples or 1 KiB), a chunk never changes
//! again, and holding the hours of them a head keeps was most of the store's resident memory.
//! [`Spill`] appends each full chunk to the current file under `head_chunks/` and leaves only a
//! [`Closed::Disk`] reference (file, offset, length, first and last time, count) in memory, so
//! the page cache, not the process, holds them, as Prometheus's memory-mapped head chunks do.
//!
//! Design decision: the files are a cache, not a record. The WAL stays the only durable copy of
//! the head; [`Spill::open`] deletes whatever a previous process left, and replay rebuilds the
//! chunks. So a chunk file needs no sync, no checksum beyond what the WAL has, and no recovery.
//! Files are rotated at [`MAX_FILE_BYTES`] and deleted once no series refers to a chunk in them
//! (compaction drops old chunks); a write that fails keeps the chunk in memory instead.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::HeadError;
use crate::chunkenc::XorChunk;

/// A chunk file is rotated once it reaches this size.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// A full chunk of a series: in memory, or in a spill file.
#[derive(Debug, Clone)]
pub(super) enum Closed {
    /// Kept in memory (no spill directory, or its write failed).
    Mem(XorChunk),
    /// Written to spill file `file` at `offset`, `len` bytes.
    Disk { file: u32, offset: u64, len: u32, first_t: i64, last_t: i64, count: u16 },
}

impl Closed {
    /// The first timestamp.
    pub(super) fn first_time(&self) -> Option<i64> {
        match self {
            Closed::Mem(c) => c.first_time(),
            Closed::Disk { first_t, .. } => Some(*first_t),
        }
    }

    /// The last timestamp.
    pub(super) fn last_time(&self) -> Option<i64> {
        match self {
            Closed::Mem(c) => c.last_time(),
            Closed::Disk { last_t, .. } => Some(*last_t),
        }
    }

    /// Samples in the chunk.
    pub(super) fn len(&self) -> usize {
        match self {
            Closed::Mem(c) => c.len(),
            Closed::Disk { count, .. } => usize::from(*count),
        }
    }

    /// Bytes of memory the chunk's data takes (0 on disk).
    pub(super) fn memory_bytes(&self) -> usize {
        match self {
            Closed::Mem(c) => c.bytes().len(),
            Closed::Disk { .. } => 0,
        }
    }
}

/// One spill file: open for reading and appending, with how many live chunks it holds.
#[derive(Debug)]
struct SpillFile {
    file: File,
    len: u64,
    live: u64,
}

/// The spill files of one head.
#[derive(Debug)]
pub struct Spill {
    dir: PathBuf,
    files: BTreeMap<u32, SpillFile>,
    current: u32,
    /// Chunks kept in memory because writing them failed.
    pub(super) write_errors: u64,
}

impl Spill {
    /// Empties (or creates) `dir` and starts its first file.
    pub fn open(dir: &Path) -> Result<Spill, HeadError> {
        let io = |op: &'static str| move |source| HeadError::Spill { op, path: dir.to_path_buf(), source };
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(io("removing"))?;
        }
        fs::create_dir_all(dir).map_err(io("creating"))?;
        let mut spill = Spill { dir: dir.to_path_buf(), files: BTreeMap::new(), current: 0, write_errors: 0 };
        spill.rotate()?;
        Ok(spill)
    }

    fn path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("{n:08}"))
    }

    /// Starts a new current file; the old one stays while chunks in it are live.
    fn rotate(&mut self) -> Result<(), HeadError> {
        let n = self.files.keys().next_back().map_or(0, |&n| n.saturating_add(1));
        let path = self.path(n);
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|source| HeadError::Spill { op: "creating", path, source })?;
        self.files.insert(n, SpillFile { file, len: 0, live: 0 });
        let old = std::mem::replace(&mut self.current, n);
        self.forget_if_dead(old);
        Ok(())
    }

    /// Moves a full chunk to disk; gives it back in memory if the write fails.
    pub(super) fn store(&mut self, chunk: XorChunk) -> Closed {
        match self.write(&chunk) {
            Ok(closed) => closed,
            Err(_) => {
                self.write_errors += 1;
                Closed::Mem(chunk)
            }
        }
    }

    fn write(&mut self, chunk: &XorChunk) -> Result<Closed, HeadError> {
        let (Some(first_t), Some(last_t)) = (chunk.first_time(), chunk.last_time()) else {
            return Ok(Closed::Mem(chunk.clone()));
        };
        if self.files.get(&self.current).is_none_or(|f| f.len >= MAX_FILE_BYTES) {
            self.rotate()?;
        }
        let n = self.current;
        let path = self.path(n);
        let Some(f) = self.files.get_mut(&n) else {
            return Err(HeadError::Spill { op: "writing", path, source: std::io::ErrorKind::NotFound.into() });
        };
        let bytes = chunk.bytes();
        f.file.write_all(bytes).map_err(|source| HeadError::Spill { op: "writing", path, source })?;
        let offset = f.len;
        f.len += bytes.len() as u64;
        f.live += 1;
        let (len, count) = (bytes.len() as u32, chunk.len() as u16);
        Ok(Closed::Disk { file: n, offset, len, first_t, last_t, count })
    }

    /// The bytes of a chunk on disk.
    pub(super) fn read(&self, file: u32, offset: u64, len: u32) -> Result<Vec<u8>, HeadError> {
        let path = self.path(file);
        let Some(f) = self.files.get(&file) else {
            return Err(HeadError::Spill { op: "reading", path, source: std::io::ErrorKind::NotFound.into() });
        };
        let mut buf = vec![0; len as usize];
        f.file.read_exact_at(&mut buf, offset).map_err(|source| HeadError::Spill { op: "reading", path, source })?;
        Ok(buf)
    }

    /// A chunk is no longer referenced; its file goes once none in it is.
    pub(super) fn release(&mut self, closed: &Closed) {
        if let Closed::Disk { file, .. } = closed {
            if let Some(f) = self.files.get_mut(file) {
                f.live = f.live.saturating_sub(1);
            }
            self.forget_if_dead(*file);
        }
    }

    fn forget_if_dead(&mut self, n: u32) {
        if n != self.current && self.files.get(&n).is_some_and(|f| f.live == 0) {
            self.files.remove(&n);
            // A file left behind is removed at the next open; nothing reads it meanwhile.
            let _ = fs::remove_file(self.path(n));
        }
    }

    /// Starts a new file, so that chunks written before now can die with their file.
    pub(super) fn cut_file(&mut self) -> Result<(), HeadError> {
        if self.files.get(&self.current).is_some_and(|f| f.len > 0) {
            self.rotate()?;
        }
        Ok(())
    }

    /// Bytes in the spill files.
    pub fn disk_bytes(&self) -> u64 {
        self.files.values().map(|f| f.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_chunk(base: i64) -> XorChunk {
        let mut c = XorChunk::new();
        for i in 0..100 {
            c.append(base + i * 1000, i as f64 * 1.5).unwrap();
        }
        c
    }

    #[test]
    fn chunks_round_trip_and_dead_files_are_deleted() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("head_chunks");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("00000007"), b"left by a previous process").unwrap();
        let mut spill = Spill::open(&dir).unwrap();
        assert!(!dir.join("00000007").exists(), "open empties the directory");
        let a = spill.store(full_chunk(0));
        let Closed::Disk { file, offset, len, first_t, last_t, count } = a.clone() else {
            panic!("not spilled: {a:?}")
        };
        assert_eq!((first_t, last_t, count), (0, 99_000, 100));
        assert_eq!(spill.read(file, offset, len).unwrap(), full_chunk(0).bytes());
        spill.cut_file().unwrap();
        let b = spill.store(full_chunk(1_000_000));
        let Closed::Disk { file: file_b, .. } = b else { panic!("not spilled") };
        assert_ne!(file, file_b, "cut_file started a new file");
        assert!(spill.path(file).exists());
        spill.release(&a);
        assert!(!spill.path(file).exists(), "no live chunk left in the old file");
        assert!(spill.read(file, offset, len).is_err());
        spill.release(&b);
        assert!(spill.path(file_b).exists(), "the current file stays");
        assert_eq!(spill.disk_bytes(), full_chunk(1_000_000).bytes().len() as u64);
    }
}
