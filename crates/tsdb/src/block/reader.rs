//! Reading a block: open and check it, select series by tag, read their samples.
//!
//! [`Block::open`] checks `meta.json`, then `index` (size, CRC, every section) and `chunks`
//! (size, CRC, every record, and that the index refers to each record exactly once), and builds
//! a [`MemIndex`] over the block's series, numbered 0.. in tag order (the local series ref).
//! [`Block::read`] reads each selected series' chunks with one positioned read of the file, as
//! a series' chunks lie back to back, and checks each chunk's CRC again. Blocks of format
//! version 2 hold [`PackedChunk`](crate::chunkenc::PackedChunk)s in any of their encodings;
//! version 1 blocks, with the head's XOR chunks, are still read.
//!
//! Design decision: a corrupt block is an error naming the file and the reason, found at open
//! rather than at a query, so the store can report and skip it once.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{
    CHUNKS_MAGIC, FILE_HEADER_LEN, FILE_VERSION_1, IndexSeries, check_header, chunk_samples, decode_index,
    max_record_len, parse_chunk_record,
};
use super::{BlockError, BlockMeta, CHUNKS_FILE, INDEX_FILE, META_FILE};
use crate::SeriesTags;
use crate::chunkenc::{XorIter, decode_packed};
use crate::head::SeriesData;
use crate::index::{Matcher, MemIndex};

/// The largest `index` file a reader loads, 1 GiB.
pub const MAX_INDEX_BYTES: u64 = 1 << 30;

/// Bytes `check_chunks` keeps unread in its window before reading more: above any record.
const WINDOW_TAIL: usize = 1 << 15;
const _: () = assert!(WINDOW_TAIL > crate::chunkenc::MAX_PACKED_BYTES + 7);

/// An open, checked block.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    meta_bytes: u64,
    /// The format version of `index` and `chunks` (1 or 2).
    version: u8,
    series: Vec<IndexSeries>,
    index: MemIndex,
    chunks: File,
}

impl Block {
    /// Opens the block in directory `dir` and checks all of it.
    pub fn open(dir: &Path) -> Result<Block, BlockError> {
        let meta_path = dir.join(META_FILE);
        let meta_text = read_limited(&meta_path, super::MAX_META_BYTES as u64)?;
        let meta = BlockMeta::from_json(&meta_text).map_err(|r| BlockError::corrupt(&meta_path, r))?;
        if dir.file_name().and_then(|n| n.to_str()) != Some(meta.id.as_str()) {
            return Err(BlockError::corrupt(&meta_path, format!("the id {} is not the directory's name", meta.id)));
        }

        let index_path = dir.join(INDEX_FILE);
        let bytes = read_limited(&index_path, MAX_INDEX_BYTES)?;
        check_size_crc(&index_path, &bytes, meta.index_file.size, meta.index_file.crc32)?;
        let (version, series) = decode_index(&bytes).map_err(|r| BlockError::corrupt(&index_path, r))?;
        drop(bytes);
        if u64::from(version) != meta.version {
            let reason = format!("format version {version}, meta.json says {}", meta.version);
            return Err(BlockError::corrupt(&index_path, reason));
        }
        if series.len() as u64 != meta.series {
            let reason = format!("{} series, meta.json says {}", series.len(), meta.series);
            return Err(BlockError::corrupt(&index_path, reason));
        }
        for s in &series {
            let (Some(first), Some(last)) = (s.chunks.first(), s.chunks.last()) else { continue };
            if first.min_t < meta.min_t || last.max_t > meta.max_t {
                return Err(BlockError::corrupt(&index_path, "a chunk lies outside the block's time range"));
            }
        }

        let chunks_path = dir.join(CHUNKS_FILE);
        let chunks = File::open(&chunks_path).map_err(|e| BlockError::io(&chunks_path, e))?;
        check_chunks(&chunks_path, &chunks, &meta, version, &series)?;

        let mut index = MemIndex::new();
        for (r, s) in series.iter().enumerate() {
            index.add(r as u64, &s.tags);
        }
        index.shrink_to_fit();
        Ok(Block { dir: dir.to_path_buf(), meta, meta_bytes: meta_text.len() as u64, version, series, index, chunks })
    }

