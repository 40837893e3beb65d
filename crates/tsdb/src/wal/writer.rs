//! The writer: opening the log (after replay), appending durably, rotating and truncating.
//!
//! [`Wal::open`] replays what is there, then writes into a fresh segment (or the last one, if
//! replay left it empty). [`Wal::append`] writes a batch of records and syncs once, so a caller
//! that puts all of one request's records in one call gets group commit: one `fdatasync` per
//! request, however many records.
//!
//! Design decision: a failed write is cut back off the segment; a failed sync (whose outcome
//! the kernel does not let us know) poisons the writer, and every later append fails with
//! [`WalError::Broken`] until the log is reopened and replayed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::Record;
use super::replay::{ReplayReport, replay};
use super::segment::{create_segment, encode_frame, list_segments, segment_path, sync_dir};
use super::{WalError, WalOptions};

/// An open write-ahead log: one directory of numbered segments.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    /// Closed segments, ascending: number and size.
    closed: Vec<(u64, u64)>,
    /// The segment being written.
    number: u64,
    file: File,
    /// Bytes of the current segment known to be written whole.
    len: u64,
    buf: Vec<u8>,
    broken: bool,
}

impl Wal {
    /// Opens the log in `dir` (creating the directory if needed), replays every segment in
    /// order into `on_record`, repairs a corrupt or torn tail (see [`ReplayReport`]), and
    /// readies a new segment for writing. Damaged data is reported, never an error; errors are
    /// I/O failures (the directory or a segment cannot be read, created, cut or renamed).
    pub fn open(
        dir: &Path,
        opts: WalOptions,
        mut on_record: impl FnMut(Record),
    ) -> Result<(Wal, ReplayReport), WalError> {
        std::fs::create_dir_all(dir).map_err(|source| WalError::Io { op: "creating", path: dir.into(), source })?;
        let segments = list_segments(dir)?;
        let replayed = replay(dir, &segments, &mut on_record)?;
        let mut closed = replayed.kept;
        let (number, file, len) = match closed.last() {
            Some(&(n, 0)) => {
                closed.pop();
                let path = segment_path(dir, n);
                let file = OpenOptions::new().append(true).open(&path).map_err(|source| WalError::Io {
                    op: "opening",
                    path,
                    source,
                })?;
                (n, file, 0)
            }
            Some(&(n, _)) => {
                let next = n.checked_add(1).ok_or(WalError::SegmentsExhausted)?;
                (next, create_segment(dir, next)?, 0)
            }
            None => (1, create_segment(dir, 1)?, 0),
        };
        let wal = Wal { dir: dir.to_path_buf(), opts, closed, number, file, len, buf: Vec::new(), broken: false };
        Ok((wal, replayed.report))
    }

    /// Writes `records` in order and makes them durable (`fdatasync`) before returning; one
    /// sync per call, so batch a request's records into one call. Every record is encoded and
    /// checked first: a record over a limit fails the call with nothing written. A record that
    /// would take the current segment past `segment_bytes` goes to a new segment (a record
    /// larger than `segment_bytes` gets a segment of its own). After an I/O error the records
    /// may or may not be in the log.
    pub fn append(&mut self, records: &[Record]) -> Result<(), WalError> {
        if self.broken {
            return Err(WalError::Broken);
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut ends = Vec::with_capacity(records.len());
        for r in records {
            if let Err(e) = encode_frame(r, &mut buf) {
                self.buf = buf;
                return Err(e);
            }
            ends.push(buf.len());
        }
        let result = self.write_frames(&buf, &ends);
        // Keep a modest buffer for the next call; a huge batch should not pin its memory.
        if buf.capacity() <= 1 << 20 {
            self.buf = buf;
        }
        result
    }

    /// Writes the frames of `buf` (ending at `ends`), rotating where needed, then syncs.
    fn write_frames(&mut self, buf: &[u8], ends: &[usize]) -> Result<(), WalError> {
        let (mut chunk_start, mut start) = (0, 0);
        for &end in ends {
            let pending = (start - chunk_start) as u64;
            let frame = (end - start) as u64;
            if self.len + pending > 0 && self.len + pending + frame > self.opts.segment_bytes {
                self.write_synced(buf.get(chunk_start..start).unwrap_or_default())?;
                self.rotate()?;
                chunk_start = start;
            }
            start = end;
        }
        self.write_synced(buf.get(chunk_start..start).unwrap_or_default())
    }

    /// Writes `bytes` to the current segment and syncs it.
    fn write_synced(&mut self, bytes: &[u8]) -> Result<(), WalError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let path = || segment_path(&self.dir, self.number);
        if let Err(source) = self.file.write_all(bytes) {
            // Cut the partial frame off so later records are not written behind it.
            if self.file.set_len(self.len).is_err() {
                self.broken = true;
            }
            return Err(WalError::Io { op: "writing", path: path(), source });
        }
        if let Err(source) = self.file.sync_data() {
            self.broken = true;
            return Err(WalError::Io { op: "syncing", path: path(), source });
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Closes the current segment and starts the next one, returning its number. Everything
    /// appended before is in segments with lower numbers, which is what compaction needs to
    /// know before it calls [`Wal::truncate_before`]. An empty current segment is kept.
    pub fn rotate(&mut self) -> Result<u64, WalError> {
        if self.broken {
            return Err(WalError::Broken);
        }
        if self.len == 0 {
            return Ok(self.number);
        }
        let next = self.number.checked_add(1).ok_or(WalError::SegmentsExhausted)?;
        let file = create_segment(&self.dir, next)?;
        self.closed.push((self.number, self.len));
        (self.number, self.file, self.len) = (next, file, 0);
        Ok(next)
    }

    /// Deletes the closed segments numbered below `segment` (oldest first, so no hole is
    /// left); the segment being written is never deleted.
    pub fn truncate_before(&mut self, segment: u64) -> Result<(), WalError> {
        let mut removed = 0;
        let mut result = Ok(());
        for &(n, _) in self.closed.iter().take_while(|(n, _)| *n < segment) {
            let path = segment_path(&self.dir, n);
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => removed += 1,
                Err(source) => {
                    result = Err(WalError::Io { op: "deleting", path, source });
                    break;
                }
            }
        }
        self.closed.drain(..removed);
        if removed > 0 {
            sync_dir(&self.dir)?;
        }
        result
    }

    /// The segments in the log, ascending, the last being the one written to.
    pub fn segments(&self) -> Vec<(u64, PathBuf)> {
        let numbers = self.closed.iter().map(|(n, _)| *n).chain([self.number]);
        numbers.map(|n| (n, segment_path(&self.dir, n))).collect()
    }

    /// The number of the segment being written.
    pub fn current_segment(&self) -> u64 {
        self.number
    }

    /// The bytes of all segments in the log.
    pub fn size_bytes(&self) -> u64 {
        self.closed.iter().map(|(_, len)| len).sum::<u64>() + self.len
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
