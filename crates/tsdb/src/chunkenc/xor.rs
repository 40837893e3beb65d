//! The encoder: [`XorChunk`], appending samples and reloading a chunk from its bytes.
//!
//! A chunk is its encoded bytes plus the little state the next append needs (last timestamp,
//! last delta, last value, current XOR window). Appends write straight into the bytes, so
//! [`XorChunk::bytes`] is always the complete encoded form.
//!
//! Design decision: the byte limit is enforced exactly by encoding the sample and undoing it
//! (truncating the bitstream) when the chunk would pass [`MAX_BYTES`], rather than reserving the
//! worst-case sample size and wasting the tail of every chunk of noisy values.

use super::bitstream::BitWriter;
use super::iter::{Decoder, XorIter};
use super::{AppendError, ChunkError, DOD_BUCKETS, HEADER_LEN, LEAD_BITS, MAX_BYTES, MAX_SAMPLES, SIG_BITS, State};

/// What a new XOR window costs on top of the bits themselves.
const NEW_WINDOW_COST: u32 = LEAD_BITS + SIG_BITS;

/// A compressed run of samples of one series, timestamps strictly increasing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorChunk {
    w: BitWriter,
    count: u16,
    first_t: i64,
    st: State,
    /// Reuse the XOR window whenever the XOR fits, as Gorilla does, instead of opening a
    /// narrower one when that is cheaper. Only tests turn it on, to measure the difference.
    reuse_any_fit: bool,
}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

impl XorChunk {
    /// An empty chunk.
    pub fn new() -> XorChunk {
        XorChunk {
            w: BitWriter::from_parts(vec![0; HEADER_LEN], 0),
            count: 0,
            first_t: 0,
            st: State::default(),
            reuse_any_fit: false,
        }
    }

    /// Gives back the spare capacity of the chunk's bytes (for a chunk that is full).
    pub fn shrink_to_fit(&mut self) {
        self.w.shrink_to_fit();
    }

    /// Validates `b` by decoding it completely and returns a chunk that can be read and appended
    /// to as if its samples had been appended one by one.
    pub fn from_bytes(b: &[u8]) -> Result<XorChunk, ChunkError> {
        let mut dec = Decoder::new(b)?;
        let mut first_t = 0;
        while let Some((t, _)) = dec.next_sample()? {
            if dec.decoded() == 1 {
                first_t = t;
            }
        }
        let (count, st, free) = dec.finish()?;
        Ok(XorChunk { w: BitWriter::from_parts(b.to_vec(), free), count, first_t, st, reuse_any_fit: false })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the chunk has no samples.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first sample's timestamp.
    pub fn first_time(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_t)
    }

    /// The last sample's timestamp.
    pub fn last_time(&self) -> Option<i64> {
        (self.count > 0).then_some(self.st.t)
    }

    /// The complete encoded form, header included, ready to be written out as is.
    pub fn bytes(&self) -> &[u8] {
        self.w.as_bytes()
    }

