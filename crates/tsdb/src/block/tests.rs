use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::format::{self, put_uvarint};
use super::*;
use crate::SeriesTags;
use crate::chunkenc::XorChunk;
use crate::head::SeriesData;
use crate::index::Matcher;

fn tags(pairs: &[(&str, &str)]) -> SeriesTags {
    SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
}

/// Cuts samples into chunks as the head does: a new chunk when one is full.
fn chunks_of(samples: &[(i64, f64)]) -> Vec<XorChunk> {
    let mut out = vec![XorChunk::new()];
    for &(t, v) in samples {
        if out.last_mut().unwrap().append(t, v).is_err() {
            let mut c = XorChunk::new();
            c.append(t, v).unwrap();
            out.push(c);
        }
    }
    out
}

/// A small deterministic generator, so the data varies without a seed to manage.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// `n` series of several chunks each: counters, gauges, constants, NaN payloads, gaps.
fn dataset(n: usize, samples: usize) -> Vec<(SeriesTags, Vec<(i64, f64)>)> {
    let mut rng = Lcg(n as u64 * 7919 + samples as u64);
    let mut out = Vec::new();
    for i in 0..n {
        let name = ["cpu.user", "mem.free", "net.bytes", "disk.io"][i % 4];
        let node = format!("i-{:04}", i / 4);
        let app = ["api", "web", "db"][i % 3];
        let t = if i % 5 == 0 {
            tags(&[("name", name), ("nf.node", &node)])
        } else {
            tags(&[("name", name), ("nf.node", &node), ("nf.app", app)])
        };
        let mut s = Vec::new();
        let mut t0 = 1_700_000_000_000 - (i as i64 % 3) * 1000;
        let mut acc = 0.0;
        for j in 0..samples {
            t0 += if rng.next().is_multiple_of(50) { 60_000 } else { 10_000 };
            let v = match i % 6 {
                0 => {
                    acc += (rng.next() % 20) as f64;
                    acc
                }
                1 => (rng.next() % 1000) as f64 / 100.0,
                2 => 42.0,
                3 if j % 17 == 0 => f64::from_bits(0x7ff0_0000_0000_0002),
                3 => -0.0,
                4 => (rng.next() % 100) as f64,
                _ => f64::from_bits(rng.next() << 20 | rng.next()),
            };
            s.push((t0, v));
        }
        out.push((t, s));
    }
    out
}

fn write(dir: &Path, data: &[(SeriesTags, Vec<(i64, f64)>)]) -> (BlockMeta, PathBuf) {
    // Reverse the order: the writer must sort.
    let meta = BlockWriter::write(dir, data.iter().rev().map(|(t, s)| (t.clone(), chunks_of(s)))).unwrap();
    let path = dir.join(&meta.id);
    (meta, path)
}

fn bits(d: &SeriesData) -> Vec<(i64, u64)> {
    d.timestamps.iter().zip(&d.values).map(|(&t, v)| (t, v.to_bits())).collect()
}

