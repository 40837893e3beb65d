//! A pass over a `WriteRequest`'s protobuf wire format that counts its parts without
//! allocating, so that limits are enforced before prost builds anything.
//!
//! [`count`] returns [`Counts`] (series, labels, samples, histograms, exemplars). The design
//! decision: an empty message costs two bytes on the wire but 24 to 96 bytes once decoded, so a
//! body within `Limits::max_decoded_bytes` could still decode into many times its size;
//! counting first bounds what [`prost::Message::decode`] may allocate. The scan is lenient:
//! fields with an unexpected wire type are skipped here and refused by prost afterwards.

/// How many of each part a request holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// `TimeSeries` messages.
    pub series: usize,
    /// `Label`s over all series (exemplars' labels not included).
    pub labels: usize,
    /// Float samples over all series.
    pub samples: usize,
    /// Native histogram samples over all series.
    pub histograms: usize,
    /// Exemplars over all series.
    pub exemplars: usize,
}

impl Counts {
    /// Samples, histograms and exemplars: each becomes one accepted or rejected datapoint.
    pub fn items(&self) -> usize {
        self.samples.saturating_add(self.histograms).saturating_add(self.exemplars)
    }
}

/// Counts the parts of an encoded `WriteRequest`; the error is one sentence.
pub fn count(buf: &[u8]) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let mut r = Reader { buf };
    while let Some((field, wire)) = r.key()? {
        match (field, wire) {
            (1, LEN) => {
                counts.series += 1;
                count_series(r.bytes()?, &mut counts)?;
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(counts)
}

/// Adds one `TimeSeries`' parts to `counts`.
fn count_series(buf: &[u8], counts: &mut Counts) -> Result<(), String> {
    let mut r = Reader { buf };
    while let Some((field, wire)) = r.key()? {
        let slot = match (field, wire) {
            (1, LEN) => Some(&mut counts.labels),
            (2, LEN) => Some(&mut counts.samples),
            (3, LEN) => Some(&mut counts.exemplars),
            (4, LEN) => Some(&mut counts.histograms),
            _ => None,
        };
        if let Some(n) = slot {
            *n += 1;
        }
        r.skip(wire)?;
    }
    Ok(())
}

/// Wire type of length-delimited fields (strings, bytes, messages, packed repeats).
pub(super) const LEN: u8 = 2;

/// A cursor over protobuf wire data.
pub(super) struct Reader<'a> {
    pub(super) buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next field's number and wire type, or `None` at the end.
    pub(super) fn key(&mut self) -> Result<Option<(u64, u8)>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(format!("invalid field key {key}"));
        }
        let wire = (key & 7) as u8;
        if key >> 3 == 0 {
            return Err("field number 0 is invalid".to_string());
        }
        Ok(Some((key >> 3, wire)))
    }

    pub(super) fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            // The tenth byte holds the 64th bit only, as prost requires.
            if i == 9 && b > 1 {
                break;
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.buf = self.buf.get(i + 1..).unwrap_or_default();
                return Ok(value);
            }
        }
        Err("a varint is truncated or longer than 10 bytes".to_string())
    }

    /// A length-delimited field's bytes.
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.varint()?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > self.buf.len() {
            return Err(format!("a field claims {len} bytes but only {} remain", self.buf.len()));
        }
        let (field, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(field)
    }

    /// A fixed64 field's value (little-endian).
    pub(super) fn fixed64(&mut self) -> Result<u64, String> {
        let (head, _) = self.buf.split_first_chunk::<8>().ok_or("a fixed-size field needs 8 bytes, fewer remain")?;
        let v = u64::from_le_bytes(*head);
        self.advance(8)?;
        Ok(v)
    }

    fn advance(&mut self, n: usize) -> Result<(), String> {
        self.buf = self.buf.get(n..).ok_or_else(|| format!("a fixed-size field needs {n} bytes, fewer remain"))?;
        Ok(())
    }

    /// Skips one field's value of wire type `wire`.
    pub(super) fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.advance(8),
            LEN => self.bytes().map(drop),
            5 => self.advance(4),
            3 | 4 => Err("protobuf groups (wire types 3 and 4) are not supported".to_string()),
            other => Err(format!("invalid protobuf wire type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::super::proto::{Exemplar, Histogram, Label, Sample, TimeSeries, WriteRequest};
    use super::*;

    #[test]
    fn counts_what_prost_encodes() {
        let series = |labels: usize, samples: usize| TimeSeries {
            labels: vec![Label { name: "a".into(), value: "b".into() }; labels],
            samples: vec![Sample { value: 1.0, timestamp: 2 }; samples],
            exemplars: vec![Exemplar::default(); 1],
            histograms: vec![Histogram::default(); 2],
        };
        let req = WriteRequest { timeseries: vec![series(3, 4), series(0, 0), series(5, 1)] };
        let want = Counts { series: 3, labels: 8, samples: 5, histograms: 6, exemplars: 3 };
        assert_eq!(count(&req.encode_to_vec()), Ok(want));
        assert_eq!(want.items(), 14);
    }

    #[test]
    fn skips_unknown_fields_and_refuses_broken_ones() {
        // field 3 (metadata, LEN, 2 bytes), field 7 varint, field 8 fixed64, field 9 fixed32, then a series.
        let body = [0x1a, 2, 0, 0, 0x38, 0x96, 0x01, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x4d, 1, 2, 3, 4, 0x0a, 2, 0x12, 0];
        assert_eq!(count(&body), Ok(Counts { series: 1, samples: 1, ..Counts::default() }));
        assert!(count(&[0x0a, 5, 0]).is_err_and(|e| e.contains("claims 5 bytes")));
        assert!(count(&[0x0b]).is_err_and(|e| e.contains("groups")));
        assert!(count(&[0x0f]).is_err_and(|e| e.contains("wire type 7")));
        assert!(count(&[0x80; 11]).is_err_and(|e| e.contains("varint")));
        assert!(count(&[0x09, 1]).is_err_and(|e| e.contains("fixed-size")));
    }
}
