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
//!
//! Writing a block of 100k series takes seconds, so the server compacts in three steps
//! ([`Db::begin_compaction`], [`PendingBlock::write`], [`Db::finish_compaction`]) and holds the
//! store's lock only for the first and the last: appends after the range and reads go on while
//! the block is written.

use std::path::PathBuf;

use super::{Db, DbError};
use crate::SeriesTags;
use crate::block::{Block, BlockMeta, BlockWriter};
use crate::chunkenc::XorChunk;
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
            let series = self.head.cut(start, end)?;
            if !series.is_empty() {
                let meta = BlockWriter::write(&self.dir, series)?;
                self.blocks.push(Block::open(&self.dir.join(&meta.id))?);
                report.blocks.push(meta);
            }
            report.series_dropped += self.head.drop_before(end)?;
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
        let mut report = CompactReport::default();
        while let Some(pending) = self.begin_compaction(now_ms)? {
            let written = pending.write()?;
            let done = self.finish_compaction(written)?;
            report.blocks.extend(done.blocks);
            report.series_dropped += done.series_dropped;
        }
        Ok(report)
    }

    /// The first closed range of the head (see the module's documentation), if any.
    fn first_closed_range(&self, now_ms: i64) -> Option<(i64, i64)> {
        let r = self.opts.block_range_ms;
        let (first, last) = self.head.time_range()?;
        let horizon = last.min(now_ms).saturating_sub(r / 2);
        let start = first.div_euclid(r).saturating_mul(r);
        let end = start.checked_add(r)?;
        (end <= horizon).then_some((start, end))
    }

    /// Compaction in three steps, so the slow one runs without the store's lock: this one (under
    /// the lock) cuts the head's first closed range and refuses samples before its end from now
    /// on, so nothing lands in the range while its block is written; [`PendingBlock::write`]
    /// (without the lock) writes and opens the block; [`Db::finish_compaction`] (under the lock)
    /// adds it and drops the range from the head. Until then reads find the range in the head.
    /// `None` when no range is closed. [`Db::checkpoint`] shrinks the WAL afterwards. If
    /// reading the head's spilled chunks fails, the range stays in the head for a later try.
    pub fn begin_compaction(&mut self, now_ms: i64) -> Result<Option<PendingBlock>, DbError> {
        let Some((start, end)) = self.first_closed_range(now_ms) else { return Ok(None) };
        self.head.refuse_before(end);
        Ok(Some(PendingBlock { dir: self.dir.clone(), end, series: self.head.cut(start, end)? }))
    }

    /// The last step of a compaction begun with [`Db::begin_compaction`]: adds the block and
    /// drops its range from the head. The report has no checkpoint.
    pub fn finish_compaction(&mut self, written: WrittenBlock) -> Result<CompactReport, DbError> {
        let mut report = CompactReport::default();
        if let Some(block) = written.block {
            report.blocks.push(block.meta().clone());
            self.blocks.push(block);
            self.blocks.sort_by_key(|b| (b.meta().min_t, b.meta().max_t));
        }
        report.series_dropped = self.head.drop_before(written.end)?;
        Ok(report)
    }

    /// Shrinks the WAL to what the head still holds (after compactions).
    pub fn checkpoint(&mut self) -> Result<CheckpointReport, DbError> {
        Ok(self.head.checkpoint()?)
    }
}

/// A closed range cut from the head, to be written as a block without the store's lock.
pub struct PendingBlock {
    dir: PathBuf,
    end: i64,
    series: Vec<(SeriesTags, Vec<XorChunk>)>,
}

impl PendingBlock {
    /// Writes and opens the block (nothing when the range held no sample).
    pub fn write(self) -> Result<WrittenBlock, DbError> {
        if self.series.is_empty() {
            return Ok(WrittenBlock { end: self.end, block: None });
        }
        let meta = BlockWriter::write(&self.dir, self.series)?;
        let block = Block::open(&self.dir.join(&meta.id))?;
        Ok(WrittenBlock { end: self.end, block: Some(block) })
    }
}

/// A block written from a [`PendingBlock`], for [`Db::finish_compaction`].
pub struct WrittenBlock {
    end: i64,
    block: Option<Block>,
}