fn expected(
    data: &[(SeriesTags, Vec<(i64, f64)>)],
    m: &Matcher,
    start: i64,
    end: i64,
) -> Vec<(SeriesTags, Vec<(i64, u64)>)> {
    let c = m.compile().unwrap();
    let mut out: Vec<_> = data
        .iter()
        .filter(|(t, _)| c.matches(t))
        .map(|(t, s)| {
            (
                t.clone(),
                s.iter()
                    .filter(|(ts, _)| *ts >= start && *ts <= end)
                    .map(|&(ts, v)| (ts, v.to_bits()))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, s)| !s.is_empty())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn round_trip_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(300, 600);
    let (meta, path) = write(tmp.path(), &data);
    assert_eq!(meta.series, 300);
    assert_eq!(meta.samples, 300 * 600);
    assert_eq!(meta.chunks, 300, "one block chunk a series of 600 samples");
    let block = Block::open(&path).unwrap();
    assert_eq!(block.meta(), &meta);
    assert_eq!(block.meta().min_t, data.iter().map(|(_, s)| s[0].0).min().unwrap());
    assert_eq!(block.meta().max_t, data.iter().map(|(_, s)| s.last().unwrap().0).max().unwrap());
    let got: Vec<_> =
        block.read(&Matcher::True, i64::MIN, i64::MAX).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
    assert_eq!(got, expected(&data, &Matcher::True, i64::MIN, i64::MAX));
    // A range cutting through chunks.
    let (s, e) = (data[0].1[100].0, data[0].1[400].0);
    let got: Vec<_> = block.read(&Matcher::True, s, e).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
    assert_eq!(got, expected(&data, &Matcher::True, s, e));
    assert!(block.read(&Matcher::True, 0, 1).unwrap().is_empty());
    assert_eq!(
        block.disk_bytes(),
        meta.chunks_file.size + meta.index_file.size + std::fs::metadata(path.join(META_FILE)).unwrap().len()
    );
    assert_eq!(block.tag_keys().collect::<Vec<_>>(), ["name", "nf.app", "nf.node"]);
    assert_eq!(block.tag_values("nf.app").collect::<Vec<_>>(), ["api", "db", "web"]);
    assert_eq!(block_dirs(tmp.path()).unwrap(), [path]);
}

#[test]
fn select_equals_brute_force() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(200, 5);
    let (_, path) = write(tmp.path(), &data);
    let block = Block::open(&path).unwrap();
    let eq = |k: &str, v: &str| Matcher::Eq(k.into(), v.into());
    let re = |k: &str, p: &str| Matcher::Re { key: k.into(), pattern: p.into(), ignore_case: false };
    let queries = [
        eq("name", "cpu.user"),
        eq("nf.app", "db"),
        eq("nf.app", "nope"),
        re("nf.node", "i-00[1-3]"),
        re("name", ".*\\.(free|io)"),
        Matcher::And(Box::new(eq("name", "mem.free")), Box::new(re("nf.app", "a|w"))),
        Matcher::And(Box::new(Matcher::Has("nf.app".into())), Box::new(Matcher::Not(Box::new(eq("name", "disk.io"))))),
    ];
    let mut sorted: Vec<_> = data.iter().map(|(t, _)| t.clone()).collect();
    sorted.sort();
    for q in &queries {
        let c = q.compile().unwrap();
        let want: Vec<&SeriesTags> = sorted.iter().filter(|t| c.matches(t)).collect();
        let got: Vec<&SeriesTags> = block.select(q).unwrap().into_iter().map(|r| block.tags(r).unwrap()).collect();
        assert_eq!(got, want, "{q:?}");
        let read: Vec<_> =
            block.read(q, i64::MIN, i64::MAX).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
        assert_eq!(read, expected(&data, q, i64::MIN, i64::MAX), "{q:?}");
    }
    assert!(matches!(block.select(&re("name", "(")), Err(BlockError::Query(_))));
}

fn small_block(dir: &Path) -> PathBuf {
    write(dir, &dataset(20, 300)).1
}

fn assert_names(err: BlockError, file: &str) {
    let path = err.path().unwrap_or_else(|| panic!("no path in {err}"));
    assert_eq!(path.file_name().unwrap(), file, "{err}");
}

#[test]
fn a_flipped_byte_is_found_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let path = small_block(tmp.path());
    for file in [CHUNKS_FILE, INDEX_FILE, META_FILE] {
        let orig = std::fs::read(path.join(file)).unwrap();
        // The header, the middle and the last byte.
        for at in [5, orig.len() / 2, orig.len() - 1] {
            let mut b = orig.clone();
            b[at] ^= 0x10;
            std::fs::write(path.join(file), &b).unwrap();
            match Block::open(&path) {
                Ok(_) => panic!("{file}: byte {at} flipped, yet the block opened"),
                Err(e) => assert_names(e, file),
            }
        }
        std::fs::write(path.join(file), &orig).unwrap();
        Block::open(&path).unwrap();
    }
}

