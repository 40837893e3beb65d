//! WAL records: what they hold and how their payloads are encoded.
//!
//! A [`Record`] is either a batch of new series ([`Record::Series`], type 1) or a batch of
//! samples ([`Record::Samples`], type 2); type 3 is reserved for tombstones. The payload layout
//! is given byte by byte in `docs/format/wal.md`; this file is its only implementation.
//!
//! Design decision: samples are encoded compactly but simply: ids and timestamps as zigzag
//! varint deltas from the previous sample of the same record, values as their raw 8 bits so
//! NaN payloads and infinities come back bit-exact. The heavy compression is the chunks' job;
//! the WAL is read once, at startup.

use super::WalError;
use crate::{SeriesId, SeriesTags, TagsError};

/// Record type of [`Record::Series`].
pub const TYPE_SERIES: u8 = 1;
/// Record type of [`Record::Samples`].
pub const TYPE_SAMPLES: u8 = 2;
/// Record type reserved for tombstones (deletions); not written by this version.
pub const TYPE_TOMBSTONES: u8 = 3;

/// The largest payload of one record, 64 MiB.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// The most tags one series may have in a series record.
pub const MAX_TAGS_PER_SERIES: usize = 256;
/// The longest tag key or value, in bytes.
pub const MAX_STRING_BYTES: usize = u16::MAX as usize;

/// One record of the write-ahead log.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Series created, each with its id and tags (type 1).
    Series(Vec<(SeriesId, SeriesTags)>),
    /// Samples: series id, timestamp in milliseconds, value (type 2).
    Samples(Vec<(SeriesId, i64, f64)>),
}

