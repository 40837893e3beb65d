//! Replay: reading every segment at open, and repairing the log where it stops being trusted.
//!
//! [`replay`] scans the segments in order and hands each record to the caller. At the first
//! thing it cannot trust (a torn or corrupt frame, or a missing segment number) it stops; the
//! [`ReplayReport`] says how much was read and, in [`Corruption`], what was dropped and why.
//!
//! Design decision: the log is repaired on the spot so that the next open is clean and new
//! records are never written behind a point replay would stop at: the damaged segment is
//! truncated to its last good record, and any later segments (whose records are no longer
//! trusted, since they may depend on what was lost) are renamed aside to `NNNNNNNN.dropped`,
//! kept for inspection but never replayed.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::WalError;
use super::record::Record;
use super::segment::{CorruptKind, ScanEnd, scan, sync_dir};

/// What opening the WAL replayed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Segments read (in whole or up to a corruption).
    pub segments: u64,
    /// Records handed to the callback.
    pub records: u64,
    /// Bytes of the good records.
    pub bytes: u64,
    /// Where replay stopped early, if it did.
    pub corrupt: Option<Corruption>,
}

/// Where replay stopped, why, and what was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// The segment holding the first untrusted byte.
    pub segment: u64,
    /// Its offset in that segment (the end of the last good record).
    pub offset: u64,
    /// What was wrong there.
    pub reason: CorruptKind,
    /// Bytes not replayed: the rest of that segment plus every later segment.
    pub dropped_bytes: u64,
    /// Later segments renamed aside (not replayed, kept for inspection).
    pub moved_aside: Vec<PathBuf>,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WAL segment {:08} at byte {}: {}; dropped {} bytes",
            self.segment, self.offset, self.reason, self.dropped_bytes
        )?;
        if !self.moved_aside.is_empty() {
            write!(f, " (the rest of the segment and {} later segments, renamed *.dropped)", self.moved_aside.len())?;
        }
        Ok(())
    }
}

/// The result of replaying: the report and the segments left to write after.
pub(crate) struct Replayed {
    pub report: ReplayReport,
    /// Segments still in the log, ascending, with their sizes after repair.
    pub kept: Vec<(u64, u64)>,
}

/// Replays the segments of `dir` (as listed, ascending) into `on_record`, repairing the log
/// at the first corruption.
pub(crate) fn replay(
    dir: &Path,
    segments: &[(u64, PathBuf)],
    on_record: &mut dyn FnMut(Record),
) -> Result<Replayed, WalError> {
    let mut report = ReplayReport::default();
    let mut kept = Vec::with_capacity(segments.len());
    for (i, (n, path)) in segments.iter().enumerate() {
        if let Some(&(prev, _)) = kept.last()
            && prev + 1 != *n
        {
            // A hole: what came after it cannot be trusted.
            let rest = segments.get(i..).unwrap_or_default();
            let reason = CorruptKind::MissingSegment(prev + 1);
            report.corrupt = Some(move_aside(dir, prev + 1, 0, reason, 0, rest)?);
            break;
        }
        let (end, len) = scan_file(path, on_record)?;
        report.segments += 1;
        report.records += end.records;
        report.bytes += end.good_bytes;
        kept.push((*n, end.good_bytes));
        if let Some(reason) = end.corrupt {
            truncate(path, end.good_bytes)?;
            let rest = segments.get(i + 1..).unwrap_or_default();
            let torn = len - end.good_bytes;
            report.corrupt = Some(move_aside(dir, *n, end.good_bytes, reason, torn, rest)?);
            break;
        }
    }
    Ok(Replayed { report, kept })
}

/// Scans one segment file, returning how it ended and its length.
fn scan_file(path: &Path, on_record: &mut dyn FnMut(Record)) -> Result<(ScanEnd, u64), WalError> {
    let io_err = |source| WalError::Io { op: "reading", path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    let end = scan(BufReader::with_capacity(1 << 16, file), len, on_record).map_err(io_err)?;
    Ok((end, len))
}

/// Cuts `path` to `len` bytes, durably.
fn truncate(path: &Path, len: u64) -> Result<(), WalError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(len).and_then(|()| f.sync_all()))
        .map_err(|source| WalError::Io { op: "truncating", path: path.to_path_buf(), source })
}

/// Renames the segments `rest` aside and describes the corruption.
fn move_aside(
    dir: &Path,
    segment: u64,
    offset: u64,
    reason: CorruptKind,
    torn: u64,
    rest: &[(u64, PathBuf)],
) -> Result<Corruption, WalError> {
    let mut c = Corruption { segment, offset, reason, dropped_bytes: torn, moved_aside: Vec::new() };
    for (_, path) in rest {
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let to = aside_name(path);
        fs::rename(path, &to).map_err(|source| WalError::Io { op: "renaming aside", path: path.clone(), source })?;
        c.dropped_bytes += len;
        c.moved_aside.push(to);
    }
    sync_dir(dir)?;
    Ok(c)
}

/// `NNNNNNNN.dropped`, or `NNNNNNNN.dropped.K` with the first free K if that exists.
fn aside_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".dropped");
    let base = PathBuf::from(name);
    let mut to = base.clone();
    let mut k = 1;
    while to.exists() && k < 1000 {
        let mut name = base.as_os_str().to_owned();
        name.push(format!(".{k}"));
        to = PathBuf::from(name);
        k += 1;
    }
    to
}
