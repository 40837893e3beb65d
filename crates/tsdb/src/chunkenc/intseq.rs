//! Integer sequences for block chunks: differenced, rebased, scaled and bit-packed in frames.
//!
//! [`write_ints`] packs a sequence of `i64` (timestamps, integer or scaled decimal values, float
//! bit patterns) into a bitstream; [`read_ints`] unpacks it given the count. The sequence is
//! first differenced `order` times (0: the values, 1: deltas, 2: delta-of-deltas; the first
//! `order` items are written whole), the residuals are rebased on their minimum and divided by
//! their greatest common divisor, and the results are written in frames of [`FRAME`] items, each
//! with its own bit width. When every residual equals the minimum nothing more is written. The
//! layout is drawn in `docs/format/chunks.md`.
//!
//! Design decision: the encoder computes the exact size of every order from the residuals
//! before writing any bit, and writes only the smallest, so trying three orders costs three
//! passes of arithmetic, not three encodings. Frames (rather than one width for the chunk)
//! confine an outlier, a counter reset or a scrape gap, to the 64 items around it. All
//! differencing wraps modulo 2⁶⁴ on both sides, so any `i64` sequence round-trips.

use super::bitstream::{BitReader, BitWriter};
use super::xor::{unzigzag, zigzag};

/// Items per frame; each frame starts with its bit width.
pub(super) const FRAME: usize = 64;
/// Bits of a frame's width (0 to 64).
const WIDTH_BITS: u32 = 7;
/// Bits of the order and of the mode in the sequence header.
const HEADER_BITS: u32 = 2;

/// How the residuals are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every residual equals the reference: nothing follows it.
    Equal = 0,
    /// A divisor, then frames of fixed-width multiples of it above the reference.
    Frames = 1,
}

/// The differences of `xs` (wrapping): one fewer item.
fn differences(xs: &[i64]) -> Vec<i64> {
    xs.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect()
}

/// Bits of an 8-bit-group varint of `v`.
fn uvarint_bits(v: u64) -> usize {
    let groups = (64 - v.leading_zeros()).div_ceil(7).max(1);
    groups as usize * 8
}

