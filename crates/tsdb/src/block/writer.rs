//! Writing a block: series in, a complete block directory out, or nothing.
//!
//! [`BlockWriter::write`] sorts the series by tags, writes `chunks`, `index` and `meta.json` into
//! `ID.tmp`, syncs each file and the directory, renames it to `ID` and syncs the parent. Each
//! series' head chunks are decoded and re-cut into [`PackedChunk`]s, as long as their limits
//! allow and each in the encoding that packs its values smallest.
//!
//! Design decision: a block appears under its final name only once every byte of it is on
//! disk, so a reader never sees a partial block; a crash leaves at most a `.tmp` directory,
//! which [`cleanup_tmp`](super::cleanup_tmp) removes and [`block_dirs`](super::block_dirs)
//! never lists.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::format::{
    CHUNKS_MAGIC, ChunkRef, FILE_VERSION, FILE_VERSION_1, IndexSeries, chunk_record, encode_index, file_header,
};
use super::{BlockError, BlockMeta, CHUNKS_FILE, FileMeta, INDEX_FILE, META_FILE, TMP_SUFFIX, new_id};
use crate::SeriesTags;
use crate::chunkenc::{PackedChunk, XorChunk, pack_series};

/// Writes blocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockWriter;

impl BlockWriter {
    /// Writes the series (any order; each with its chunks, which must not overlap in time) as a
    /// new block in `dir` (created if missing) and returns its meta; the block's directory is
    /// `dir/ID`. Empty chunks and series without samples are left out. Fails with
    /// [`BlockError::Input`] when no sample is left, a series appears twice or chunks overlap;
    /// on any failure nothing is left under the final name.
    pub fn write(
        dir: &Path,
        series: impl IntoIterator<Item = (SeriesTags, Vec<XorChunk>)>,
    ) -> Result<BlockMeta, BlockError> {
        Self::write_version(dir, series, FILE_VERSION)
    }

    /// Writes a block of format version 1 (the head's XOR chunks as they are), so tests can
    /// check that such blocks are still read.
    #[cfg(test)]
    pub(super) fn write_version_1(
        dir: &Path,
        series: impl IntoIterator<Item = (SeriesTags, Vec<XorChunk>)>,
    ) -> Result<BlockMeta, BlockError> {
        Self::write_version(dir, series, FILE_VERSION_1)
    }

    fn write_version(
        dir: &Path,
        series: impl IntoIterator<Item = (SeriesTags, Vec<XorChunk>)>,
        version: u8,
    ) -> Result<BlockMeta, BlockError> {
        let series = prepare(series)?;
        let min_t = series.iter().filter_map(|(_, c)| c.first()?.first_time()).min();
        let max_t = series.iter().filter_map(|(_, c)| c.last()?.last_time()).max();
        let (Some(min_t), Some(max_t)) = (min_t, max_t) else {
            return Err(BlockError::Input("there are no samples".into()));
        };
        std::fs::create_dir_all(dir).map_err(|e| BlockError::io(dir, e))?;
        let id = new_id(min_t);
        let tmp = dir.join(format!("{id}{TMP_SUFFIX}"));
        let fin = dir.join(&id);
        if fin.exists() {
            return Err(BlockError::Input(format!("{} exists already", fin.display())));
        }
        let meta = BlockMeta {
            version: u64::from(version),
            id,
            min_t,
            max_t,
            series: series.len() as u64,
            samples: series.iter().flat_map(|(_, c)| c).map(|c| c.len() as u64).sum(),
            chunks: 0,
            chunks_file: FileMeta { size: 0, crc32: 0 },
            index_file: FileMeta { size: 0, crc32: 0 },
        };
        let result = write_files(&tmp, &series, meta, version).and_then(|meta| {
            std::fs::rename(&tmp, &fin).map_err(|e| BlockError::io(&fin, e))?;
            sync_dir(dir)?;
            Ok(meta)
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// Drops empty chunks and series, orders chunks by time and series by tags, and checks them.
fn prepare(
    series: impl IntoIterator<Item = (SeriesTags, Vec<XorChunk>)>,
) -> Result<Vec<(SeriesTags, Vec<XorChunk>)>, BlockError> {
    let mut out = Vec::new();
    for (tags, mut chunks) in series {
        chunks.retain(|c| !c.is_empty());
        if chunks.is_empty() {
            continue;
        }
        chunks.sort_by_key(|c| c.first_time());
        for w in chunks.windows(2) {
            if w[1].first_time() <= w[0].last_time() {
                return Err(BlockError::Input(format!("chunks of series {tags:?} overlap in time")));
            }
        }
        out.push((tags, chunks));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(BlockError::Input(format!("series {:?} appears twice", w[0].0)));
    }
    Ok(out)
}

/// Writes the three files of format `version` into `tmp` (a new directory) and syncs it.
fn write_files(
    tmp: &Path,
    series: &[(SeriesTags, Vec<XorChunk>)],
    mut meta: BlockMeta,
    version: u8,
) -> Result<BlockMeta, BlockError> {
    std::fs::create_dir(tmp).map_err(|e| BlockError::io(tmp, e))?;

    let mut chunks = Vec::new();
    chunks.extend_from_slice(&file_header(CHUNKS_MAGIC, version));
    let mut index_series = Vec::with_capacity(series.len());
    for (tags, cs) in series {
        let mut refs = Vec::new();
        let mut add = |min_t: i64, max_t: i64, bytes: &[u8]| {
            refs.push(ChunkRef { min_t, max_t, offset: chunks.len() as u64 });
            chunks.extend_from_slice(&chunk_record(bytes));
        };
        if version == FILE_VERSION_1 {
            for c in cs {
                let (Some(min_t), Some(max_t)) = (c.first_time(), c.last_time()) else { continue };
                add(min_t, max_t, c.bytes());
            }
        } else {
            for c in repack(tags, cs)? {
                add(c.first_time(), c.last_time(), c.bytes());
            }
        }
        meta.chunks += refs.len() as u64;
        index_series.push(IndexSeries { tags: tags.clone(), chunks: refs });
    }
    meta.chunks_file = write_file(&tmp.join(CHUNKS_FILE), &chunks)?;
    drop(chunks);
    let index = encode_index(&index_series, version);
    meta.index_file = write_file(&tmp.join(INDEX_FILE), &index)?;
    write_file(&tmp.join(META_FILE), meta.to_json().as_bytes())?;
    sync_dir(tmp)?;
    Ok(meta)
}

/// A series' head chunks (in time order, not overlapping) re-cut into block chunks.
fn repack(tags: &SeriesTags, cs: &[XorChunk]) -> Result<Vec<PackedChunk>, BlockError> {
    let mut samples = Vec::with_capacity(cs.iter().map(XorChunk::len).sum());
    for c in cs {
        samples.extend(c.iter());
    }
    pack_series(&samples).map_err(|e| BlockError::Input(format!("series {tags:?}: {e}")))
}

/// Creates `path` with `bytes` and syncs it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<FileMeta, BlockError> {
    let mut f = File::create_new(path).map_err(|e| BlockError::io(path, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| BlockError::io(path, e))?;
    Ok(FileMeta { size: bytes.len() as u64, crc32: crc32fast::hash(bytes) })
}

/// Syncs a directory, making the entries created or renamed in it durable.
fn sync_dir(dir: &Path) -> Result<(), BlockError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| BlockError::io(dir, e))
}