    /// The samples in time order.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(self.bytes())
    }

    /// Appends a sample. Refuses it with [`AppendError::OutOfOrder`] when `t` is not after the
    /// last timestamp (checked first, so a caller never cuts a new chunk for such a sample), and
    /// with [`AppendError::Full`] when the chunk has [`MAX_SAMPLES`] samples or the sample would
    /// take it past [`MAX_BYTES`]; a refused sample leaves the chunk unchanged.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), AppendError> {
        if self.count > 0 && t <= self.st.t {
            return Err(AppendError::OutOfOrder { last: self.st.t, t });
        }
        if self.len() >= MAX_SAMPLES {
            return Err(AppendError::Full);
        }
        let (mark, saved) = (self.w.bit_len(), self.st);
        let bits = v.to_bits();
        match self.count {
            0 => {
                self.w.write_uvarint(zigzag(t));
                self.w.write_bits(bits, 64);
                self.first_t = t;
            }
            1 => {
                let delta = t.wrapping_sub(self.st.t) as u64;
                self.w.write_uvarint(delta);
                self.write_value(bits, true);
                self.st.delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.st.t) as u64;
                let dod = delta.wrapping_sub(self.st.delta) as i64;
                if dod == 0 {
                    if bits == self.st.v {
                        self.w.write_bit(false);
                    } else {
                        self.w.write_bits(0b10, 2);
                        self.write_value(bits, false);
                    }
                } else {
                    self.w.write_bits(0b11, 2);
                    self.write_dod(dod);
                    self.write_value(bits, true);
                }
                self.st.delta = delta;
            }
        }
        self.st.t = t;
        self.st.v = bits;
        if self.w.as_bytes().len() > MAX_BYTES {
            self.w.truncate_bits(mark);
            self.st = saved;
            return Err(AppendError::Full);
        }
        self.count += 1;
        let [hi, lo] = self.count.to_be_bytes();
        self.w.set_byte(0, hi);
        self.w.set_byte(1, lo);
        Ok(())
    }

    /// Writes a non-zero delta-of-delta in the narrowest bucket that holds it.
    fn write_dod(&mut self, dod: i64) {
        for (i, &width) in DOD_BUCKETS.iter().enumerate() {
            let last = i == DOD_BUCKETS.len() - 1;
            if last || fits_signed(dod, width) {
                // `i` ones then a zero; the last bucket's prefix has no zero.
                let ones = (1u64 << i) - 1;
                if last {
                    self.w.write_bits(ones, i as u32);
                } else {
                    self.w.write_bits(ones << 1, i as u32 + 1);
                }
                self.w.write_bits(dod as u64, width);
                return;
            }
        }
    }

    /// Writes the value's XOR with the previous one (see [`put_xor_value`]).
    fn write_value(&mut self, bits: u64, may_be_unchanged: bool) {
        put_xor_value(&mut self.w, &mut self.st, bits, may_be_unchanged, self.reuse_any_fit);
    }

    /// Test hook: bits written so far, header included.
    #[cfg(test)]
    pub(super) fn bit_len(&self) -> usize {
        self.w.bit_len()
    }

    /// Test hook: Gorilla's window policy, to measure what the cheaper-window rule saves.
    #[cfg(test)]
    pub(super) fn with_reuse_any_fit(mut self) -> XorChunk {
        self.reuse_any_fit = true;
        self
    }
}

/// Writes `bits` XORed with `st.v` (which it leaves unchanged) and updates `st`'s window. With
/// `may_be_unchanged` a leading `0` means unchanged and `1` announces a changed value; without it
/// the value is known to differ. With `reuse_any_fit` the current window is reused whenever the
/// XOR fits it (Gorilla's rule), otherwise only while that is no dearer than a new window.
pub(super) fn put_xor_value(w: &mut BitWriter, st: &mut State, bits: u64, may_be_unchanged: bool, reuse_any_fit: bool) {
    let xor = bits ^ st.v;
    if may_be_unchanged {
        if xor == 0 {
            w.write_bit(false);
            return;
        }
        w.write_bit(true);
    }
    let lead = xor.leading_zeros().min((1 << LEAD_BITS) - 1);
    let trail = xor.trailing_zeros();
    let sig = 64 - lead - trail;
    let fits = st.sig > 0 && lead >= st.lead && trail >= st.trail();
    if fits && (reuse_any_fit || st.sig <= sig + NEW_WINDOW_COST) {
        w.write_bit(false);
        w.write_bits(xor >> st.trail(), st.sig);
    } else {
        w.write_bit(true);
        w.write_bits(u64::from(lead), LEAD_BITS);
        w.write_bits(u64::from(sig), SIG_BITS); // 64 wraps to 0 in six bits
        w.write_bits(xor >> trail, sig);
        st.lead = lead;
        st.sig = sig;
    }
}

/// Whether `x` fits in `width` bits of two's complement.
pub(super) fn fits_signed(x: i64, width: u32) -> bool {
    if width >= 64 {
        return true;
    }
    let half = 1i64 << (width - 1);
    (-half..half).contains(&x)
}

/// Signed to unsigned so that small magnitudes stay small.
pub(super) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub(super) fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}