#[test]
fn truncated_and_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let path = small_block(tmp.path());
    for file in [CHUNKS_FILE, INDEX_FILE, META_FILE] {
        let orig = std::fs::read(path.join(file)).unwrap();
        for len in [0, 3, orig.len() / 2, orig.len() - 1] {
            std::fs::write(path.join(file), &orig[..len]).unwrap();
            assert_names(Block::open(&path).unwrap_err(), file);
        }
        std::fs::remove_file(path.join(file)).unwrap();
        let err = Block::open(&path).unwrap_err();
        assert!(matches!(err, BlockError::Io { .. }), "{err}");
        assert_names(err, file);
        std::fs::write(path.join(file), &orig).unwrap();
    }
    Block::open(&path).unwrap();
    // A block moved to another name is refused: the id is the directory's name.
    let moved = tmp.path().join("moved");
    std::fs::rename(&path, &moved).unwrap();
    assert_names(Block::open(&moved).unwrap_err(), META_FILE);
}

#[test]
fn interrupted_write_is_ignored_and_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let path = small_block(tmp.path());
    // A "crash" mid-write: a temporary directory with part of a block, no meta.json.
    let id = new_id(5);
    let crashed = tmp.path().join(format!("{id}{TMP_SUFFIX}"));
    std::fs::create_dir(&crashed).unwrap();
    std::fs::copy(path.join(CHUNKS_FILE), crashed.join(CHUNKS_FILE)).unwrap();
    std::fs::create_dir(tmp.path().join("not-a-block.tmp")).unwrap();
    assert_eq!(block_dirs(tmp.path()).unwrap(), std::slice::from_ref(&path));
    assert!(Block::open(&crashed).is_err());
    assert_eq!(cleanup_tmp(tmp.path()).unwrap(), 1);
    assert!(!crashed.exists());
    assert!(tmp.path().join("not-a-block.tmp").exists());
    Block::open(&path).unwrap();
}

#[test]
fn ids_sort_by_time() {
    let ids: Vec<String> = [i64::MIN, -5, 0, 1, 1_700_000_000_000, i64::MAX].iter().map(|&t| new_id(t)).collect();
    assert!(ids.iter().all(|i| is_block_id(i)), "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_ne!(new_id(7), new_id(7));
    assert!(!is_block_id(&format!("{}{TMP_SUFFIX}", new_id(1))));
}

#[test]
fn bad_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tags(&[("name", "a")]);
    let none = BlockWriter::write(tmp.path(), [(a.clone(), vec![XorChunk::new()])]);
    assert!(matches!(none, Err(BlockError::Input(_))));
    let twice =
        BlockWriter::write(tmp.path(), [(a.clone(), chunks_of(&[(1, 1.0)])), (a.clone(), chunks_of(&[(2, 1.0)]))]);
    assert!(matches!(twice, Err(BlockError::Input(_))));
    let overlap =
        BlockWriter::write(tmp.path(), [(a, [chunks_of(&[(1, 1.0), (5, 1.0)]), chunks_of(&[(3, 1.0)])].concat())]);
    assert!(matches!(overlap, Err(BlockError::Input(_))));
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none(), "a refused write leaves nothing");
}

#[test]
fn bytes_per_sample_of_realistic_series() {
    // 2 h at a 10 s step, the chunks.md shapes: printed, not asserted.
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Lcg(1);
    let mut data = Vec::new();
    for i in 0..400 {
        let mut acc = 0.0;
        let s: Vec<(i64, f64)> = (0..720)
            .map(|j| {
                let v = match i % 4 {
                    0 => 7.0,
                    1 => {
                        acc += (rng.next() % 3) as f64;
                        acc
                    }
                    2 => (50 + rng.next() % 5) as f64,
                    _ => (rng.next() % 10000) as f64 / 100.0,
                };
                (1_700_000_000_000 + j * 10_000, v)
            })
            .collect();
        let node = format!("i-{:05}", i / 4);
        let name = ["sys.const", "net.packets", "cpu.load", "mem.pct"][i % 4];
        data.push((tags(&[("name", name), ("nf.node", &node), ("nf.app", "api"), ("nf.region", "us-east-1")]), s));
    }
    let (meta, path) = write(tmp.path(), &data);
    let block = Block::open(&path).unwrap();
    let per = |b: u64| b as f64 / meta.samples as f64;
    println!(
        "block of {} series, {} samples: {:.3} bytes/sample on disk (chunks {:.3}, index {:.3}); index in memory {} bytes",
        meta.series,
        meta.samples,
        per(block.disk_bytes()),
        per(meta.chunks_file.size),
        per(meta.index_file.size),
        block.memory_bytes()
    );
}

