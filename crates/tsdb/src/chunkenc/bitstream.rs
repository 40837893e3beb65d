//! Bit-level writing and reading, most significant bit first, for the chunk bitstreams.
//!
//! [`BitWriter`] appends to a byte vector that holds every bit written so far (the last byte
//! zero-padded), so the chunk's bytes can be handed out at any moment without a flush.
//! [`BitReader`] reads from a byte slice through a left-aligned `u64` buffer refilled a byte at a
//! time; every read returns `None` at the end of the data instead of panicking, which is what lets
//! the decoder run over arbitrary bytes.
//!
//! Design decision: the writer writes whole bytes with one `extend_from_slice` per call, never a
//! push per bit, and supports truncation back to an earlier bit length so an append that would
//! overflow the chunk's byte limit can be undone.

/// `x << n`, 0 when `n` is 64 or more.
#[inline]
pub(super) fn shl(x: u64, n: u32) -> u64 {
    x.checked_shl(n).unwrap_or(0)
}

/// `x >> n`, 0 when `n` is 64 or more.
#[inline]
pub(super) fn shr(x: u64, n: u32) -> u64 {
    x.checked_shr(n).unwrap_or(0)
}

/// The low `n` bits of `x` (all of `x` when `n` is 64 or more).
#[inline]
fn low_bits(x: u64, n: u32) -> u64 {
    if n >= 64 { x } else { x & ((1u64 << n) - 1) }
}

/// Appends bits to a byte vector, most significant bit first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    /// Unused (zero) low bits of the last byte, 0..=7.
    free: u32,
}

impl BitWriter {
    /// Continues writing after `bytes`, whose last `free` bits (0..=7, all zero) are unused.
    pub(super) fn from_parts(bytes: Vec<u8>, free: u32) -> BitWriter {
        let free = if bytes.is_empty() { 0 } else { free.min(7) };
        BitWriter { bytes, free }
    }

    /// Gives back the spare capacity of the byte vector.
    pub(super) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Everything written, the last byte zero-padded.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of bits written.
    pub(super) fn bit_len(&self) -> usize {
        self.bytes.len() * 8 - self.free as usize
    }

    /// Overwrites the byte at `at` (used for the chunk header); out of range does nothing.
    pub(super) fn set_byte(&mut self, at: usize, b: u8) {
        if let Some(x) = self.bytes.get_mut(at) {
            *x = b;
        }
    }

    /// Appends one bit.
    #[inline]
    pub(super) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(if bit { 0x80 } else { 0 });
            self.free = 7;
        } else {
            self.free -= 1;
            if bit && let Some(last) = self.bytes.last_mut() {
                *last |= 1 << self.free;
            }
        }
    }

    /// Appends the low `n` bits of `v` (`n` up to 64), most significant first.
    #[inline]
    pub(super) fn write_bits(&mut self, v: u64, n: u32) {
        let mut n = n.min(64);
        if n == 0 {
            return;
        }
        let v = low_bits(v, n);
        if self.free > 0 {
            let take = self.free.min(n);
            // `take` >= 1, so the shift is below 64; the result has at most `take` bits.
            let top = (v >> (n - take)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= top << (self.free - take);
            }
            self.free -= take;
            n -= take;
            if n == 0 {
                return;
            }
        }
        // The last byte is full; the remaining bits are the low `n` (1..=64) bits of `v`.
        let aligned = v << (64 - n);
        let whole = n.div_ceil(8);
        self.bytes.extend_from_slice(&aligned.to_be_bytes()[..whole as usize]);
        self.free = whole * 8 - n;
    }

    /// Appends `v` as an unsigned LEB128 varint, eight bits per group.
    pub(super) fn write_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.write_bits((v & 0x7f) | 0x80, 8);
            v >>= 7;
        }
        self.write_bits(v, 8);
    }

    /// Drops everything after the first `bits` bits (no-op if fewer were written).
    pub(super) fn truncate_bits(&mut self, bits: usize) {
        if bits >= self.bit_len() {
            return;
        }
        let len = bits.div_ceil(8);
        self.bytes.truncate(len);
        self.free = (len * 8 - bits) as u32;
        if self.free > 0
            && let Some(last) = self.bytes.last_mut()
        {
            *last &= !((1u8 << self.free) - 1);
        }
    }
}

