//! The spool: batches waiting on disk while the server cannot be reached.
//!
//! A directory of files, one per batch, named `{seq:020}-{datapoints}.json.gz`: the gzipped
//! publish body, its sequence number (replay order, oldest first) and its datapoint count (so a
//! dropped file is counted without reading it). A file is written as `.{seq:020}.tmp`, synced,
//! then renamed, so a crash leaves either a whole batch or a temporary file that the next
//! [`Spool::open`] removes. A batch is removed only once the server has answered for it. The
//! total size is bounded: past the bound the oldest batches go first. A file that cannot be read
//! back (bad gzip, truncated) is removed and counted, and replay moves on to the next.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::SpoolError;

/// Largest body the spool stores or reads back, uncompressed.
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// One batch on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its place in replay order.
    pub seq: u64,
    /// Datapoints in it.
    pub datapoints: u64,
    /// Its size on disk.
    pub bytes: u64,
}

/// A batch file that could not be read back; it has been removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    pub path: PathBuf,
    pub reason: String,
}

/// The on-disk queue of batches.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    entries: VecDeque<Entry>,
    bytes: u64,
    next_seq: u64,
    dropped_datapoints: u64,
    corrupt_files: u64,
}

impl Spool {
    /// Opens (creating it if needed) the spool in `dir`, bounded to `max_bytes`, picking up the
    /// batches a previous run left and removing its half-written files.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        let open_err = |source| SpoolError::Open { path: dir.to_path_buf(), source };
        fs::create_dir_all(dir).map_err(open_err)?;
        let mut entries = Vec::new();
        for item in fs::read_dir(dir).map_err(open_err)? {
            let item = item.map_err(open_err)?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = fs::remove_file(item.path());
                continue;
            }
            if let Some((seq, datapoints)) = parse_name(name) {
                let bytes = item.metadata().map(|m| m.len()).unwrap_or(0);
                entries.push(Entry { seq, datapoints, bytes });
            }
        }
        entries.sort_by_key(|e| e.seq);
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            bytes: entries.iter().map(|e| e.bytes).sum(),
            next_seq: entries.last().map_or(0, |e| e.seq + 1),
            entries: entries.into(),
            dropped_datapoints: 0,
            corrupt_files: 0,
        };
        spool.enforce_bound();
        Ok(spool)
    }

    /// Writes `body` (of `datapoints` datapoints) as the newest batch, then drops the oldest
    /// batches past the bound. Returns the datapoints dropped to make room (the new batch itself
    /// when it alone is larger than the bound).
    pub fn push(&mut self, body: &[u8], datapoints: u64) -> Result<u64, SpoolError> {
        if body.len() as u64 > MAX_BODY_BYTES {
            self.dropped_datapoints += datapoints;
            return Ok(datapoints);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let tmp = self.dir.join(format!(".{seq:020}.tmp"));
        let path = self.path(&Entry { seq, datapoints, bytes: 0 });
        let write_err = |source| SpoolError::Write { path: path.clone(), source };
        let written = write_gz(&tmp, body).and_then(|bytes| fs::rename(&tmp, &path).map(|()| bytes));
        let bytes = match written {
            Ok(b) => b,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(write_err(e));
            }
        };
        self.entries.push_back(Entry { seq, datapoints, bytes });
        self.bytes += bytes;
        Ok(self.enforce_bound())
    }

    /// The oldest batch and its body, without removing it. `Ok(None)` when empty; `Err` when
    /// the oldest file could not be read back, in which case it has been removed and counted
    /// and the next call goes on with the one after.
    pub fn front(&mut self) -> Result<Option<(Entry, Vec<u8>)>, Corrupt> {
        let Some(&entry) = self.entries.front() else { return Ok(None) };
        let path = self.path(&entry);
        match read_gz(&path) {
            Ok(body) => Ok(Some((entry, body))),
            Err(reason) => {
                self.corrupt_files += 1;
                self.forget_front();
                let _ = fs::remove_file(&path);
                Err(Corrupt { path, reason })
            }
        }
    }

    /// Removes the oldest batch: the server has answered for it.
    pub fn pop_front(&mut self) -> Result<(), SpoolError> {
        let Some(entry) = self.forget_front() else { return Ok(()) };
        let path = self.path(&entry);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SpoolError::Remove { path, source: e }),
            _ => Ok(()),
        }
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Their total size on disk.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Datapoints dropped since opening: past the bound, or too large to store.
    pub fn dropped_datapoints(&self) -> u64 {
        self.dropped_datapoints
    }

    /// Files removed since opening because they could not be read back.
    pub fn corrupt_files(&self) -> u64 {
        self.corrupt_files
    }

    /// Drops the oldest batches until the total fits the bound; returns the datapoints dropped.
    fn enforce_bound(&mut self) -> u64 {
        let mut dropped = 0;
        while self.bytes > self.max_bytes {
            let Some(e) = self.forget_front() else { break };
            let _ = fs::remove_file(self.path(&e));
            dropped += e.datapoints;
        }
        self.dropped_datapoints += dropped;
        dropped
    }

    fn forget_front(&mut self) -> Option<Entry> {
        let e = self.entries.pop_front()?;
        self.bytes = self.bytes.saturating_sub(e.bytes);
        Some(e)
    }

    fn path(&self, e: &Entry) -> PathBuf {
        self.dir.join(format!("{:020}-{}.json.gz", e.seq, e.datapoints))
    }
}

