//! Block chunks: a long run of one series' samples, its values in the smallest of several
//! lossless encodings.
//!
//! The head appends into [`XorChunk`](super::XorChunk)s, which must accept one sample at a time.
//! A block is written once with every sample known, so [`pack_series`] re-cuts a series into
//! [`PackedChunk`]s of up to [`MAX_PACKED_SAMPLES`] samples and [`MAX_PACKED_BYTES`] bytes, and
//! [`PackedChunk::encode`] writes each one's values every way that can hold them exactly and
//! keeps the shortest: [`Encoding::Constant`], [`Encoding::Integer`] (values that are exact
//! integers), [`Encoding::Decimal`] (values that are exact `k`-decimal numbers, stored scaled by
//! 10^k), [`Encoding::Xor`] (Gorilla's XOR, for anything) and [`Encoding::FloatBits`] (the bit
//! patterns as integers, for anything). Timestamps, integers, scaled decimals and bit patterns
//! all go through the same integer packer (`intseq`). [`decode_packed`] reads any bytes without
//! panicking. The layout is drawn in `docs/format/chunks.md`.
//!
//! Design decision: a value counts as a `k`-decimal number only if dividing its scaled integer
//! by 10^k gives back the same bit pattern, the operation the decoder performs; so -0.0, NaN
//! payloads and infinities, which no integer gives back, fall to the XOR or bit-pattern
//! encodings, and every encoding round-trips bit for bit.

use super::bitstream::{BitReader, BitWriter};
use super::intseq::{read_ints, write_ints};
use super::iter::get_xor_value;
use super::xor::put_xor_value;
use super::{ChunkError, State};

/// The most samples of a block chunk: 68 minutes at one a second, 11 hours at a 10 s step.
pub const MAX_PACKED_SAMPLES: usize = 4096;
/// The most bytes of a block chunk, encoding byte included.
pub const MAX_PACKED_BYTES: usize = 16 << 10;
/// The most decimal places [`Encoding::Decimal`] scales by.
pub const MAX_DECIMALS: u32 = 18;
/// Bits of the decimal places in a decimal chunk.
const DECIMALS_BITS: u32 = 5;

/// 10^k for k in 0..=18, each exact in an `f64`.
const POW10: [f64; 19] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/// How a block chunk's values are stored; the chunk's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// One bit pattern for every sample.
    Constant = 0,
    /// Gorilla's XOR with the previous value, as in the head's chunks.
    Xor = 1,
    /// Exact integers, packed as integers.
    Integer = 2,
    /// Exact `k`-decimal numbers, packed as integers scaled by 10^k.
    Decimal = 3,
    /// The IEEE 754 bit patterns, packed as integers.
    FloatBits = 4,
}

impl Encoding {
    /// Every encoding, in the order the chooser prefers on a tie.
    pub const ALL: [Encoding; 5] =
        [Encoding::Constant, Encoding::Integer, Encoding::Decimal, Encoding::Xor, Encoding::FloatBits];

    /// The encoding with byte `b`, if there is one.
    pub fn from_byte(b: u8) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| *e as u8 == b)
    }

    /// A short lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Constant => "constant",
            Encoding::Xor => "xor",
            Encoding::Integer => "integer",
            Encoding::Decimal => "decimal",
            Encoding::FloatBits => "float_bits",
        }
    }
}

/// Why samples were not packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// There are no samples to pack.
    #[error("no samples to pack")]
    Empty,
    /// More samples than a block chunk holds.
    #[error("{n} samples, more than a block chunk's {MAX_PACKED_SAMPLES}")]
    TooMany { n: usize },
    /// The encoded chunk would pass the byte limit.
    #[error("{bytes} bytes, more than a block chunk's {MAX_PACKED_BYTES}")]
    TooLarge { bytes: usize },
    /// A timestamp is not after the one before it.
    #[error("the timestamp of sample {at} is not after the one before it")]
    NotIncreasing { at: usize },
    /// The requested encoding cannot hold these values exactly.
    #[error("the values cannot be stored exactly as {}", encoding.name())]
    NotRepresentable { encoding: Encoding },
}

/// A block chunk: its encoded bytes and what the block index needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedChunk {
    bytes: Vec<u8>,
    len: usize,
    first_t: i64,
    last_t: i64,
}

impl PackedChunk {
    /// Packs `samples` (1 to [`MAX_PACKED_SAMPLES`], timestamps strictly increasing) in the
    /// encoding that takes the fewest bytes; the earlier of [`Encoding::ALL`] on a tie.
    pub fn encode(samples: &[(i64, f64)]) -> Result<PackedChunk, PackError> {
        Self::encode_among(samples, &Encoding::ALL)
    }

    /// Packs `samples` in `encoding`, or says why it cannot.
    pub fn encode_as(encoding: Encoding, samples: &[(i64, f64)]) -> Result<PackedChunk, PackError> {
        Self::encode_among(samples, &[encoding])
    }

