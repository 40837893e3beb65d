//! What compaction needs from the head: its time range, a range's samples as fresh chunks,
//! dropping what blocks now hold, and shrinking the WAL to the rest.
//!
//! Design decision: the WAL is shrunk by a checkpoint written into the log itself: after a
//! rotation, one Series record per batch of live series and Samples records with every sample
//! the head still holds go into the new segment, then every older segment is deleted. Replaying
//! it rebuilds the head exactly; a crash at any point leaves either the old segments (complete)
//! or the checkpoint (complete) or both (duplicates are refused as out of order).

use super::append::push;
use super::{Closed, Head, HeadError, MemSeries, Spill};
use crate::chunkenc::{XorChunk, XorIter};
use crate::wal::Record;
use crate::{SeriesId, SeriesTags};

/// Samples per Samples record in a checkpoint (about 14 MiB encoded at most, under the WAL's
/// record limit).
const CHECKPOINT_SAMPLES_PER_RECORD: usize = 500_000;
/// Tag bytes per Series record in a checkpoint, well under the WAL's record limit.
const CHECKPOINT_SERIES_BYTES: usize = 16 << 20;

/// What [`Head::checkpoint`] wrote and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointReport {
    /// The first segment of the checkpoint; every segment before it was deleted.
    pub segment: u64,
    /// Series logged again.
    pub series: usize,
    /// Samples logged again.
    pub samples: usize,
    /// WAL bytes before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

impl Head {
    /// The first and last timestamps the head holds, if any.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.series.values().filter_map(oldest).min()?;
        let last = self.series.values().filter_map(|s| s.last_t).max()?;
        Some((first, last))
    }

    /// The samples with `start <= t < end` of every series, encoded into new chunks, in no
    /// particular order; series without samples there are left out.
    pub fn cut(&self, start: i64, end: i64) -> Result<Vec<(SeriesTags, Vec<XorChunk>)>, HeadError> {
        let mut out = Vec::new();
        for s in self.series.values() {
            let mut chunks = vec![XorChunk::new()];
            for (t, v) in samples_of(self.spill.as_ref(), s, start)?.into_iter().filter(|&(t, _)| t >= start && t < end)
            {
                let Some(last) = chunks.last_mut() else { break };
                if last.append(t, v).is_err() {
                    let mut fresh = XorChunk::new();
                    if fresh.append(t, v).is_ok() {
                        chunks.push(fresh);
                    }
                }
            }
            chunks.retain(|c| !c.is_empty());
            if !chunks.is_empty() {
                out.push((s.tags.clone(), chunks));
            }
        }
        Ok(out)
    }

    /// Refuses samples before `t` from now on (a compaction is writing the range before it).
    pub fn refuse_before(&mut self, t: i64) {
        self.min_valid_t = self.min_valid_t.max(t);
    }

    /// Drops every sample before `t` (compaction wrote them to a block), and the series left
    /// without samples; from now on samples before `t` are refused. Returns the series dropped.
    pub fn drop_before(&mut self, t: i64) -> Result<usize, HeadError> {
        self.min_valid_t = self.min_valid_t.max(t);
        // Chunks written from now on are all at or after `t`: old files can die.
        if let Some(spill) = self.spill.as_mut() {
            spill.cut_file()?;
        }
        let mut gone: Vec<SeriesId> = Vec::new();
        let ids: Vec<SeriesId> = self.series.keys().copied().collect();
        for id in ids {
            let Some(s) = self.series.get(&id) else { continue };
            let first = oldest(s);
            if first.is_none_or(|first| first >= t) {
                if first.is_none() {
                    gone.push(id);
                }
                continue;
            }
            let keep: Vec<(i64, f64)> =
                samples_of(self.spill.as_ref(), s, t)?.into_iter().filter(|&(st, _)| st >= t).collect();
            if keep.is_empty() {
                gone.push(id);
                continue;
            }
            let Some(s) = self.series.get_mut(&id) else { continue };
            let last_t = s.last_t;
            for c in s.closed.drain(..) {
                if let Some(spill) = self.spill.as_mut() {
                    spill.release(&c);
                }
            }
            s.open = XorChunk::new();
            s.last_t = None;
            for (st, v) in keep {
                push(s, self.spill.as_mut(), st, v);
            }
            s.last_t = s.last_t.max(last_t);
        }
        for &id in &gone {
            self.forget_id(id);
            if let Some(s) = self.series.remove(&id)
                && let Some(spill) = self.spill.as_mut()
            {
                s.closed.iter().for_each(|c| spill.release(c));
            }
        }
        self.index.remove(&gone);
        Ok(gone.len())
    }

    /// Shrinks the WAL to what the head holds: starts a new segment, logs every live series and
    /// every sample held into it, then deletes all older segments. Without a WAL it does nothing.
    pub fn checkpoint(&mut self) -> Result<CheckpointReport, HeadError> {
        let Some(wal) = self.wal.as_mut() else { return Ok(CheckpointReport::default()) };
        let bytes_before = wal.size_bytes();
        let segment = wal.rotate()?;
        let mut ids: Vec<SeriesId> = self.series.keys().copied().collect();
        ids.sort_unstable();
        let mut report = CheckpointReport { segment, bytes_before, ..CheckpointReport::default() };
        let (mut batch, mut bytes) = (Vec::new(), 0);
        for &id in &ids {
            let Some(s) = self.series.get(&id) else { continue };
            bytes += s.tags.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>() + 10;
            batch.push((id, s.tags.clone()));
            if bytes >= CHECKPOINT_SERIES_BYTES {
                report.series += batch.len();
                wal.append(&[Record::Series(std::mem::take(&mut batch))])?;
                bytes = 0;
            }
        }
        if !batch.is_empty() {
            report.series += batch.len();
            wal.append(&[Record::Series(batch)])?;
        }
        let mut samples = Vec::new();
        for &id in &ids {
            let Some(s) = self.series.get(&id) else { continue };
            for (t, v) in samples_of(self.spill.as_ref(), s, i64::MIN)? {
                samples.push((id, t, v));
                if samples.len() >= CHECKPOINT_SAMPLES_PER_RECORD {
                    report.samples += samples.len();
                    wal.append(&[Record::Samples(std::mem::take(&mut samples))])?;
                }
            }
        }
        if !samples.is_empty() {
            report.samples += samples.len();
            wal.append(&[Record::Samples(samples)])?;
        }
        wal.truncate_before(segment)?;
        report.bytes_after = wal.size_bytes();
        Ok(report)
    }
}

/// The first timestamp a series holds.
fn oldest(s: &MemSeries) -> Option<i64> {
    s.closed.first().map_or_else(|| s.open.first_time(), Closed::first_time)
}

/// The samples of a series, oldest first, from its chunks that end at or after `from`
/// (spilled ones read back from disk).
pub(super) fn samples_of(spill: Option<&Spill>, s: &MemSeries, from: i64) -> Result<Vec<(i64, f64)>, HeadError> {
    let mut out = Vec::new();
    for c in &s.closed {
        if c.last_time().is_some_and(|last| last < from) {
            continue;
        }
        match c {
            Closed::Mem(chunk) => out.extend(chunk.iter()),
            Closed::Disk { file, offset, len, .. } => {
                let Some(spill) = spill else { continue };
                out.extend(XorIter::new(&spill.read(*file, *offset, *len)?));
            }
        }
    }
    out.extend(s.open.iter());
    Ok(out)
}
