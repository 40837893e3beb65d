//! `meta.json`: what a block holds, and the sizes and CRCs of its other files.
//!
//! [`BlockMeta`] is rendered by [`BlockMeta::to_json`] and read back by [`BlockMeta::from_json`]
//! with a small JSON reader that takes only what the file needs (objects, strings, integers),
//! bounded in size and depth, so the crate needs no JSON dependency.
//!
//! Design decision: the file is canonical, and carries a CRC-32 of itself (`meta_crc32`, over
//! the text before that member). A reader re-renders what it parsed and requires the same bytes,
//! so any changed byte, a value or a space, is caught, as in the binary files.

use super::ID_LEN;

/// The largest `meta.json` a reader accepts.
pub const MAX_META_BYTES: usize = 64 << 10;
/// The block format version this code writes (the `chunks` and `index` files carry the same);
/// version 1 blocks are still read.
pub const META_VERSION: u64 = 2;
/// How deep the JSON reader nests before refusing.
const MAX_DEPTH: usize = 8;

/// The size and CRC-32 of one of a block's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// Length in bytes.
    pub size: u64,
    /// CRC-32 (IEEE) of the whole file.
    pub crc32: u32,
}

/// What a block holds, as written in its `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMeta {
    /// The block format version, [`META_VERSION`] or 1.
    pub version: u64,
    /// The block's id, also its directory's name.
    pub id: String,
    /// The first sample's timestamp, in milliseconds.
    pub min_t: i64,
    /// The last sample's timestamp, in milliseconds (inclusive).
    pub max_t: i64,
    /// How many series.
    pub series: u64,
    /// How many samples.
    pub samples: u64,
    /// How many chunks.
    pub chunks: u64,
    /// The `chunks` file.
    pub chunks_file: FileMeta,
    /// The `index` file.
    pub index_file: FileMeta,
}

impl BlockMeta {
    fn body(&self) -> String {
        format!(
            "{{\n  \"version\": {},\n  \"id\": \"{}\",\n  \"min_t\": {},\n  \"max_t\": {},\n  \"series\": {},\n  \
             \"samples\": {},\n  \"chunks\": {},\n  \"files\": {{\n    \"chunks\": {{\"size\": {}, \"crc32\": {}}},\n    \
             \"index\": {{\"size\": {}, \"crc32\": {}}}\n  }}",
            self.version,
            self.id,
            self.min_t,
            self.max_t,
            self.series,
            self.samples,
            self.chunks,
            self.chunks_file.size,
            self.chunks_file.crc32,
            self.index_file.size,
            self.index_file.crc32,
        )
    }

    /// The canonical text of `meta.json`.
    pub fn to_json(&self) -> String {
        let body = self.body();
        let crc = crc32fast::hash(body.as_bytes());
        format!("{body},\n  \"meta_crc32\": {crc}\n}}\n")
    }

    /// Parses and checks `meta.json`; the reason if it is not one this version wrote.
    pub fn from_json(b: &[u8]) -> Result<BlockMeta, String> {
        if b.len() > MAX_META_BYTES {
            return Err(format!("{} bytes, more than {MAX_META_BYTES}", b.len()));
        }
        let mut p = Parser { b, pos: 0 };
        let v = p.value(0)?;
        p.ws();
        if p.pos != b.len() {
            return Err("trailing bytes after the JSON object".into());
        }
        let version = v.u64_at(&["version"])?;
        if version != META_VERSION && version != 1 {
            return Err(format!("version {version} is unknown to this reader"));
        }
        let id = match v.get(&["id"]) {
            Some(Json::Str(s)) if s.len() == ID_LEN && s.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') => {
                s.clone()
            }
            _ => return Err("`id` is missing or not a block id".into()),
        };
        let file = |name: &str| -> Result<FileMeta, String> {
            let crc = v.u64_at(&["files", name, "crc32"])?;
            Ok(FileMeta {
                size: v.u64_at(&["files", name, "size"])?,
                crc32: u32::try_from(crc).map_err(|_| format!("`files.{name}.crc32` is out of range"))?,
            })
        };
        let meta = BlockMeta {
            version,
            id,
            min_t: v.i64_at(&["min_t"])?,
            max_t: v.i64_at(&["max_t"])?,
            series: v.u64_at(&["series"])?,
            samples: v.u64_at(&["samples"])?,
            chunks: v.u64_at(&["chunks"])?,
            chunks_file: file("chunks")?,
            index_file: file("index")?,
        };
        let crc = v.u64_at(&["meta_crc32"])?;
        if u64::from(crc32fast::hash(meta.body().as_bytes())) != crc {
            return Err("CRC mismatch (meta_crc32)".into());
        }
        if meta.to_json().as_bytes() != b {
            return Err("not in the canonical form this version writes".into());
        }
        if meta.min_t > meta.max_t {
            return Err(format!("min_t {} is after max_t {}", meta.min_t, meta.max_t));
        }
        Ok(meta)
    }
}

/// The JSON values `meta.json` uses.
#[derive(Debug)]
enum Json {
    Int(i128),
    Str(String),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, path: &[&str]) -> Option<&Json> {
        let mut v = self;
        for key in path {
            let Json::Obj(members) = v else { return None };
            v = &members.iter().find(|(k, _)| k == key)?.1;
        }
        Some(v)
    }

    fn int_at(&self, path: &[&str]) -> Result<i128, String> {
        match self.get(path) {
            Some(Json::Int(i)) => Ok(*i),
            _ => Err(format!("`{}` is missing or not an integer", path.join("."))),
        }
    }

    fn u64_at(&self, path: &[&str]) -> Result<u64, String> {
        u64::try_from(self.int_at(path)?).map_err(|_| format!("`{}` is out of range", path.join(".")))
    }

    fn i64_at(&self, path: &[&str]) -> Result<i64, String> {
        i64::try_from(self.int_at(path)?).map_err(|_| format!("`{}` is out of range", path.join(".")))
    }
}

/// A JSON reader for objects, strings without escapes and integers.
struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.b.get(self.pos).is_some_and(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() != Some(c) {
            return Err(format!("expected `{}` at byte {}", c as char, self.pos));
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.int(),
            _ => Err(format!("unexpected input at byte {}", self.pos)),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        self.expect(b'{')?;
        let mut members: Vec<(String, Json)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Obj(members));
        }
        loop {
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(format!("key {key:?} appears twice"));
            }
            self.expect(b':')?;
            let v = self.value(depth + 1)?;
            members.push((key, v));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Obj(members));
                }
                _ => return Err(format!("expected `,` or `}}` at byte {}", self.pos)),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b'"' => {
                    let s = self.b.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return std::str::from_utf8(s).map(str::to_string).map_err(|_| "a string is not UTF-8".into());
                }
                b'\\' | 0..=0x1f => {
                    return Err(format!("escapes and control characters are not expected (byte {})", self.pos));
                }
                _ => self.pos += 1,
            }
        }
        Err("a string is not closed".into())
    }

    fn int(&mut self) -> Result<Json, String> {
        let start = self.pos;
        if self.b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let n = self.pos - digits;
        if n == 0 || n > 20 {
            return Err(format!("bad integer at byte {start}"));
        }
        let text = std::str::from_utf8(self.b.get(start..self.pos).unwrap_or_default()).unwrap_or_default();
        text.parse().map(Json::Int).map_err(|_| format!("bad integer at byte {start}"))
    }
}
