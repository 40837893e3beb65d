//! Compaction: closed time ranges of the head become immutable blocks.
//!
//! Ranges are aligned: `[k·R, (k+1)·R)` for the block range `R`. A range is closed, and cut,
//! once it ended at least `R/2` before the head's newest sample (or `now`, if earlier, so one
//! sample from a wrong clock in the future does not flush the head): the head keeps about 1.5
//! ranges in memory, as Prometheus's does, so late samples of the current range still land.
//!
//! Design decision: each closed range is written to a block, its samples are dropped from the
//! head (which from then on refuses samples before the range's end), and once all ranges are
//! done the WAL is shrunk by a checkpoint ([`Head::checkpoint`](crate::head::Head::checkpoint)).
//! A crash before the checkpoint leaves the old WAL, whose samples the blocks hold are skipped
//! at replay, so nothing is read twice.

use super::{Db, DbError};
use crate::block::{Block, BlockMeta, BlockWriter};
use crate::head::CheckpointReport;

/// What [`Db::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// The blocks written, oldest first.
    pub blocks: Vec<BlockMeta>,
    /// Series the head dropped because they had no samples left.
    pub series_dropped: usize,
    /// The WAL checkpoint, when a block was written.
    pub checkpoint: Option<CheckpointReport>,
}

impl Db {
    /// Writes every closed range of the head to a block, drops it from the head and shrinks
    /// the WAL. Does nothing when no range is closed.
    pub fn compact(&mut self, now_ms: i64) -> Result<CompactReport, DbError> {
        let mut report = self.write_blocks(now_ms)?;
        if !report.blocks.is_empty() {
            report.checkpoint = Some(self.head.checkpoint()?);
        }
        Ok(report)
    }

    /// Writes everything the head holds to blocks (one per aligned range, the open one too),
    /// drops it from the head and shrinks the WAL to the series alone. From then on the head
    /// refuses samples before the end of the last range written. For offline use (`plumb tsdb
    /// compact`) and for measuring a store's compacted size, as Prometheus's snapshot does.
    pub fn flush_head(&mut self) -> Result<CompactReport, DbError> {
        let r = self.opts.block_range_ms;
        let mut report = CompactReport::default();
        while let Some((first, _)) = self.head.time_range() {
            let start = first.div_euclid(r).saturating_mul(r);
            let end = start.saturating_add(r);
            let series = self.head.cut(start, end);
            if !series.is_empty() {
                let meta = BlockWriter::write(&self.dir, series)?;
                self.blocks.push(Block::open(&self.dir.join(&meta.id))?);
                report.blocks.push(meta);
            }
            report.series_dropped += self.head.drop_before(end);
            if end == i64::MAX {
                break;
            }
        }
        self.blocks.sort_by_key(|b| (b.meta().min_t, b.meta().max_t));
        if !report.blocks.is_empty() {
            report.checkpoint = Some(self.head.checkpoint()?);
        }
        Ok(report)
    }

    /// The first half of [`Db::compact`]: the blocks, without the WAL checkpoint.
    pub(super) fn write_blocks(&mut self, now_ms: i64) -> Result<CompactReport, DbError> {
        let r = self.opts.block_range_ms;
        let mut report = CompactReport::default();
        while let Some((first, last)) = self.head.time_range() {
            let horizon = last.min(now_ms).saturating_sub(r / 2);
            let start = first.div_euclid(r).saturating_mul(r);
            let Some(end) = start.checked_add(r) else { break };
            if end > horizon {
                break;
            }
            let series = self.head.cut(start, end);
            if !series.is_empty() {
                let meta = BlockWriter::write(&self.dir, series)?;
                let block = Block::open(&self.dir.join(&meta.id))?;
                self.blocks.push(block);
                report.blocks.push(meta);
            }
            report.series_dropped += self.head.drop_before(end);
        }
        self.blocks.sort_by_key(|b| (b.meta().min_t, b.meta().max_t));
        Ok(report)
    }
}