/// Bits needed for `v` (0 for 0).
fn bit_width(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// Greatest common divisor.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// How one order packs: its residuals, their reference and divisor, and the size in bits.
struct Plan {
    order: usize,
    heads: Vec<i64>,
    residuals: Vec<i64>,
    reference: i64,
    divisor: u64,
    bits: usize,
}

impl Plan {
    /// The plan for `order`, given `heads` (the first `order` items of the successive
    /// differences) and `residuals` (the `order`-th differences).
    fn new(order: usize, heads: Vec<i64>, residuals: Vec<i64>) -> Plan {
        let reference = residuals.iter().copied().min().unwrap_or(0);
        // The offsets above the minimum are exact as u64 (at most 2⁶⁴ − 1).
        let mut divisor = 0;
        for &r in &residuals {
            divisor = gcd(divisor, r.wrapping_sub(reference) as u64);
            if divisor == 1 {
                break;
            }
        }
        let mut bits = 2 * HEADER_BITS as usize + heads.iter().map(|&h| uvarint_bits(zigzag(h))).sum::<usize>();
        if !residuals.is_empty() {
            bits += uvarint_bits(zigzag(reference));
            if divisor > 0 {
                bits += uvarint_bits(divisor);
                for frame in residuals.chunks(FRAME) {
                    // Division is monotonic: the largest offset gives the largest multiple.
                    let max = frame.iter().map(|&r| r.wrapping_sub(reference) as u64).max().unwrap_or(0) / divisor;
                    bits += WIDTH_BITS as usize + bit_width(max) as usize * frame.len();
                }
            }
        }
        Plan { order, heads, residuals, reference, divisor, bits }
    }

    /// The plans of orders 0, 1 and 2 for `xs`.
    fn all(xs: &[i64]) -> [Plan; 3] {
        let d1 = differences(xs);
        let d2 = differences(&d1);
        let head = |v: &[i64]| v.first().copied();
        let p0 = Plan::new(0, Vec::new(), xs.to_vec());
        let p1 = Plan::new(1, head(xs).into_iter().collect(), d1.clone());
        let p2 = Plan::new(2, head(xs).into_iter().chain(head(&d1)).collect(), d2);
        [p0, p1, p2]
    }
}

/// Writes `xs` (any length; the reader must be told it) in the order that packs smallest.
pub(super) fn write_ints(w: &mut BitWriter, xs: &[i64]) {
    let best = Plan::all(xs).into_iter().min_by_key(|p| p.bits);
    let Some(p) = best else { return };
    let mode = if p.divisor == 0 { Mode::Equal } else { Mode::Frames };
    w.write_bits(p.order as u64, HEADER_BITS);
    w.write_bits(mode as u64, HEADER_BITS);
    for &h in &p.heads {
        w.write_uvarint(zigzag(h));
    }
    if p.residuals.is_empty() {
        return;
    }
    w.write_uvarint(zigzag(p.reference));
    if mode == Mode::Equal {
        return;
    }
    w.write_uvarint(p.divisor);
    for frame in p.residuals.chunks(FRAME) {
        let units: Vec<u64> = frame.iter().map(|&r| r.wrapping_sub(p.reference) as u64 / p.divisor).collect();
        let width = bit_width(units.iter().copied().max().unwrap_or(0));
        w.write_bits(u64::from(width), WIDTH_BITS);
        for u in units {
            w.write_bits(u, width);
        }
    }
}

/// Reads `n` items written by [`write_ints`]; on bad bits, what was bad.
pub(super) fn read_ints(r: &mut BitReader, n: usize) -> Result<Vec<i64>, &'static str> {
    let order = r.read_bits(HEADER_BITS).ok_or("sequence header")? as usize;
    let mode = r.read_bits(HEADER_BITS).ok_or("sequence header")?;
    if order > 2 {
        return Err("sequence order (above 2)");
    }
    let mut heads = Vec::with_capacity(order);
    for _ in 0..order.min(n) {
        heads.push(unzigzag(r.read_uvarint().ok_or("sequence head")?));
    }
    let count = n.saturating_sub(order);
    let mut res = Vec::with_capacity(count);
    if count > 0 {
        let reference = unzigzag(r.read_uvarint().ok_or("sequence reference")?);
        if mode == Mode::Equal as u64 {
            res.resize(count, reference);
        } else if mode == Mode::Frames as u64 {
            let divisor = r.read_uvarint().ok_or("sequence divisor")?;
            if divisor == 0 {
                return Err("sequence divisor (zero)");
            }
            while res.len() < count {
                let width = r.read_bits(WIDTH_BITS).ok_or("frame width")? as u32;
                if width > 64 {
                    return Err("frame width (above 64)");
                }
                for _ in 0..FRAME.min(count - res.len()) {
                    let u = r.read_bits(width).ok_or("frame item")?;
                    let x = i128::from(reference) + i128::from(u) * i128::from(divisor);
                    res.push(i64::try_from(x).map_err(|_| "frame item (outside i64)")?);
                }
            }
        } else {
            return Err("sequence mode (unknown)");
        }
    }
    // Undo the differencing, innermost first: residuals are the order-th differences.
    let mut cur = res;
    for &h in heads.iter().rev() {
        let mut up = Vec::with_capacity(cur.len() + 1);
        let mut acc = h;
        up.push(acc);
        for d in cur {
            acc = acc.wrapping_add(d);
            up.push(acc);
        }
        cur = up;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(xs: &[i64]) -> usize {
        let mut w = BitWriter::default();
        write_ints(&mut w, xs);
        let bits = w.bit_len();
        let mut r = BitReader::new(w.as_bytes());
        assert_eq!(read_ints(&mut r, xs.len()).unwrap(), xs);
        assert!(r.remaining_bits() < 8, "the reader stops where the writer did");
        bits
    }

    #[test]
    fn regular_steps_cost_a_few_bytes_in_all() {
        let ts: Vec<i64> = (0..720).map(|i| 1_700_000_000_000 + i * 10_000).collect();
        // Order 1, equal: header, x_0 (6 bytes), the step (3 bytes).
        assert_eq!(round_trip(&ts), 4 + 6 * 8 + 3 * 8);
        assert_eq!(round_trip(&[]), 4);
        assert_eq!(round_trip(&[i64::MIN]), 4 + 10 * 8);
    }

    #[test]
    fn frames_hold_the_spread_divided_by_the_divisor() {
        // Deltas 1000, 2000 or 3000 are 0..=2 units of 1000 above 1000: two bits an item.
        let mut x = 0;
        let xs: Vec<i64> = (0..129u64)
            .map(|i| {
                x += 1000 * (1 + (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as i64 % 3);
                x
            })
            .collect();
        let bits = round_trip(&xs);
        // Header, x_0, the reference and the divisor (two bytes each), two frames.
        let expected = 4 + 3 * 16 + 2 * 7 + 2 * 128;
        assert_eq!(bits, expected);
    }

    #[test]
    fn extremes_wrap_and_come_back() {
        round_trip(&[i64::MIN, i64::MAX, i64::MIN, 0, i64::MAX, -1]);
        round_trip(&[i64::MAX, i64::MAX - 1, i64::MIN + 1]);
        round_trip(&[5; 300]);
    }

    #[test]
    fn bad_headers_are_reported() {
        assert!(read_ints(&mut BitReader::new(&[0b1100_0000]), 3).is_err(), "order 3");
        assert!(read_ints(&mut BitReader::new(&[0b0011_0000, 0]), 3).is_err(), "mode 3");
        assert!(read_ints(&mut BitReader::new(&[0b0001_0000, 0, 0]), 3).is_err(), "divisor 0");
        assert!(read_ints(&mut BitReader::new(&[]), 1).is_err());
    }

    proptest! {
        #[test]
        fn any_sequence_round_trips(xs in prop::collection::vec(prop_oneof![
            any::<i64>(),
            -1000i64..1000,
            (0i64..50).prop_map(|x| 1_700_000_000_000 + x * 10_000),
        ], 0..400)) {
            round_trip(&xs);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), n in 0usize..500) {
            let mut r = BitReader::new(&bytes);
            if let Ok(xs) = read_ints(&mut r, n) {
                prop_assert_eq!(xs.len(), n);
            }
        }
    }
}