/// Frames `body` as a valid section, so the section decoders see arbitrary bodies past the CRC.
fn section_checks(symbols: &[u8], series: &[u8], postings: &[u8]) {
    if let Ok(syms) = format::decode_symbols(symbols) {
        for version in [format::FILE_VERSION_1, format::FILE_VERSION] {
            if let Ok(s) = format::decode_series(series, &syms, version) {
                let _ = format::check_postings(postings, &syms, &s);
            }
        }
        let _ = format::check_postings(postings, &syms, &[]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_files_never_panic(which in 0usize..3, bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), &dataset(3, 50)).1;
        let file = [CHUNKS_FILE, INDEX_FILE, META_FILE][which];
        std::fs::write(path.join(file), &bytes).unwrap();
        let err = Block::open(&path).unwrap_err();
        assert_names(err, file);
    }

    #[test]
    fn decoders_never_panic(a in proptest::collection::vec(any::<u8>(), 0..300), b in proptest::collection::vec(any::<u8>(), 0..300), c in proptest::collection::vec(any::<u8>(), 0..300)) {
        section_checks(&a, &b, &c);
        let _ = format::decode_index(&a);
        let _ = BlockMeta::from_json(&a);
        let _ = format::parse_chunk_record(&a, 0, format::FILE_VERSION_1);
        let _ = format::parse_chunk_record(&a, 0, format::FILE_VERSION);
    }

    #[test]
    fn mutated_sections_never_panic(at in any::<prop::sample::Index>(), x in 1u8..=255, which in 0usize..3) {
        let data = dataset(6, 3);
        let series: Vec<format::IndexSeries> = {
            let mut v: Vec<_> = data.iter().enumerate().map(|(i, (t, s))| format::IndexSeries {
                tags: t.clone(),
                chunks: vec![format::ChunkRef { min_t: s[0].0, max_t: s[2].0, offset: 8 + 100 * i as u64 }],
            }).collect();
            v.sort_by(|a, b| a.tags.cmp(&b.tags));
            v
        };
        let index = format::encode_index(&series, format::FILE_VERSION);
        prop_assert_eq!(format::decode_index(&index).unwrap(), (format::FILE_VERSION, series.clone()));
        let index_1 = format::encode_index(&series, format::FILE_VERSION_1);
        prop_assert_eq!(format::decode_index(&index_1).unwrap(), (format::FILE_VERSION_1, series));
        // Pull the section bodies back out and damage one past its CRC.
        let mut bodies = Vec::new();
        let mut pos = format::FILE_HEADER_LEN;
        for _ in 0..3 {
            let len = u64::from_le_bytes(index[pos..pos + 8].try_into().unwrap()) as usize;
            bodies.push(index[pos + 8..pos + 8 + len].to_vec());
            pos += 12 + len;
        }
        let body = &mut bodies[which];
        let i = at.index(body.len());
        body[i] ^= x;
        section_checks(&bodies[0], &bodies[1], &bodies[2]);
        // The meta text damaged anywhere is refused.
        let meta = BlockMeta { version: 1, id: new_id(3), min_t: 3, max_t: 9, series: 1, samples: 2, chunks: 1,
            chunks_file: FileMeta { size: 10, crc32: 11 }, index_file: FileMeta { size: 12, crc32: 13 } };
        let mut text = meta.to_json().into_bytes();
        prop_assert_eq!(BlockMeta::from_json(&text).unwrap(), meta);
        let i = at.index(text.len());
        text[i] ^= x;
        prop_assert!(BlockMeta::from_json(&text).is_err());
    }
}

#[test]
fn varint_edges() {
    for v in [0u64, 1, 127, 128, 1 << 35, u64::MAX] {
        let mut b = Vec::new();
        put_uvarint(&mut b, v);
        assert_eq!(format::Cursor::new(&b).uvarint("x").unwrap(), v);
    }
    // Eleven bytes, or a tenth byte with more than the 64th bit, are refused.
    assert!(format::Cursor::new(&[0xff; 11]).uvarint("x").is_err());
    assert!(format::Cursor::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).uvarint("x").is_err());
}