/// Reads bits from a byte slice, most significant bit first.
#[derive(Debug, Clone)]
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// Index of the next byte to load into `buf`.
    next: usize,
    /// Loaded bits not yet read, left-aligned.
    buf: u64,
    /// How many bits of `buf` are loaded (0..=64).
    valid: u32,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader { data, next: 0, buf: 0, valid: 0 }
    }

    /// Bits read so far.
    #[cfg(test)]
    pub(super) fn bit_pos(&self) -> usize {
        self.next * 8 - self.valid as usize
    }

    /// Bits left to read.
    pub(super) fn remaining_bits(&self) -> usize {
        (self.data.len() - self.next.min(self.data.len())) * 8 + self.valid as usize
    }

    #[inline]
    fn refill(&mut self) {
        while self.valid <= 56 {
            let Some(&b) = self.data.get(self.next) else { break };
            self.buf |= u64::from(b) << (56 - self.valid);
            self.valid += 8;
            self.next += 1;
        }
    }

    /// One bit, `None` at the end of the data.
    #[inline]
    pub(super) fn read_bit(&mut self) -> Option<bool> {
        if self.valid == 0 {
            self.refill();
            if self.valid == 0 {
                return None;
            }
        }
        let bit = self.buf >> 63;
        self.buf <<= 1;
        self.valid -= 1;
        Some(bit == 1)
    }

    /// The next `n` bits (`n` up to 64) as the low bits of a `u64`, `None` if fewer are left
    /// (the reader's position is then unspecified).
    #[inline]
    pub(super) fn read_bits(&mut self, n: u32) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        if n > 64 {
            return None;
        }
        if self.valid < n {
            self.refill();
        }
        if n <= self.valid {
            let v = self.buf >> (64 - n);
            self.buf = shl(self.buf, n);
            self.valid -= n;
            return Some(v);
        }
        // Only when `n` is above 56: take what is loaded, refill, take the rest.
        let hi_n = self.valid;
        let hi = shr(self.buf, 64 - hi_n);
        self.buf = 0;
        self.valid = 0;
        self.refill();
        let lo_n = n - hi_n;
        if lo_n > self.valid {
            return None;
        }
        let lo = self.buf >> (64 - lo_n);
        self.buf = shl(self.buf, lo_n);
        self.valid -= lo_n;
        Some(shl(hi, lo_n) | lo)
    }

    /// An unsigned LEB128 varint; `None` if the data ends inside it or it overflows 64 bits.
    pub(super) fn read_uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.read_bits(8)?;
            if i == 9 && b > 1 {
                return None;
            }
            v |= (b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bits_land_msb_first() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0b01, 2);
        w.write_bits(0x1ff, 9);
        assert_eq!(w.as_bytes(), &[0b1011_1111, 0b1111_0000]);
        assert_eq!(w.bit_len(), 12);
        w.truncate_bits(3);
        assert_eq!(w.as_bytes(), &[0b1010_0000]);
        assert_eq!(w.bit_len(), 3);
    }

    #[test]
    fn reading_past_the_end_is_none() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(9), None);
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(8), Some(0xff));
        assert_eq!(r.read_bit(), None);
        assert_eq!(r.read_bits(65), None);
        let mut r = BitReader::new(&[0xff; 10]);
        assert_eq!(r.read_uvarint(), None, "eleven bytes of continuation overflow");
    }

    proptest! {
        #[test]
        fn writes_read_back(items in proptest::collection::vec((any::<u64>(), 0u32..=64, any::<bool>()), 0..200),
                            varints in proptest::collection::vec(any::<u64>(), 0..20)) {
            let mut w = BitWriter::default();
            for &(v, n, bit) in &items {
                w.write_bits(v, n);
                w.write_bit(bit);
            }
            for &v in &varints {
                w.write_uvarint(v);
            }
            let total = w.bit_len();
            prop_assert_eq!(w.as_bytes().len(), total.div_ceil(8));
            let mut r = BitReader::new(w.as_bytes());
            for &(v, n, bit) in &items {
                prop_assert_eq!(r.read_bits(n), Some(low_bits(v, n)));
                prop_assert_eq!(r.read_bit(), Some(bit));
            }
            for &v in &varints {
                prop_assert_eq!(r.read_uvarint(), Some(v));
            }
            prop_assert_eq!(r.bit_pos(), total);
            prop_assert!(r.remaining_bits() < 8);
        }

        #[test]
        fn truncate_then_rewrite_equals_direct(a in any::<u64>(), na in 0u32..=64, b in any::<u64>(), nb in 0u32..=64,
                                               c in any::<u64>(), nc in 0u32..=64) {
            let mut direct = BitWriter::default();
            direct.write_bits(a, na);
            direct.write_bits(c, nc);
            let mut undone = BitWriter::default();
            undone.write_bits(a, na);
            let mark = undone.bit_len();
            undone.write_bits(b, nb);
            undone.truncate_bits(mark);
            undone.write_bits(c, nc);
            prop_assert_eq!(direct, undone);
        }
    }
}