    fn encode_among(samples: &[(i64, f64)], encodings: &[Encoding]) -> Result<PackedChunk, PackError> {
        let (Some(first), Some(last)) = (samples.first(), samples.last()) else { return Err(PackError::Empty) };
        if samples.len() > MAX_PACKED_SAMPLES {
            return Err(PackError::TooMany { n: samples.len() });
        }
        if let Some(at) = samples.windows(2).position(|w| w[1].0 <= w[0].0) {
            return Err(PackError::NotIncreasing { at: at + 1 });
        }
        let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
        let vs: Vec<f64> = samples.iter().map(|s| s.1).collect();
        let mut head = BitWriter::from_parts(vec![0], 0);
        head.write_uvarint(samples.len() as u64);
        write_ints(&mut head, &ts);
        let integers = encodings.contains(&Encoding::Integer) && scaled_all(&vs, 0).is_some();
        let mut best: Option<(Encoding, BitWriter)> = None;
        for &enc in encodings {
            // Integers are decimals too, always dearer by the decimal places' bits.
            if enc == Encoding::Decimal && integers {
                continue;
            }
            let mut w = head.clone();
            if write_values(&mut w, enc, &vs) && best.as_ref().is_none_or(|(_, b)| w.bit_len() < b.bit_len()) {
                best = Some((enc, w));
            }
        }
        let Some((enc, mut w)) = best else {
            return Err(PackError::NotRepresentable { encoding: encodings.first().copied().unwrap_or(Encoding::Xor) });
        };
        w.set_byte(0, enc as u8);
        let bytes = w.as_bytes().to_vec();
        if bytes.len() > MAX_PACKED_BYTES {
            return Err(PackError::TooLarge { bytes: bytes.len() });
        }
        Ok(PackedChunk { bytes, len: samples.len(), first_t: first.0, last_t: last.0 })
    }

    /// How the values are stored.
    pub fn encoding(&self) -> Encoding {
        self.bytes.first().and_then(|&b| Encoding::from_byte(b)).unwrap_or(Encoding::Xor)
    }

    /// The complete encoded form, encoding byte first, as written to a block.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of samples (at least 1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: a block chunk has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first sample's timestamp.
    pub fn first_time(&self) -> i64 {
        self.first_t
    }

    /// The last sample's timestamp.
    pub fn last_time(&self) -> i64 {
        self.last_t
    }
}

/// Cuts a series' samples (timestamps strictly increasing) into as few block chunks as the
/// limits allow, of even lengths, halving a piece whose encoding passes [`MAX_PACKED_BYTES`].
pub fn pack_series(samples: &[(i64, f64)]) -> Result<Vec<PackedChunk>, PackError> {
    let mut out = Vec::new();
    let pieces = samples.len().div_ceil(MAX_PACKED_SAMPLES).max(1);
    for piece in samples.chunks(samples.len().div_ceil(pieces).max(1)) {
        pack_into(piece, &mut out)?;
    }
    Ok(out)
}

fn pack_into(piece: &[(i64, f64)], out: &mut Vec<PackedChunk>) -> Result<(), PackError> {
    match PackedChunk::encode(piece) {
        Err(PackError::TooLarge { .. }) if piece.len() > 1 => {
            let (a, b) = piece.split_at(piece.len() / 2);
            pack_into(a, out)?;
            pack_into(b, out)
        }
        Err(e) => Err(e),
        Ok(c) => {
            out.push(c);
            Ok(())
        }
    }
}

/// `v` as an integer `m` with `m / 10^k` giving back `v`'s exact bit pattern, if there is one.
fn scaled(v: f64, k: u32) -> Option<i64> {
    let p = *POW10.get(k as usize)?;
    let m = (v * p).round();
    // i64's range is [-2⁶³, 2⁶³); the cast below saturates, so check before.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_63..TWO_63).contains(&m) {
        return None;
    }
    let m = m as i64;
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

/// Every value scaled by 10^k, if all are exact `k`-decimal numbers.
fn scaled_all(vs: &[f64], k: u32) -> Option<Vec<i64>> {
    vs.iter().map(|&v| scaled(v, k)).collect()
}

/// The fewest decimal places (1 to [`MAX_DECIMALS`]) that hold every value, with the scaled
/// values.
fn decimals(vs: &[f64]) -> Option<(u32, Vec<i64>)> {
    let mut k = 1;
    for &v in vs {
        while scaled(v, k).is_none() {
            k += 1;
            if k > MAX_DECIMALS {
                return None;
            }
        }
    }
    Some((k, scaled_all(vs, k)?))
}

