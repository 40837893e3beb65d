//! Retention: blocks whose newest sample is older than the retention are deleted.
//!
//! Design decision: a block is renamed to `ID.deleted` before its files are removed, so a
//! crash in the middle never leaves a half-deleted block that looks like a block (block
//! directories are only those named exactly like an id); [`Db::open`](super::Db::open)
//! removes leftover `*.deleted` directories.

use std::path::Path;

use super::{DELETED_SUFFIX, Db, DbError};
use crate::block::{BlockMeta, is_block_id};

impl Db {
    /// Deletes the blocks whose last sample is before `now_ms - retention`; returns their metas.
    /// The head is never touched.
    pub fn apply_retention(&mut self, now_ms: i64) -> Result<Vec<BlockMeta>, DbError> {
        let cutoff = now_ms.saturating_sub(self.opts.retention_ms);
        let mut removed = Vec::new();
        let mut i = 0;
        while let Some(b) = self.blocks.get(i) {
            if b.meta().max_t >= cutoff {
                i += 1;
                continue;
            }
            let block = self.blocks.remove(i);
            let (dir, meta) = (block.dir().to_path_buf(), block.meta().clone());
            drop(block);
            let gone = dir.with_file_name(format!("{}{DELETED_SUFFIX}", meta.id));
            std::fs::rename(&dir, &gone).map_err(|source| DbError::Io { op: "renaming", path: dir.clone(), source })?;
            std::fs::remove_dir_all(&gone).map_err(|source| DbError::Io { op: "deleting", path: gone, source })?;
            removed.push(meta);
        }
        Ok(removed)
    }
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DbError {
    let path = path.to_path_buf();
    move |source| DbError::Io { op, path, source }
}

/// Removes the `ID.deleted` directories an interrupted deletion left in `dir`; returns how many.
pub(super) fn cleanup_deleted(dir: &Path) -> Result<usize, DbError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(io("listing", dir))? {
        let entry = entry.map_err(io("listing", dir))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(DELETED_SUFFIX)) else { continue };
        if is_block_id(id) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(io("deleting", &path))?;
            removed += 1;
        }
    }
    Ok(removed)
}
