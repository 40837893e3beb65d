//! The bytes of a block's `chunks` and `index` files, encoded and decoded.
//!
//! [`encode_index`] and [`decode_index`] turn the block's series ([`IndexSeries`]: tags and
//! [`ChunkRef`]s) into the `index` file and back; [`chunk_record`] and [`parse_chunk_record`] do
//! the same for one chunk of the `chunks` file. The layouts are drawn in `docs/format/block.md`;
//! this file is their only implementation. Decoding never trusts a count or a length: each is
//! checked against the bytes left before anything is allocated, so any input is safe. Both
//! format versions are read: 1 (the head's XOR chunks as they were) and 2 (packed chunks led by
//! an encoding byte, and a smaller series section); the writer writes 2, and 1 only for tests.
//!
//! Design decision: the decoder checks the postings section against the series section (every
//! listed series carries the pair, and the lists hold exactly as many entries as the series
//! have tags), so a reader that builds its index from the series, as this version does, still
//! rejects a block whose postings a later, read-through reader would trust.

use std::collections::BTreeMap;

use crate::SeriesTags;

/// The first bytes of the `chunks` file.
pub(super) const CHUNKS_MAGIC: [u8; 4] = *b"PLBC";
/// The first bytes of the `index` file.
pub(super) const INDEX_MAGIC: [u8; 4] = *b"PLBI";
/// The version byte after either magic, as this code writes it: 2, with packed chunks (an
/// encoding byte first) and series' first chunk references relative to the previous series'.
pub(super) const FILE_VERSION: u8 = 2;
/// The first version, still read: head-format XOR chunks, absolute first chunk references.
pub(super) const FILE_VERSION_1: u8 = 1;
/// Magic, version and three zero bytes.
pub(super) const FILE_HEADER_LEN: usize = 8;
/// The `index` file's table of contents: three section offsets and a CRC.
pub(super) const TOC_LEN: usize = 3 * 8 + 4;
/// The longest symbol (tag key or value), in bytes.
pub(super) const MAX_SYMBOL_BYTES: usize = u16::MAX as usize;
/// The most tags a series may have.
pub(super) const MAX_TAGS: u64 = 256;

/// Where one chunk of a series lies: its time range and the offset of its record in `chunks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ChunkRef {
    pub(super) min_t: i64,
    pub(super) max_t: i64,
    pub(super) offset: u64,
}

/// One series of a block: its tags and its chunks, in time order, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IndexSeries {
    pub(super) tags: SeriesTags,
    pub(super) chunks: Vec<ChunkRef>,
}

/// A file's 8-byte header for format `version`.
pub(super) fn file_header(magic: [u8; 4], version: u8) -> [u8; FILE_HEADER_LEN] {
    [magic[0], magic[1], magic[2], magic[3], version, 0, 0, 0]
}

/// Checks a file's header and returns its format version (1 or 2); the reason if it is wrong.
pub(super) fn check_header(b: &[u8], magic: [u8; 4]) -> Result<u8, String> {
    match b.get(..FILE_HEADER_LEN) {
        None => Err(format!("shorter than its {FILE_HEADER_LEN}-byte header")),
        Some(h) if h[..4] != magic => Err("wrong magic number".into()),
        Some(h) if h[4] != FILE_VERSION && h[4] != FILE_VERSION_1 => {
            Err(format!("format version {} is unknown to this reader", h[4]))
        }
        Some(h) if h[5..] != [0, 0, 0] => Err("reserved header bytes are not zero".into()),
        Some(h) => Ok(h[4]),
    }
}

/// The shortest and longest chunk in a `chunks` file of format `version`.
pub(super) fn chunk_len_range(version: u8) -> (usize, usize) {
    if version == FILE_VERSION_1 {
        (crate::chunkenc::HEADER_LEN, crate::chunkenc::MAX_BYTES)
    } else {
        (2, crate::chunkenc::MAX_PACKED_BYTES)
    }
}

/// The longest record (length, chunk, CRC) in a `chunks` file of format `version`.
pub(super) fn max_record_len(version: u8) -> usize {
    chunk_len_range(version).1 + 3 + 4
}

/// The sample count of a chunk of a `chunks` file of format `version`, read from its header.
pub(super) fn chunk_samples(chunk: &[u8], version: u8) -> Result<u64, String> {
    if version == FILE_VERSION_1 {
        let b = |i: usize| chunk.get(i).copied().unwrap_or(0);
        Ok(u64::from(u16::from_be_bytes([b(0), b(1)])))
    } else {
        crate::chunkenc::packed_len(chunk).map(|n| n as u64).map_err(|e| e.to_string())
    }
}

