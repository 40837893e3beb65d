//! What compaction needs from the head: its time range, a range's samples as fresh chunks,
//! dropping what blocks now hold, and shrinking the WAL to the rest.
//!
//! Design decision: the WAL is shrunk by a checkpoint written into the log itself: after a
//! rotation, one Series record per batch of live series and Samples records with every sample
//! the head still holds go into the new segment, then every older segment is deleted. Replaying
//! it rebuilds the head exactly; a crash at any point leaves either the old segments (complete)
//! or the checkpoint (complete) or both (duplicates are refused as out of order).

use super::append::push;
use super::{Head, HeadError, MemSeries};
use crate::chunkenc::XorChunk;
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
        let first = self.series.values().filter_map(|s| s.closed.first().unwrap_or(&s.open).first_time()).min()?;
        let last = self.series.values().filter_map(|s| s.last_t).max()?;
        Some((first, last))
    }

    /// The samples with `start <= t < end` of every series, encoded into new chunks, in no
    /// particular order; series without samples there are left out.
    pub fn cut(&self, start: i64, end: i64) -> Vec<(SeriesTags, Vec<XorChunk>)> {
        let mut out = Vec::new();
        for s in self.series.values() {
            let mut chunks = vec![XorChunk::new()];
            for (t, v) in samples_of(s).filter(|&(t, _)| t >= start && t < end) {
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
        out
    }

    /// Refuses samples before `t` from now on (a compaction is writing the range before it).
    pub fn refuse_before(&mut self, t: i64) {
        self.min_valid_t = self.min_valid_t.max(t);
    }

    /// Drops every sample before `t` (compaction wrote them to a block), and the series left
    /// without samples; from now on samples before `t` are refused. Returns the series dropped.
    pub fn drop_before(&mut self, t: i64) -> usize {
        self.min_valid_t = self.min_valid_t.max(t);
        let mut gone: Vec<SeriesId> = Vec::new();
        for (&id, s) in self.series.iter_mut() {
            let oldest = s.closed.first().unwrap_or(&s.open).first_time();
            if oldest.is_none_or(|first| first >= t) {
                if oldest.is_none() {
                    gone.push(id);
                }
                continue;
            }
            let keep: Vec<(i64, f64)> = samples_of(s).filter(|&(st, _)| st >= t).collect();
            if keep.is_empty() {
                gone.push(id);
                continue;
            }
            let last_t = s.last_t;
            s.closed.clear();
            s.open = XorChunk::new();
            s.last_t = None;
            for (st, v) in keep {
                push(s, st, v);
            }
            s.last_t = s.last_t.max(last_t);
        }
        for &id in &gone {
            self.forget_id(id);
            self.series.remove(&id);
        }
        self.index.remove(&gone);
        gone.len()
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
            for (t, v) in samples_of(s) {
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

/// Every sample of a series, oldest first.
fn samples_of(s: &MemSeries) -> impl Iterator<Item = (i64, f64)> + '_ {
    s.closed.iter().chain(std::iter::once(&s.open)).flat_map(XorChunk::iter)
}
