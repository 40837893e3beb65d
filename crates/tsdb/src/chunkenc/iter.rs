//! The decoder: [`XorIter`] over a chunk's bytes, and the checked [`Decoder`] beneath it.
//!
//! Every read is checked: the data ending early, a varint overflowing, a window wider than 64
//! bits, a window reused before one was opened, or a timestamp that does not increase is a
//! [`ChunkError::Corrupt`], never a panic. So [`XorIter::new`] accepts any bytes at all; on bad
//! ones it ends early and [`XorIter::error`] says why.
//!
//! Design decision: the decoder keeps the same [`State`] as the encoder, so decoding a chunk to
//! its end (in [`XorChunk::from_bytes`](super::XorChunk::from_bytes)) leaves exactly the state
//! needed to append to it.

use super::bitstream::{BitReader, shl};
use super::xor::unzigzag;
use super::{ChunkError, DOD_BUCKETS, HEADER_LEN, LEAD_BITS, MAX_BYTES, MAX_SAMPLES, SIG_BITS, State};

/// Decodes a chunk's samples one at a time, checking everything.
#[derive(Debug, Clone)]
pub(super) struct Decoder<'a> {
    r: BitReader<'a>,
    total: u16,
    done: u16,
    st: State,
}

impl<'a> Decoder<'a> {
    /// Reads and checks the header.
    pub(super) fn new(bytes: &'a [u8]) -> Result<Decoder<'a>, ChunkError> {
        if bytes.len() < HEADER_LEN {
            return Err(ChunkError::corrupt(format!("{} bytes, shorter than the header", bytes.len())));
        }
        if bytes.len() > MAX_BYTES {
            return Err(ChunkError::corrupt(format!("{} bytes, more than {MAX_BYTES}", bytes.len())));
        }
        let mut r = BitReader::new(bytes);
        let total = r.read_bits(16).unwrap_or(0) as u16;
        if usize::from(total) > MAX_SAMPLES {
            return Err(ChunkError::corrupt(format!("{total} samples, more than {MAX_SAMPLES}")));
        }
        Ok(Decoder { r, total, done: 0, st: State::default() })
    }

    /// Samples decoded so far.
    pub(super) fn decoded(&self) -> usize {
        usize::from(self.done)
    }

    /// Samples not yet decoded, by the header's count.
    pub(super) fn left(&self) -> usize {
        usize::from(self.total - self.done)
    }

    /// Once every sample is decoded: checks that only zero padding (under a byte) is left, and
    /// returns the sample count, the state after the last sample and the unused bits of the last
    /// byte.
    pub(super) fn finish(mut self) -> Result<(u16, State, u32), ChunkError> {
        if self.done != self.total {
            return Err(ChunkError::corrupt("finished before the last sample"));
        }
        let left = self.r.remaining_bits();
        if left >= 8 {
            return Err(ChunkError::corrupt(format!("{} bytes after the last sample", left / 8)));
        }
        let left = left as u32;
        if self.r.read_bits(left) != Some(0) {
            return Err(ChunkError::corrupt("padding after the last sample is not zero"));
        }
        Ok((self.total, self.st, left))
    }

    /// The next sample, `None` after the last.
    pub(super) fn next_sample(&mut self) -> Result<Option<(i64, f64)>, ChunkError> {
        if self.done == self.total {
            return Ok(None);
        }
        match self.done {
            0 => {
                self.st.t = unzigzag(self.r.read_uvarint().ok_or_else(|| self.err("first timestamp"))?);
                self.st.v = self.r.read_bits(64).ok_or_else(|| self.err("first value"))?;
            }
            1 => {
                let delta = self.r.read_uvarint().ok_or_else(|| self.err("first delta"))?;
                self.advance(delta)?;
                self.read_value(true)?;
            }
            _ => {
                if !self.bit("sample code")? {
                    self.advance(self.st.delta)?;
                } else if !self.bit("sample code")? {
                    self.advance(self.st.delta)?;
                    self.read_value(false)?;
                } else {
                    let dod = self.read_dod()?;
                    self.advance(self.st.delta.wrapping_add(dod as u64))?;
                    self.read_value(true)?;
                }
            }
        }
        self.done += 1;
        Ok(Some((self.st.t, f64::from_bits(self.st.v))))
    }

    /// Moves the timestamp on by `delta`, which must be positive and stay within `i64`.
    fn advance(&mut self, delta: u64) -> Result<(), ChunkError> {
        let t = self.st.t.checked_add_unsigned(delta).filter(|_| delta > 0);
        let t = t.ok_or_else(|| self.err("a timestamp that does not increase"))?;
        self.st.t = t;
        self.st.delta = delta;
        Ok(())
    }

    fn read_dod(&mut self) -> Result<i64, ChunkError> {
        let mut bucket = 0;
        while bucket < DOD_BUCKETS.len() - 1 && self.bit("delta-of-delta bucket")? {
            bucket += 1;
        }
        let width = DOD_BUCKETS[bucket];
        let raw = self.r.read_bits(width).ok_or_else(|| self.err("delta-of-delta"))?;
        // Sign-extend `width` bits of two's complement.
        let shift = 64 - width;
        Ok((shl(raw, shift) as i64) >> shift)
    }

    fn read_value(&mut self, may_be_unchanged: bool) -> Result<(), ChunkError> {
        get_xor_value(&mut self.r, &mut self.st, may_be_unchanged).map_err(|what| self.err(what))
    }

    fn bit(&mut self, what: &str) -> Result<bool, ChunkError> {
        self.r.read_bit().ok_or_else(|| self.err(what))
    }

    fn err(&self, what: &str) -> ChunkError {
        ChunkError::corrupt(format!("sample {} of {}: bad or missing {what}", self.done + 1, self.total))
    }
}

/// Reads a value written by [`put_xor_value`](super::xor::put_xor_value) into `st.v`, updating
/// the window; on bad bits, what was bad.
pub(super) fn get_xor_value(r: &mut BitReader, st: &mut State, may_be_unchanged: bool) -> Result<(), &'static str> {
    let mut bit = || r.read_bit().ok_or("value code");
    if may_be_unchanged && !bit()? {
        return Ok(());
    }
    if !bit()? {
        if st.sig == 0 {
            return Err("XOR window (reused before one was opened)");
        }
    } else {
        let lead = r.read_bits(LEAD_BITS).ok_or("XOR window")? as u32;
        let sig = r.read_bits(SIG_BITS).ok_or("XOR window")? as u32;
        let sig = if sig == 0 { 64 } else { sig };
        if lead + sig > 64 {
            return Err("XOR window (wider than 64 bits)");
        }
        st.lead = lead;
        st.sig = sig;
    }
    let bits = r.read_bits(st.sig).ok_or("XOR bits")?;
    st.v ^= shl(bits, st.trail());
    Ok(())
}

/// The samples of a chunk's bytes in time order. On bytes that are not a valid chunk it ends
/// early (possibly at once), and [`XorIter::error`] tells why.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    dec: Option<Decoder<'a>>,
    err: Option<ChunkError>,
}

impl<'a> XorIter<'a> {
    /// Iterates over `bytes`, the complete encoded form of a chunk (any bytes are safe).
    pub fn new(bytes: &'a [u8]) -> XorIter<'a> {
        match Decoder::new(bytes) {
            Ok(dec) => XorIter { dec: Some(dec), err: None },
            Err(e) => XorIter { dec: None, err: Some(e) },
        }
    }

    /// Why the iteration ended before the header's sample count, if it did.
    pub fn error(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }
}

impl Iterator for XorIter<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        let dec = self.dec.as_mut()?;
        match dec.next_sample() {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                self.dec = None;
                None
            }
            Err(e) => {
                self.err = Some(e);
                self.dec = None;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.dec.as_ref().map_or(0, Decoder::left)))
    }
}

impl std::iter::FusedIterator for XorIter<'_> {}