/// Why a record's payload (whose CRC was right) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type byte is not one this version reads (3, tombstones, is reserved).
    #[error("record type {0} is unknown to this version")]
    UnknownType(u8),
    /// The payload ends in the middle of a field.
    #[error("the payload ends inside {0}")]
    Truncated(&'static str),
    /// A varint runs past 10 bytes or past 64 bits.
    #[error("a varint is longer than 64 bits")]
    Varint,
    /// An item count larger than the payload could hold.
    #[error("item count {0} is larger than the payload")]
    Count(u64),
    /// A series with more tags than the limit.
    #[error("a series has {0} tags, more than {MAX_TAGS_PER_SERIES}")]
    TooManyTags(u64),
    /// A tag key or value longer than the limit.
    #[error("a tag string of {0} bytes is longer than {MAX_STRING_BYTES}")]
    StringTooLong(u64),
    /// A tag key or value that is not UTF-8.
    #[error("a tag string is not UTF-8")]
    Utf8,
    /// The tags do not form a series identity.
    #[error("invalid series tags: {0}")]
    Tags(#[from] TagsError),
    /// Bytes left over after the last item.
    #[error("{0} bytes follow the last item")]
    TrailingBytes(usize),
}

impl Record {
    /// The record's type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Record::Series(_) => TYPE_SERIES,
            Record::Samples(_) => TYPE_SAMPLES,
        }
    }

    /// Appends the payload to `out`; on error `out` may hold part of it (the caller truncates).
    pub(crate) fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), WalError> {
        match self {
            Record::Series(list) => {
                put_uvarint(out, list.len() as u64);
                for (id, tags) in list {
                    if tags.len() > MAX_TAGS_PER_SERIES {
                        return Err(WalError::TooManyTags { id: *id, count: tags.len() });
                    }
                    put_uvarint(out, *id);
                    put_uvarint(out, tags.len() as u64);
                    for (k, v) in tags.iter() {
                        put_string(out, *id, k)?;
                        put_string(out, *id, v)?;
                    }
                }
            }
            Record::Samples(samples) => {
                put_uvarint(out, samples.len() as u64);
                let (mut prev_id, mut prev_t) = (0u64, 0i64);
                for &(id, t, v) in samples {
                    put_uvarint(out, zigzag(id.wrapping_sub(prev_id) as i64));
                    put_uvarint(out, zigzag(t.wrapping_sub(prev_t)));
                    out.extend_from_slice(&v.to_bits().to_le_bytes());
                    (prev_id, prev_t) = (id, t);
                }
            }
        }
        Ok(())
    }

    /// Decodes a payload of type `type_byte`.
    pub fn decode(type_byte: u8, payload: &[u8]) -> Result<Record, DecodeError> {
        let mut r = Reader { buf: payload };
        let record = match type_byte {
            TYPE_SERIES => Record::Series(decode_series(&mut r)?),
            TYPE_SAMPLES => Record::Samples(decode_samples(&mut r)?),
            other => return Err(DecodeError::UnknownType(other)),
        };
        match r.buf.len() {
            0 => Ok(record),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

fn decode_series(r: &mut Reader) -> Result<Vec<(SeriesId, SeriesTags)>, DecodeError> {
    // Each series takes at least 4 bytes: id, tag count, and the name's two lengths.
    let count = r.count(4)?;
    let mut list = Vec::with_capacity(count);
    for _ in 0..count {
        let id = r.uvarint("a series id")?;
        let n = r.uvarint("a tag count")?;
        if n > MAX_TAGS_PER_SERIES as u64 {
            return Err(DecodeError::TooManyTags(n));
        }
        let mut pairs = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let k = r.string()?;
            let v = r.string()?;
            pairs.push((k, v));
        }
        list.push((id, SeriesTags::new(pairs)?));
    }
    Ok(list)
}

fn decode_samples(r: &mut Reader) -> Result<Vec<(SeriesId, i64, f64)>, DecodeError> {
    // Each sample takes at least 10 bytes: two one-byte varints and the 8-byte value.
    let count = r.count(10)?;
    let mut samples = Vec::with_capacity(count);
    let (mut id, mut t) = (0u64, 0i64);
    for _ in 0..count {
        id = id.wrapping_add(unzigzag(r.uvarint("a sample id")?) as u64);
        t = t.wrapping_add(unzigzag(r.uvarint("a timestamp")?));
        let bits = r.take(8, "a value")?;
        let mut b = [0u8; 8];
        b.copy_from_slice(bits);
        samples.push((id, t, f64::from_bits(u64::from_le_bytes(b))));
    }
    Ok(samples)
}

fn put_string(out: &mut Vec<u8>, id: SeriesId, s: &str) -> Result<(), WalError> {
    if s.len() > MAX_STRING_BYTES {
        return Err(WalError::StringTooLong { id, bytes: s.len() });
    }
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A cursor over a payload that never reads past its end.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn uvarint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(DecodeError::Truncated(what))?;
            self.buf = rest;
            if i == 9 && b > 1 {
                return Err(DecodeError::Varint);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError::Varint)
    }

    /// An item count, checked against the bytes left (each item takes at least `min_item`).
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.uvarint("an item count")?;
        if n > (self.buf.len() / min_item) as u64 {
            return Err(DecodeError::Count(n));
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.uvarint("a string length")?;
        if len > MAX_STRING_BYTES as u64 {
            return Err(DecodeError::StringTooLong(len));
        }
        let bytes = self.take(len as usize, "a string")?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Utf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(pairs: &[(&str, &str)]) -> SeriesTags {
        SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    fn round_trip(r: &Record) -> Record {
        let mut buf = Vec::new();
        r.encode_payload(&mut buf).unwrap();
        Record::decode(r.type_byte(), &buf).unwrap()
    }

    #[test]
    fn series_round_trip_with_unicode() {
        let r = Record::Series(vec![
            (0, tags(&[("name", "cpu.user"), ("nf.node", "i-1")])),
            (u64::MAX, tags(&[("name", "温度"), ("ключ", "значение 🚀"), ("", "")])),
        ]);
        assert_eq!(round_trip(&r), r);
    }

    #[test]
    fn samples_round_trip_bit_exact() {
        let nan_payload = f64::from_bits(0x7ff8_dead_beef_0001);
        let values = [f64::NAN, nan_payload, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.5, f64::MIN_POSITIVE];
        let samples: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                ([7, 3, u64::MAX, 0, 9, 9, 1][i], [i64::MIN, 0, i64::MAX, -5, 1, 1, 1_700_000_000_000][i], v)
            })
            .collect();
        let Record::Samples(back) = round_trip(&Record::Samples(samples.clone())) else { panic!("wrong type") };
        assert_eq!(back.len(), samples.len());
        for (a, b) in samples.iter().zip(&back) {
            assert_eq!((a.0, a.1, a.2.to_bits()), (b.0, b.1, b.2.to_bits()));
        }
    }

    #[test]
    fn compact_samples() {
        let size = |samples: Vec<(u64, i64, f64)>| {
            let mut buf = Vec::new();
            Record::Samples(samples).encode_payload(&mut buf).unwrap();
            buf.len()
        };
        // One instant across consecutive series: one byte each for id and time deltas.
        let instant = size((0..100).map(|i| (i, 1_700_000_000_000, 1.0)).collect());
        assert!(instant <= 1 + 100 * 10 + 7, "{instant} bytes");
        // One series at a 10 s step: three bytes for the time delta.
        let series = size((0..100).map(|i| (5, 1_700_000_000_000 + i * 10_000, 1.0)).collect());
        assert!(series <= 1 + 100 * 12 + 7, "{series} bytes");
    }

    #[test]
    fn limits_are_errors() {
        let many: Vec<_> = (0..=MAX_TAGS_PER_SERIES).map(|i| (format!("k{i}"), String::new())).collect();
        let mut many = many;
        many.push(("name".into(), "x".into()));
        let r = Record::Series(vec![(4, SeriesTags::new(many).unwrap())]);
        assert!(matches!(r.encode_payload(&mut Vec::new()), Err(WalError::TooManyTags { id: 4, .. })));
        let long = "x".repeat(MAX_STRING_BYTES + 1);
        let r = Record::Series(vec![(5, tags(&[("name", &long)]))]);
        assert!(matches!(r.encode_payload(&mut Vec::new()), Err(WalError::StringTooLong { id: 5, .. })));
    }

    #[test]
    fn bad_payloads_are_typed() {
        assert_eq!(Record::decode(TYPE_TOMBSTONES, &[]), Err(DecodeError::UnknownType(3)));
        assert_eq!(Record::decode(TYPE_SAMPLES, &[5]), Err(DecodeError::Count(5)));
        assert_eq!(Record::decode(TYPE_SAMPLES, &[0, 1]), Err(DecodeError::TrailingBytes(1)));
        assert_eq!(Record::decode(TYPE_SAMPLES, &[0xff; 12]), Err(DecodeError::Varint));
        // One series, id 1, one tag whose key is not UTF-8.
        assert_eq!(Record::decode(TYPE_SERIES, &[1, 1, 1, 1, 0xff, 0]), Err(DecodeError::Utf8));
        // One series without a name tag.
        assert_eq!(Record::decode(TYPE_SERIES, &[1, 1, 1, 1, b'a', 0]), Err(DecodeError::Tags(TagsError::NoName)));
    }

    proptest! {
        #[test]
        fn random_payloads_never_panic(ty in 0u8..5, bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Record::decode(ty, &bytes);
        }

        #[test]
        fn random_samples_round_trip(samples in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..50)) {
            let samples: Vec<_> = samples.into_iter().map(|(i, t, v)| (i, t, f64::from_bits(v))).collect();
            let Record::Samples(back) = round_trip(&Record::Samples(samples.clone())) else { panic!("wrong type") };
            let bits = |s: &[(u64, i64, f64)]| s.iter().map(|&(i, t, v)| (i, t, v.to_bits())).collect::<Vec<_>>();
            prop_assert_eq!(bits(&back), bits(&samples));
        }
    }
}