    /// The block's `meta.json`.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bytes the block's three files take (not counting file system overhead).
    pub fn disk_bytes(&self) -> u64 {
        self.meta.chunks_file.size + self.meta.index_file.size + self.meta_bytes
    }

    /// An estimate of the memory the loaded index holds, in bytes.
    pub fn memory_bytes(&self) -> usize {
        let refs: usize = self.series.iter().map(|s| s.chunks.capacity() * size_of::<super::format::ChunkRef>()).sum();
        let tags: usize = self.series.iter().flat_map(|s| s.tags.iter()).map(|(k, v)| k.len() + v.len() + 48).sum();
        self.index.memory_bytes() + refs + tags + self.series.capacity() * size_of::<IndexSeries>()
    }

    /// The local refs (0.. in tag order) of the series `m` selects, ascending.
    pub fn select(&self, m: &Matcher) -> Result<Vec<u64>, BlockError> {
        let compiled = m.compile().map_err(|e| BlockError::Query(e.to_string()))?;
        Ok(self.index.select(&compiled).into_vec())
    }

    /// The tags of the series with local ref `r`.
    pub fn tags(&self, r: u64) -> Option<&SeriesTags> {
        self.series.get(usize::try_from(r).ok()?).map(|s| &s.tags)
    }

    /// The tag keys, sorted.
    pub fn tag_keys(&self) -> impl Iterator<Item = &str> {
        self.index.tag_keys()
    }

    /// The values of `key`, sorted; none for an unknown key.
    pub fn tag_values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.index.tag_values(key)
    }

    /// The samples of every series `m` selects with `start <= t <= end` (milliseconds), in tag
    /// order; series without samples in the range are left out.
    pub fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, BlockError> {
        let mut out = Vec::new();
        for r in self.select(m)? {
            if let Some(data) = self.read_series(r, start, end)? {
                out.push(data);
            }
        }
        Ok(out)
    }

    /// The samples of the series with local ref `r` in `start..=end`; none if it has none there
    /// or there is no such series.
    pub fn read_series(&self, r: u64, start: i64, end: i64) -> Result<Option<SeriesData>, BlockError> {
        let Some(s) = usize::try_from(r).ok().and_then(|i| self.series.get(i)) else { return Ok(None) };
        let wanted: Vec<_> = s.chunks.iter().filter(|c| c.max_t >= start && c.min_t <= end).collect();
        let (Some(&first), Some(&last)) = (wanted.first(), wanted.last()) else { return Ok(None) };
        let path = self.dir.join(CHUNKS_FILE);
        let span_end = last.offset.saturating_add(max_record_len(self.version) as u64).min(self.meta.chunks_file.size);
        let len = usize::try_from(span_end.saturating_sub(first.offset)).unwrap_or(0);
        let mut buf = vec![0u8; len];
        self.chunks.read_exact_at(&mut buf, first.offset).map_err(|e| BlockError::io(&path, e))?;
        let mut data = SeriesData { tags: s.tags.clone(), timestamps: Vec::new(), values: Vec::new() };
        for c in wanted {
            let at = usize::try_from(c.offset - first.offset).unwrap_or(usize::MAX);
            let corrupt = |r: &dyn std::fmt::Display| {
                BlockError::corrupt(&path, format!("the chunk at offset {}: {r}", c.offset))
            };
            let (bytes, _) = parse_chunk_record(&buf, at, self.version).map_err(|r| corrupt(&r))?;
            let samples = if self.version == FILE_VERSION_1 {
                let mut it = XorIter::new(bytes);
                let samples: Vec<(i64, f64)> = it.by_ref().collect();
                if let Some(e) = it.error() {
                    return Err(corrupt(e));
                }
                samples
            } else {
                decode_packed(bytes).map_err(|e| corrupt(&e))?
            };
            for (t, v) in samples {
                if t < c.min_t || t > c.max_t {
                    return Err(corrupt(&"a sample outside the chunk's range"));
                }
                if t >= start && t <= end {
                    data.timestamps.push(t);
                    data.values.push(v);
                }
            }
        }
        Ok((!data.timestamps.is_empty()).then_some(data))
    }
}