/// The sequence number and datapoint count in a batch file's name.
fn parse_name(name: &str) -> Option<(u64, u64)> {
    let (seq, rest) = name.strip_suffix(".json.gz")?.split_once('-')?;
    if seq.len() != 20 {
        return None;
    }
    Some((seq.parse().ok()?, rest.parse().ok()?))
}

/// Writes `body` gzipped to `path`, synced; returns the size written.
fn write_gz(path: &Path, body: &[u8]) -> std::io::Result<u64> {
    let file = File::create(path)?;
    let mut gz = GzEncoder::new(file, Compression::fast());
    gz.write_all(body)?;
    let file = gz.finish()?;
    file.sync_all()?;
    file.metadata().map(|m| m.len())
}

/// Reads a batch file back, checking the gzip trailer and the size.
fn read_gz(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    GzDecoder::new(file)
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("not a readable gzip file: {e}"))?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(format!("larger than {MAX_BODY_BYTES} bytes uncompressed"));
    }
    if body.first() != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(i: u32) -> Vec<u8> {
        // Incompressible-ish content so sizes on disk grow with the body.
        let noise: String = (0..400u32).map(|j| char::from(b'a' + ((i * 7919 + j * 104_729) % 26) as u8)).collect();
        format!("{{\"i\":{i},\"pad\":\"{noise}\"}}").into_bytes()
    }

    fn drain(s: &mut Spool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            match s.front() {
                Ok(Some((_, b))) => {
                    out.push(b);
                    s.pop_front().unwrap();
                }
                Ok(None) => return out,
                Err(_) => {}
            }
        }
    }

    #[test]
    fn replays_oldest_first_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        for i in 0..3 {
            assert_eq!(s.push(&body(i), 10).unwrap(), 0);
        }
        let (e, b) = s.front().unwrap().unwrap();
        assert_eq!((e.seq, e.datapoints, b), (0, 10, body(0)));
        s.pop_front().unwrap();
        drop(s);
        // A crash mid-write leaves a temporary file; reopening removes it and keeps the rest.
        fs::write(dir.path().join(".00000000000000000099.tmp"), b"half").unwrap();
        fs::write(dir.path().join("README"), b"not ours").unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.len(), 2);
        s.push(&body(3), 10).unwrap();
        assert_eq!(drain(&mut s), [body(1), body(2), body(3)]);
        assert!(s.is_empty() && s.bytes() == 0);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["README"]);
    }

    #[test]
    fn bound_drops_oldest_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), u64::MAX).unwrap();
        s.push(&body(0), 5).unwrap();
        let one = s.bytes();
        drop(s);
        let mut s = Spool::open(dir.path(), one * 3 + one / 2).unwrap();
        let mut dropped = 0;
        for i in 1..6 {
            dropped += s.push(&body(i), 5).unwrap();
        }
        assert!(s.bytes() <= one * 3 + one / 2, "{} > bound", s.bytes());
        assert_eq!(s.len(), 3);
        assert_eq!(dropped, 15);
        assert_eq!(s.dropped_datapoints(), 15);
        assert_eq!(drain(&mut s), [body(3), body(4), body(5)]);
        // Reopening with a smaller bound drops the oldest at once.
        for i in 0..3 {
            s.push(&body(i), 5).unwrap();
        }
        drop(s);
        let s = Spool::open(dir.path(), one + one / 2).unwrap();
        assert_eq!((s.len(), s.dropped_datapoints()), (1, 10));
    }

    #[test]
    fn corrupt_file_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        for i in 0..3 {
            s.push(&body(i), 1).unwrap();
        }
        drop(s);
        // Truncate the middle batch: its gzip trailer is gone.
        let middle = dir.path().join(format!("{:020}-1.json.gz", 1));
        let bytes = fs::read(&middle).unwrap();
        fs::write(&middle, &bytes[..bytes.len() / 2]).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.front().unwrap();
        s.pop_front().unwrap();
        let err = s.front().unwrap_err();
        assert_eq!(err.path, middle);
        assert!(!middle.exists());
        assert_eq!(s.corrupt_files(), 1);
        assert_eq!(drain(&mut s), [body(2)]);
    }

    #[test]
    fn names() {
        assert_eq!(parse_name("00000000000000000042-17.json.gz"), Some((42, 17)));
        assert_eq!(parse_name("42-17.json.gz"), None);
        assert_eq!(parse_name("00000000000000000042-x.json.gz"), None);
        assert_eq!(parse_name("00000000000000000042-1.json"), None);
    }
}
