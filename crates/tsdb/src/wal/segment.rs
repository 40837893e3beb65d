//! Segment files: their names, the frame around each record, and scanning a segment.
//!
//! A segment is a file named by its number in at least 8 decimal digits (`00000001`) holding
//! frames back to back, with no file header: `length u32 LE | CRC32 u32 LE | type u8 | payload`.
//! [`scan`] reads frames in order and stops at the first one it cannot trust, saying where and
//! why ([`CorruptKind`]).
//!
//! Design decision: the length is checked against the bytes left in the file before anything
//! is allocated, so a garbage length can neither exhaust memory nor read past the end; and the
//! CRC covers the type byte as well as the payload, so a flipped type is caught as corruption,
//! not read as a different record.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::WalError;
use super::record::{DecodeError, MAX_RECORD_BYTES, Record};

/// Bytes in a frame header: length, CRC and type.
pub const HEADER_BYTES: usize = 9;

/// Why a segment's bytes stop being trustworthy at some offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorruptKind {
    /// Fewer bytes remain than a frame header needs (a torn header).
    #[error("{0} bytes left, too few for a {HEADER_BYTES}-byte record header")]
    ShortHeader(u64),
    /// The length field exceeds the record size limit.
    #[error("record length {0} exceeds the {MAX_RECORD_BYTES}-byte limit")]
    TooLong(u32),
    /// The record runs past the end of the segment (a torn write).
    #[error("a record of {need} payload bytes, but only {have} bytes left in the segment")]
    Truncated {
        /// Payload bytes the header announces.
        need: u64,
        /// Payload bytes present.
        have: u64,
    },
    /// The stored CRC does not match the type and payload.
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc {
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the bytes read.
        computed: u32,
    },
    /// The file ended before the length it had when the scan began.
    #[error("the file ended before its {0} remaining bytes could be read")]
    ShortRead(u64),
    /// The CRC is right but the record cannot be decoded (e.g. an unknown type).
    #[error("undecodable record: {0}")]
    Record(#[from] DecodeError),
    /// A segment number between two present segments has no file.
    #[error("segment {0:08} is missing")]
    MissingSegment(u64),
}

/// How a scan of one segment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// Records handed to the callback.
    pub records: u64,
    /// Bytes up to the end of the last good record.
    pub good_bytes: u64,
    /// Where and why the scan stopped early.
    pub corrupt: Option<CorruptKind>,
}

/// The path of segment `n` in `dir`.
pub(crate) fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// Segment numbers and paths in `dir`, ascending; names that are not all digits are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let io_err = |source| WalError::Io { op: "listing", path: dir.to_path_buf(), source };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() < 8 || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(n) = name.parse::<u64>() else { continue };
        if entry.file_type().map_err(io_err)?.is_file() {
            out.push((n, entry.path()));
        }
    }
    out.sort_unstable_by_key(|(n, _)| *n);
    Ok(out)
}

/// Creates segment `n` (it must not exist) for appending and makes its name durable.
pub(crate) fn create_segment(dir: &Path, n: u64) -> Result<File, WalError> {
    let path = segment_path(dir, n);
    let file = OpenOptions::new().append(true).create_new(true).open(&path).map_err(|source| WalError::Io {
        op: "creating",
        path,
        source,
    })?;
    sync_dir(dir)?;
    Ok(file)
}

/// Makes creations, renames and deletions in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|source| WalError::Io {
        op: "syncing directory",
        path: dir.to_path_buf(),
        source,
    })
}

/// Appends the frame of `record` to `out`. On error `out` is as it was.
pub(crate) fn encode_frame(record: &Record, out: &mut Vec<u8>) -> Result<(), WalError> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_BYTES]);
    let encoded = record.encode_payload(out);
    let payload_len = out.len() - start - HEADER_BYTES;
    if let Err(e) = encoded {
        out.truncate(start);
        return Err(e);
    }
    if payload_len > MAX_RECORD_BYTES {
        out.truncate(start);
        return Err(WalError::RecordTooLarge { bytes: payload_len });
    }
    let ty = record.type_byte();
    let (header, payload) = out.split_at_mut(start + HEADER_BYTES);
    let crc = crc(ty, payload);
    let header = &mut header[start..];
    header[0..4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    header[4..8].copy_from_slice(&crc.to_le_bytes());
    header[8] = ty;
    Ok(())
}

/// The CRC32 (IEEE) of the type byte followed by the payload.
pub(crate) fn crc(ty: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[ty]);
    h.update(payload);
    h.finalize()
}

