//! Chunk encoding: a run of one series' samples compressed Gorilla-style.
//!
//! [`XorChunk`] holds up to [`MAX_SAMPLES`] samples in at most [`MAX_BYTES`] bytes: the first
//! timestamp in full, then the first delta, then delta-of-deltas in variable-width buckets; the
//! first value in full, then each value XORed with the previous one, the window of meaningful
//! bits reused while the XOR fits in it. [`XorIter`] decodes a chunk's bytes, and
//! [`XorChunk::from_bytes`] validates bytes read back from disk or the WAL so that iterating and
//! appending to them cannot panic. Blocks, written once with every sample known, store
//! [`PackedChunk`]s instead: up to [`MAX_PACKED_SAMPLES`] samples, timestamps bit-packed as
//! integers, values in whichever [`Encoding`] is smallest for the chunk (constant, integer,
//! decimal, XOR or raw bit patterns); [`pack_series`] cuts a series into them and
//! [`decode_packed`] reads them back. The byte layouts are documented in
//! `docs/format/chunks.md`.
//!
//! Design decision: from the third sample on, a one-bit code `0` means "timestamp on the same
//! step and value unchanged", the commonest sample of constant series, so they cost one bit a
//! sample instead of Gorilla's two; the price is one bit more on a sample whose timestamp
//! leaves the step. Values are stored as their raw bit patterns, so NaN payloads (Prometheus's
//! stale marker, Atlas's NaN), -0.0 and the infinities round-trip exactly.

mod bitstream;
mod intseq;
mod iter;
mod packed;
mod xor;

#[cfg(test)]
mod packed_tests;
#[cfg(test)]
mod tests;

pub use iter::XorIter;
pub use packed::{
    Encoding, MAX_DECIMALS, MAX_PACKED_BYTES, MAX_PACKED_SAMPLES, PackError, PackedChunk, decode_packed, pack_series,
    packed_len,
};
pub use xor::XorChunk;

/// The most samples a chunk holds: 40 minutes at a 10 s step.
pub const MAX_SAMPLES: usize = 240;

/// The most bytes a chunk's encoded form (header included) takes; an append that would pass it
/// is refused with [`AppendError::Full`].
pub const MAX_BYTES: usize = 1024;

/// Bytes before the bitstream: the sample count as a big-endian `u16`.
pub const HEADER_LEN: usize = 2;

/// Why a sample was not appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The sample's timestamp is not after the chunk's last one (equal ones are refused too).
    #[error("sample at {t} ms is not after the chunk's last sample at {last} ms")]
    OutOfOrder { last: i64, t: i64 },
    /// The chunk holds MAX_SAMPLES samples, or the sample would take it past MAX_BYTES bytes.
    #[error("the chunk is full")]
    Full,
}

/// Why bytes are not a valid chunk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes do not decode to a valid chunk; `reason` says where they went wrong.
    #[error("corrupt chunk: {reason}")]
    Corrupt { reason: String },
}

impl ChunkError {
    fn corrupt(reason: impl Into<String>) -> ChunkError {
        ChunkError::Corrupt { reason: reason.into() }
    }
}

/// Bits of the leading-zero count of a new XOR window.
const LEAD_BITS: u32 = 5;
/// Bits of the significant-bit count of a new XOR window (64 is written as 0).
const SIG_BITS: u32 = 6;

/// The delta-of-delta buckets after the `11` prefix: a unary prefix of `i` ones and a zero (no
/// zero after the last) selects `DOD_BUCKETS[i]` bits of two's complement.
const DOD_BUCKETS: [u32; 4] = [14, 17, 20, 64];

/// What encoder and decoder carry from one sample to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct State {
    /// The last timestamp.
    t: i64,
    /// The last delta, as an unsigned distance (timestamps strictly increase).
    delta: u64,
    /// The last value's bit pattern.
    v: u64,
    /// Leading zeros of the current XOR window.
    lead: u32,
    /// Width of the current XOR window; 0 while there is none.
    sig: u32,
}

impl State {
    /// Trailing zeros below the current window.
    fn trail(&self) -> u32 {
        64 - self.lead - self.sig
    }
}