/// Writes the values in `enc`; false (with `w` in an unspecified state) if it cannot hold them.
fn write_values(w: &mut BitWriter, enc: Encoding, vs: &[f64]) -> bool {
    match enc {
        Encoding::Constant => {
            let Some(first) = vs.first().map(|v| v.to_bits()) else { return false };
            if vs.iter().any(|v| v.to_bits() != first) {
                return false;
            }
            w.write_bits(first, 64);
        }
        Encoding::Xor => {
            let mut st = State::default();
            for (i, v) in vs.iter().enumerate() {
                let bits = v.to_bits();
                if i == 0 {
                    w.write_bits(bits, 64);
                } else {
                    put_xor_value(w, &mut st, bits, true, false);
                }
                st.v = bits;
            }
        }
        Encoding::Integer => {
            let Some(ms) = scaled_all(vs, 0) else { return false };
            write_ints(w, &ms);
        }
        Encoding::Decimal => {
            let Some((k, ms)) = decimals(vs) else { return false };
            w.write_bits(u64::from(k), DECIMALS_BITS);
            write_ints(w, &ms);
        }
        Encoding::FloatBits => {
            let bits: Vec<i64> = vs.iter().map(|v| v.to_bits() as i64).collect();
            write_ints(w, &bits);
        }
    }
    true
}

/// The sample count of a block chunk's bytes, read from its start without decoding the rest.
pub fn packed_len(b: &[u8]) -> Result<usize, ChunkError> {
    let (_, n) = header(b)?;
    Ok(n)
}

/// The encoding and the checked sample count.
fn header(b: &[u8]) -> Result<(Encoding, usize), ChunkError> {
    if b.len() > MAX_PACKED_BYTES {
        return Err(ChunkError::corrupt(format!("{} bytes, more than {MAX_PACKED_BYTES}", b.len())));
    }
    let Some((&first, rest)) = b.split_first() else { return Err(ChunkError::corrupt("no encoding byte")) };
    let enc = Encoding::from_byte(first).ok_or_else(|| ChunkError::corrupt(format!("unknown encoding {first}")))?;
    let n = BitReader::new(rest).read_uvarint().ok_or_else(|| ChunkError::corrupt("no sample count"))?;
    if n == 0 || n > MAX_PACKED_SAMPLES as u64 {
        return Err(ChunkError::corrupt(format!("{n} samples, expected 1 to {MAX_PACKED_SAMPLES}")));
    }
    Ok((enc, n as usize))
}

/// Decodes a block chunk's bytes (any bytes are safe) into its samples, checking that the
/// timestamps strictly increase and that only zero padding follows the last value.
pub fn decode_packed(b: &[u8]) -> Result<Vec<(i64, f64)>, ChunkError> {
    let (enc, n) = header(b)?;
    let mut r = BitReader::new(b.get(1..).unwrap_or_default());
    let _ = r.read_uvarint();
    let bad = |what: &str| ChunkError::corrupt(format!("{} chunk of {n} samples: bad or missing {what}", enc.name()));
    let ts = read_ints(&mut r, n).map_err(|w| bad(&format!("timestamps ({w})")))?;
    if ts.windows(2).any(|w| w[1] <= w[0]) {
        return Err(bad("timestamps (not increasing)"));
    }
    let bits: Vec<u64> = match enc {
        Encoding::Constant => vec![r.read_bits(64).ok_or_else(|| bad("value"))?; n],
        Encoding::Xor => {
            let mut st = State::default();
            let mut out = Vec::with_capacity(n);
            st.v = r.read_bits(64).ok_or_else(|| bad("first value"))?;
            out.push(st.v);
            for _ in 1..n {
                get_xor_value(&mut r, &mut st, true).map_err(bad)?;
                out.push(st.v);
            }
            out
        }
        Encoding::Integer | Encoding::Decimal => {
            let k = match enc {
                Encoding::Decimal => r.read_bits(DECIMALS_BITS).ok_or_else(|| bad("decimal places"))? as u32,
                _ => 0,
            };
            let p = match POW10.get(k as usize) {
                Some(&p) if enc == Encoding::Integer || k >= 1 => p,
                _ => return Err(bad("decimal places (out of range)")),
            };
            let ms = read_ints(&mut r, n).map_err(|w| bad(&format!("values ({w})")))?;
            ms.into_iter().map(|m| (m as f64 / p).to_bits()).collect()
        }
        Encoding::FloatBits => {
            read_ints(&mut r, n).map_err(|w| bad(&format!("values ({w})")))?.into_iter().map(|x| x as u64).collect()
        }
    };
    let left = r.remaining_bits();
    if left >= 8 {
        return Err(bad(&format!("end ({} bytes after the last value)", left / 8)));
    }
    if r.read_bits(left as u32) != Some(0) {
        return Err(bad("padding (not zero)"));
    }
    Ok(ts.into_iter().zip(bits).map(|(t, v)| (t, f64::from_bits(v))).collect())
}