pub(super) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// The record of one chunk in the `chunks` file: length, bytes, CRC-32 of the bytes.
pub(super) fn chunk_record(chunk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() + 7);
    put_uvarint(&mut out, chunk.len() as u64);
    out.extend_from_slice(chunk);
    out.extend_from_slice(&crc32fast::hash(chunk).to_le_bytes());
    out
}

/// The chunk bytes of the record at `pos` of `b` (its CRC checked) and where the next begins;
/// the reason, without the offset, if the record is bad.
pub(super) fn parse_chunk_record(b: &[u8], pos: usize, version: u8) -> Result<(&[u8], usize), String> {
    let mut c = Cursor { b, pos };
    let len = c.uvarint("a chunk length")?;
    let (min, max) = chunk_len_range(version);
    if len > max as u64 || len < min as u64 {
        return Err(format!("chunk length {len} is out of range"));
    }
    let chunk = c.bytes(len as usize, "a chunk")?;
    let crc = c.u32_le("a chunk's CRC")?;
    if crc32fast::hash(chunk) != crc {
        return Err("CRC mismatch".into());
    }
    Ok((chunk, c.pos))
}

/// A reading position in untrusted bytes.
pub(super) struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Cursor { b, pos: 0 }
    }

    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else { return Err(format!("ends inside {what}")) };
        let s = self.b.get(self.pos..end).ok_or_else(|| format!("ends inside {what}"))?;
        self.pos = end;
        Ok(s)
    }

    fn u32_le(&mut self, what: &str) -> Result<u32, String> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64_le(&mut self, what: &str) -> Result<u64, String> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(super) fn uvarint(&mut self, what: &str) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.b.get(self.pos) else { return Err(format!("ends inside {what}")) };
            self.pos += 1;
            if i == 9 && byte > 1 {
                break;
            }
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(format!("{what} is a varint longer than 64 bits"))
    }

    fn varint(&mut self, what: &str) -> Result<i64, String> {
        let u = self.uvarint(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A count of items of at least `min_item` bytes each, checked against the bytes left.
    fn count(&mut self, what: &str, min_item: usize) -> Result<usize, String> {
        let n = self.uvarint(what)?;
        if n > (self.left() / min_item.max(1)) as u64 {
            return Err(format!("{what} {n} is larger than the bytes left"));
        }
        Ok(n as usize)
    }
}

/// The `index` file of format `version` for `series`, which must be sorted by tags, unique,
/// each with chunks.
pub(super) fn encode_index(series: &[IndexSeries], version: u8) -> Vec<u8> {
    let mut syms: BTreeMap<&str, u64> = BTreeMap::new();
    for s in series {
        for (k, v) in s.tags.iter() {
            syms.insert(k, 0);
            syms.insert(v, 0);
        }
    }
    for (i, r) in syms.values_mut().enumerate() {
        *r = i as u64;
    }
    let sym = |s: &str| syms.get(s).copied().unwrap_or(0);

    let mut symbols = Vec::new();
    put_uvarint(&mut symbols, syms.len() as u64);
    for s in syms.keys() {
        put_uvarint(&mut symbols, s.len() as u64);
        symbols.extend_from_slice(s.as_bytes());
    }

    let mut body = Vec::new();
    let mut postings: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    put_uvarint(&mut body, series.len() as u64);
    // Version 2 writes a series' first chunk relative to the previous series' first chunk.
    let mut base = (0i64, 0u64);
    for (r, s) in series.iter().enumerate() {
        put_uvarint(&mut body, s.tags.len() as u64);
        for (k, v) in s.tags.iter() {
            let (k, v) = (sym(k), sym(v));
            put_uvarint(&mut body, k);
            put_uvarint(&mut body, v);
            postings.entry((k, v)).or_default().push(r as u64);
        }
        put_uvarint(&mut body, s.chunks.len() as u64);
        let mut prev: Option<&ChunkRef> = None;
        for c in &s.chunks {
            match prev {
                None if version == FILE_VERSION_1 => {
                    put_varint(&mut body, c.min_t);
                    put_uvarint(&mut body, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_uvarint(&mut body, c.offset);
                }
                None => {
                    put_varint(&mut body, c.min_t.wrapping_sub(base.0));
                    put_uvarint(&mut body, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_varint(&mut body, c.offset.wrapping_sub(base.1) as i64);
                    base = (c.min_t, c.offset);
                }
                Some(p) => {
                    put_uvarint(&mut body, c.min_t.wrapping_sub(p.max_t) as u64);
                    put_uvarint(&mut body, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_uvarint(&mut body, c.offset.wrapping_sub(p.offset));
                }
            }
            prev = Some(c);
        }
    }
    let series_body = body;

    let mut post = Vec::new();
    put_uvarint(&mut post, postings.len() as u64);
    for ((k, v), refs) in &postings {
        put_uvarint(&mut post, *k);
        put_uvarint(&mut post, *v);
        put_uvarint(&mut post, refs.len() as u64);
        let mut last = 0;
        for (i, &r) in refs.iter().enumerate() {
            put_uvarint(&mut post, if i == 0 { r } else { r - last });
            last = r;
        }
    }

    let mut out = file_header(INDEX_MAGIC, version).to_vec();
    let mut offsets = [0u64; 3];
    for (i, sec) in [&symbols, &series_body, &post].into_iter().enumerate() {
        offsets[i] = out.len() as u64;
        out.extend_from_slice(&(sec.len() as u64).to_le_bytes());
        out.extend_from_slice(sec);
        out.extend_from_slice(&crc32fast::hash(sec).to_le_bytes());
    }
    let toc_start = out.len();
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    let crc = crc32fast::hash(&out[toc_start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes and checks a whole `index` file; its format version and series.
pub(super) fn decode_index(b: &[u8]) -> Result<(u8, Vec<IndexSeries>), String> {
    let version = check_header(b, INDEX_MAGIC)?;
    let toc_start =
        b.len().checked_sub(TOC_LEN).filter(|&s| s >= FILE_HEADER_LEN).ok_or("too short for its table of contents")?;
    let toc = b.get(toc_start..).ok_or("too short for its table of contents")?;
    let mut c = Cursor::new(toc);
    let offsets = [c.u64_le("the TOC")?, c.u64_le("the TOC")?, c.u64_le("the TOC")?];
    if crc32fast::hash(toc.get(..TOC_LEN - 4).unwrap_or_default()) != c.u32_le("the TOC")? {
        return Err("CRC mismatch in the table of contents".into());
    }
    let mut pos = FILE_HEADER_LEN;
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(3);
    for (name, off) in ["symbols", "series", "postings"].into_iter().zip(offsets) {
        if off != pos as u64 {
            return Err(format!("the {name} section is at offset {off}, expected {pos}"));
        }
        let mut c = Cursor { b: b.get(..toc_start).unwrap_or_default(), pos };
        let len = c.u64_le(name)?;
        let body = c.bytes(usize::try_from(len).unwrap_or(usize::MAX), name)?;
        if crc32fast::hash(body) != c.u32_le(name)? {
            return Err(format!("CRC mismatch in the {name} section"));
        }
        bodies.push(body);
        pos = c.pos;
    }
    if pos != toc_start {
        return Err(format!("{} unknown bytes before the table of contents", toc_start - pos));
    }
    let symbols = decode_symbols(bodies.first().copied().unwrap_or_default())?;
    let series = decode_series(bodies.get(1).copied().unwrap_or_default(), &symbols, version)?;
    check_postings(bodies.get(2).copied().unwrap_or_default(), &symbols, &series)?;
    Ok((version, series))
}

/// The symbols section: sorted, unique UTF-8 strings.
pub(super) fn decode_symbols(b: &[u8]) -> Result<Vec<&str>, String> {
    let mut c = Cursor::new(b);
    let n = c.count("symbol count", 1)?;
    let mut out: Vec<&str> = Vec::with_capacity(n);
    for i in 0..n {
        let len = c.uvarint("a symbol length")?;
        if len > MAX_SYMBOL_BYTES as u64 {
            return Err(format!("symbol {i} is {len} bytes, more than {MAX_SYMBOL_BYTES}"));
        }
        let s =
            std::str::from_utf8(c.bytes(len as usize, "a symbol")?).map_err(|_| format!("symbol {i} is not UTF-8"))?;
        if out.last().is_some_and(|&p| p >= s) {
            return Err(format!("symbol {i} is not after the previous one"));
        }
        out.push(s);
    }
    if c.left() != 0 {
        return Err("trailing bytes in the symbols section".into());
    }
    Ok(out)
}

fn symbol<'a>(c: &mut Cursor, syms: &[&'a str], what: &str) -> Result<(u64, &'a str), String> {
    let r = c.uvarint(what)?;
    let s = usize::try_from(r).ok().and_then(|i| syms.get(i)).ok_or_else(|| format!("{what} {r} is not a symbol"))?;
    Ok((r, s))
}

/// The series section of format `version`, checked: tags valid and sorted, series sorted,
/// chunks in time order.
pub(super) fn decode_series(b: &[u8], syms: &[&str], version: u8) -> Result<Vec<IndexSeries>, String> {
    let mut c = Cursor::new(b);
    // A series takes at least 6 bytes: tag count, one pair, chunk count, one chunk ref.
    let n = c.count("series count", 6)?;
    let mut out: Vec<IndexSeries> = Vec::with_capacity(n);
    let mut base = (0i64, 0u64);
    for i in 0..n {
        let nt = c.uvarint("a tag count")?;
        if nt == 0 || nt > MAX_TAGS {
            return Err(format!("series {i} has {nt} tags, expected 1 to {MAX_TAGS}"));
        }
        let mut tags = Vec::with_capacity(nt as usize);
        let mut last_key = None;
        for _ in 0..nt {
            let (kr, k) = symbol(&mut c, syms, "a tag key")?;
            let (_, v) = symbol(&mut c, syms, "a tag value")?;
            if last_key.is_some_and(|l| l >= kr) {
                return Err(format!("series {i}: tag keys are not sorted and unique"));
            }
            last_key = Some(kr);
            tags.push((k.to_string(), v.to_string()));
        }
        let tags = SeriesTags::new(tags).map_err(|e| format!("series {i}: {e}"))?;
        if out.last().is_some_and(|p| p.tags >= tags) {
            return Err(format!("series {i} is not after the previous one"));
        }
        let nc = c.count("a chunk count", 3)?;
        if nc == 0 {
            return Err(format!("series {i} has no chunks"));
        }
        let mut chunks: Vec<ChunkRef> = Vec::with_capacity(nc);
        for _ in 0..nc {
            let cr = match chunks.last() {
                None if version == FILE_VERSION_1 => {
                    let min_t = c.varint("a chunk's min_t")?;
                    let span = c.uvarint("a chunk's span")?;
                    let offset = c.uvarint("a chunk's offset")?;
                    ChunkRef { min_t, max_t: add(min_t, span)?, offset }
                }
                None => {
                    let min_t = c.varint("a chunk's min_t")?.wrapping_add(base.0);
                    let span = c.uvarint("a chunk's span")?;
                    let offset = base.1.wrapping_add(c.varint("a chunk's offset")? as u64);
                    base = (min_t, offset);
                    ChunkRef { min_t, max_t: add(min_t, span)?, offset }
                }
                Some(p) => {
                    let gap = c.uvarint("a chunk's gap")?;
                    let span = c.uvarint("a chunk's span")?;
                    let delta = c.uvarint("a chunk's offset delta")?;
                    if gap == 0 || delta == 0 {
                        return Err(format!("series {i}: chunks overlap or share an offset"));
                    }
                    let min_t = add(p.max_t, gap)?;
                    let offset = p.offset.checked_add(delta).ok_or("a chunk offset overflows")?;
                    ChunkRef { min_t, max_t: add(min_t, span)?, offset }
                }
            };
            chunks.push(cr);
        }
        out.push(IndexSeries { tags, chunks });
    }
    if c.left() != 0 {
        return Err("trailing bytes in the series section".into());
    }
    Ok(out)
}

/// `t + d` where `d` is an unsigned distance, or an error if it leaves the `i64` range.
fn add(t: i64, d: u64) -> Result<i64, String> {
    t.checked_add_unsigned(d).ok_or_else(|| "a chunk time leaves the i64 range".to_string())
}

/// The postings section: checked to list exactly the series carrying each pair.
pub(super) fn check_postings(b: &[u8], syms: &[&str], series: &[IndexSeries]) -> Result<(), String> {
    let mut c = Cursor::new(b);
    let n = c.count("postings count", 4)?;
    let mut last_pair = None;
    let mut entries = 0u64;
    for _ in 0..n {
        let (kr, k) = symbol(&mut c, syms, "a postings key")?;
        let (vr, v) = symbol(&mut c, syms, "a postings value")?;
        if last_pair.is_some_and(|l| l >= (kr, vr)) {
            return Err("postings are not sorted by key and value".into());
        }
        last_pair = Some((kr, vr));
        let len = c.count("a postings length", 1)?;
        if len == 0 {
            return Err(format!("the postings of {k}={v} are empty"));
        }
        let mut r = 0u64;
        for j in 0..len {
            let d = c.uvarint("a postings entry")?;
            if j > 0 && d == 0 {
                return Err(format!("the postings of {k}={v} repeat a series"));
            }
            r = r.checked_add(d).ok_or("a postings entry overflows")?;
            let s = usize::try_from(r).ok().and_then(|i| series.get(i));
            if s.and_then(|s| s.tags.get(k)) != Some(v) {
                return Err(format!("the postings of {k}={v} list series {r}, which does not carry it"));
            }
        }
        entries += len as u64;
    }
    if c.left() != 0 {
        return Err("trailing bytes in the postings section".into());
    }
    let expected: u64 = series.iter().map(|s| s.tags.len() as u64).sum();
    if entries != expected {
        return Err(format!("the postings hold {entries} entries, the series {expected} tags"));
    }
    Ok(())
}