/// Reads a whole file of at most `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, BlockError> {
    let f = File::open(path).map_err(|e| BlockError::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(limit + 1).read_to_end(&mut bytes).map_err(|e| BlockError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(BlockError::corrupt(path, format!("larger than the limit of {limit} bytes")));
    }
    Ok(bytes)
}

fn check_size_crc(path: &Path, bytes: &[u8], size: u64, crc: u32) -> Result<(), BlockError> {
    if bytes.len() as u64 != size {
        return Err(BlockError::corrupt(path, format!("{} bytes, meta.json says {size}", bytes.len())));
    }
    if crc32fast::hash(bytes) != crc {
        return Err(BlockError::corrupt(path, "CRC mismatch with meta.json"));
    }
    Ok(())
}

/// Reads `chunks` through once: size and CRC against the meta, the header's version against the
/// index's, each record's CRC, and every index reference pointing at exactly one record; the
/// sample counts add up to the meta's.
fn check_chunks(
    path: &Path,
    f: &File,
    meta: &BlockMeta,
    version: u8,
    series: &[IndexSeries],
) -> Result<(), BlockError> {
    let len = f.metadata().map_err(|e| BlockError::io(path, e))?.len();
    if len != meta.chunks_file.size {
        return Err(BlockError::corrupt(path, format!("{len} bytes, meta.json says {}", meta.chunks_file.size)));
    }
    let mut refs: Vec<u64> = series.iter().flat_map(|s| s.chunks.iter().map(|c| c.offset)).collect();
    refs.sort_unstable();
    if refs.len() as u64 != meta.chunks {
        return Err(BlockError::corrupt(
            path,
            format!("the index refers to {} chunks, meta.json says {}", refs.len(), meta.chunks),
        ));
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut reader = std::io::BufReader::with_capacity(1 << 16, f);
    // Read in windows, keeping at least WINDOW_TAIL bytes (more than a record) between reads.
    let mut buf: Vec<u8> = Vec::new();
    let mut base = 0u64; // file offset of buf[0]
    let mut pos = 0usize; // next record in buf
    let mut records = 0usize;
    let mut samples = 0u64;
    let mut eof = false;
    let mut header_checked = false;
    loop {
        if !eof && buf.len() - pos < WINDOW_TAIL {
            buf.drain(..pos);
            base += pos as u64;
            pos = 0;
            let mut more = vec![0u8; 1 << 16];
            let n = reader.read(&mut more).map_err(|e| BlockError::io(path, e))?;
            hasher.update(&more[..n]);
            buf.extend_from_slice(&more[..n]);
            eof = n == 0;
            continue;
        }
        if !header_checked {
            let found = check_header(&buf, CHUNKS_MAGIC).map_err(|r| BlockError::corrupt(path, r))?;
            if found != version {
                return Err(BlockError::corrupt(path, format!("format version {found}, the index's is {version}")));
            }
            pos = FILE_HEADER_LEN;
            header_checked = true;
            continue;
        }
        if pos >= buf.len() {
            break;
        }
        let offset = base + pos as u64;
        let corrupt = |r: String| BlockError::corrupt(path, format!("the chunk at offset {offset}: {r}"));
        let (chunk, next) = parse_chunk_record(&buf, pos, version).map_err(corrupt)?;
        if refs.get(records) != Some(&offset) {
            return Err(BlockError::corrupt(
                path,
                format!("the chunk at offset {offset} is not the one the index refers to"),
            ));
        }
        samples += chunk_samples(chunk, version).map_err(corrupt)?;
        records += 1;
        pos = next;
    }
    if hasher.finalize() != meta.chunks_file.crc32 {
        return Err(BlockError::corrupt(path, "CRC mismatch with meta.json"));
    }
    if records != refs.len() {
        return Err(BlockError::corrupt(path, format!("{records} chunks, the index refers to {}", refs.len())));
    }
    if samples != meta.samples {
        return Err(BlockError::corrupt(path, format!("{samples} samples, meta.json says {}", meta.samples)));
    }
    Ok(())
}