#[test]
fn one_block_mixes_encodings() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Lcg(3);
    let mut counter = 0.0;
    let data: Vec<(SeriesTags, Vec<(i64, f64)>)> = ["counter", "decimal", "third", "stale", "random"]
        .iter()
        .map(|&name| {
            let s = (0..300i64)
                .map(|j| {
                    let r = rng.next();
                    let v = match name {
                        "counter" => {
                            counter += (r % 50) as f64;
                            counter
                        }
                        "decimal" => (r % 10_000) as f64 / 100.0,
                        "third" => 1.0 / 3.0,
                        // Small integers with Prometheus's stale marker now and then.
                        "stale" if j % 17 == 0 => f64::from_bits(0x7ff0_0000_0000_0002),
                        "stale" => (r % 100) as f64,
                        _ => f64::from_bits(r << 31 ^ rng.next()),
                    };
                    (1_700_000_000_000 + j * 10_000, v)
                })
                .collect();
            (tags(&[("name", name)]), s)
        })
        .collect();
    let (meta, path) = write(tmp.path(), &data);
    let bytes = std::fs::read(path.join(CHUNKS_FILE)).unwrap();
    assert_eq!(bytes[4], format::FILE_VERSION);
    let mut pos = format::FILE_HEADER_LEN;
    let mut seen = std::collections::BTreeSet::new();
    while pos < bytes.len() {
        let (chunk, next) = format::parse_chunk_record(&bytes, pos, format::FILE_VERSION).unwrap();
        seen.insert(crate::chunkenc::Encoding::from_byte(chunk[0]).unwrap().name());
        pos = next;
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["constant", "decimal", "float_bits", "integer", "xor"]);
    assert_eq!(meta.chunks, 5);
    let block = Block::open(&path).unwrap();
    let got: Vec<_> =
        block.read(&Matcher::True, i64::MIN, i64::MAX).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
    assert_eq!(got, expected(&data, &Matcher::True, i64::MIN, i64::MAX));
}

#[test]
fn version_1_blocks_are_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(40, 600);
    let meta = BlockWriter::write_version_1(tmp.path(), data.iter().map(|(t, s)| (t.clone(), chunks_of(s)))).unwrap();
    assert_eq!(meta.version, 1);
    assert!(meta.chunks >= 40 * 3, "the head's chunks as they are: {}", meta.chunks);
    let block = Block::open(&tmp.path().join(&meta.id)).unwrap();
    let got: Vec<_> =
        block.read(&Matcher::True, i64::MIN, i64::MAX).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
    assert_eq!(got, expected(&data, &Matcher::True, i64::MIN, i64::MAX));
    let (s, e) = (data[0].1[100].0, data[0].1[400].0);
    let got: Vec<_> = block.read(&Matcher::True, s, e).unwrap().iter().map(|d| (d.tags.clone(), bits(d))).collect();
    assert_eq!(got, expected(&data, &Matcher::True, s, e));
}

#[test]
fn files_of_another_version_than_the_meta_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(5, 50);
    let v1 = BlockWriter::write_version_1(tmp.path(), data.iter().map(|(t, s)| (t.clone(), chunks_of(s)))).unwrap();
    let v2 = write(tmp.path(), &data).0;
    // The version 1 index under a version 2 meta.json: the index names the mismatch.
    let (p1, p2) = (tmp.path().join(&v1.id), tmp.path().join(&v2.id));
    std::fs::copy(p1.join(INDEX_FILE), p2.join(INDEX_FILE)).unwrap();
    let mut meta = v2.clone();
    meta.index_file = v1.index_file;
    std::fs::write(p2.join(META_FILE), meta.to_json()).unwrap();
    let err = Block::open(&p2).unwrap_err();
    assert!(err.to_string().contains("format version 1, meta.json says 2"), "{err}");
    // And a version 2 chunks file under a version 1 index and meta.
    std::fs::copy(p2.join(CHUNKS_FILE), p1.join(CHUNKS_FILE)).unwrap();
    let mut meta = v1.clone();
    meta.chunks_file = v2.chunks_file;
    meta.chunks = v2.chunks;
    std::fs::write(p1.join(META_FILE), meta.to_json()).unwrap();
    let err = Block::open(&p1).unwrap_err();
    assert_names(err, CHUNKS_FILE);
}