/// Reads the frames of a segment of `len` bytes from `r`, handing each good record to
/// `on_record`, until the end or the first untrustworthy frame. Only a read error that is not
/// a short read is returned as an error.
pub(crate) fn scan(mut r: impl Read, len: u64, on_record: &mut dyn FnMut(Record)) -> io::Result<ScanEnd> {
    let mut end = ScanEnd { records: 0, good_bytes: 0, corrupt: None };
    let mut payload = Vec::new();
    loop {
        let left = len - end.good_bytes;
        if left == 0 {
            return Ok(end);
        }
        let mut header = [0u8; HEADER_BYTES];
        if left < HEADER_BYTES as u64 {
            end.corrupt = Some(CorruptKind::ShortHeader(left));
            return Ok(end);
        }
        if let Some(kind) = read_or_torn(&mut r, &mut header, left)? {
            end.corrupt = Some(kind);
            return Ok(end);
        }
        let [l0, l1, l2, l3, c0, c1, c2, c3, ty] = header;
        let need = u32::from_le_bytes([l0, l1, l2, l3]);
        let stored = u32::from_le_bytes([c0, c1, c2, c3]);
        let have = left - HEADER_BYTES as u64;
        if need as usize > MAX_RECORD_BYTES {
            end.corrupt = Some(CorruptKind::TooLong(need));
            return Ok(end);
        }
        if u64::from(need) > have {
            end.corrupt = Some(CorruptKind::Truncated { need: need.into(), have });
            return Ok(end);
        }
        payload.resize(need as usize, 0);
        if let Some(kind) = read_or_torn(&mut r, &mut payload, have)? {
            end.corrupt = Some(kind);
            return Ok(end);
        }
        let computed = crc(ty, &payload);
        if computed != stored {
            end.corrupt = Some(CorruptKind::Crc { stored, computed });
            return Ok(end);
        }
        match Record::decode(ty, &payload) {
            Ok(record) => on_record(record),
            Err(e) => {
                end.corrupt = Some(e.into());
                return Ok(end);
            }
        }
        end.records += 1;
        end.good_bytes += (HEADER_BYTES + payload.len()) as u64;
    }
}

/// Fills `buf`; a file that turns out shorter than its length said is a torn record.
fn read_or_torn(r: &mut impl Read, buf: &mut [u8], left: u64) -> io::Result<Option<CorruptKind>> {
    match r.read_exact(buf) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(CorruptKind::ShortRead(left))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeriesTags;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn frames(records: &[Record]) -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        for r in records {
            starts.push(buf.len());
            encode_frame(r, &mut buf).unwrap();
        }
        (buf, starts)
    }

    fn scan_all(bytes: &[u8]) -> (Vec<Record>, ScanEnd) {
        let mut got = Vec::new();
        let end = scan(Cursor::new(bytes), bytes.len() as u64, &mut |r| got.push(r)).unwrap();
        (got, end)
    }

    fn sample_records() -> Vec<Record> {
        let tags = SeriesTags::new(vec![("name".into(), "m".into())]).unwrap();
        vec![
            Record::Series(vec![(1, tags)]),
            Record::Samples(vec![(1, 10, 1.0), (1, 20, 2.0)]),
            Record::Samples(vec![(1, 30, 3.0)]),
        ]
    }

    #[test]
    fn frames_scan_back() {
        let records = sample_records();
        let (bytes, _) = frames(&records);
        let (got, end) = scan_all(&bytes);
        assert_eq!(got, records);
        assert_eq!(end, ScanEnd { records: 3, good_bytes: bytes.len() as u64, corrupt: None });
    }

    #[test]
    fn header_layout() {
        let (bytes, _) = frames(&[Record::Samples(vec![])]);
        // Payload is the single count byte 0.
        assert_eq!(bytes.len(), HEADER_BYTES + 1);
        assert_eq!(&bytes[0..4], &1u32.to_le_bytes());
        assert_eq!(&bytes[4..8], &crc32fast::hash(&[2, 0]).to_le_bytes());
        assert_eq!(bytes[8], 2);
    }

    #[test]
    fn unknown_type_with_good_crc() {
        let mut bytes = vec![0u8; HEADER_BYTES];
        bytes[8] = 7;
        bytes[4..8].copy_from_slice(&crc(7, &[]).to_le_bytes());
        let (got, end) = scan_all(&bytes);
        assert!(got.is_empty());
        assert_eq!(end.corrupt, Some(CorruptKind::Record(DecodeError::UnknownType(7))));
    }

    #[test]
    fn flipped_type_is_a_crc_error() {
        let records = sample_records();
        let (mut bytes, starts) = frames(&records);
        bytes[starts[2] + 8] = 1;
        let (got, end) = scan_all(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(end.good_bytes, starts[2] as u64);
        assert!(matches!(end.corrupt, Some(CorruptKind::Crc { .. })));
    }

    #[test]
    fn huge_length_is_rejected_before_allocating() {
        let mut bytes = vec![0u8; 64];
        bytes[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(scan_all(&bytes).1.corrupt, Some(CorruptKind::TooLong(u32::MAX)));
        bytes[0..4].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(scan_all(&bytes).1.corrupt, Some(CorruptKind::Truncated { need: 1000, have: 55 }));
    }

    #[test]
    fn reader_shorter_than_its_length_is_torn() {
        let (bytes, _) = frames(&sample_records());
        let mut n = 0;
        let end = scan(Cursor::new(&bytes[..bytes.len() - 3]), bytes.len() as u64, &mut |_| n += 1).unwrap();
        assert_eq!(n, 2);
        assert!(matches!(end.corrupt, Some(CorruptKind::ShortRead(_))));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (got, end) = scan_all(&bytes);
            prop_assert_eq!(got.len() as u64, end.records);
            prop_assert!(end.good_bytes <= bytes.len() as u64);
        }

        #[test]
        fn random_bytes_after_good_records_keep_them(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let records = sample_records();
            let (mut bytes, _) = frames(&records);
            let good = bytes.len() as u64;
            bytes.extend_from_slice(&tail);
            let (got, end) = scan_all(&bytes);
            prop_assert_eq!(&got[..3], &records[..]);
            prop_assert!(end.good_bytes >= good);
        }
    }
}
