//! Tests across encoder and decoder: round trips, bucket edges, limits, bad bytes, and the
//! compression figures that guard against a regression in bytes per sample.

use super::*;
use proptest::prelude::*;

/// Appends until the chunk refuses, returning what was accepted.
fn fill(c: &mut XorChunk, samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
    let mut kept = Vec::new();
    for &(t, v) in samples {
        match c.append(t, v) {
            Ok(()) => kept.push((t, v.to_bits())),
            Err(AppendError::Full) => break,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    kept
}

fn decoded(c: &XorChunk) -> Vec<(i64, u64)> {
    let mut it = c.iter();
    let got = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
    assert_eq!(it.error(), None);
    got
}

/// Timestamps from a start and gaps, stopping before `i64` would overflow.
fn times(start: i64, gaps: &[u64]) -> Vec<i64> {
    let mut out = vec![start];
    let mut t = start;
    for &g in gaps {
        match t.checked_add_unsigned(g) {
            Some(n) => {
                out.push(n);
                t = n;
            }
            None => break,
        }
    }
    out
}

fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(10_000u64),
        3 => 9_990u64..10_010,
        1 => 1u64..100,
        1 => 1u64..1 << 24,
        1 => 1u64..=u64::MAX,
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => any::<u64>().prop_map(f64::from_bits),
        2 => (0i64..2000).prop_map(|x| x as f64),
        1 => any::<u64>().prop_map(|p| f64::from_bits(0x7ff0_0000_0000_0001 | (p & 0x800f_ffff_ffff_ffff))),
        1 => prop::sample::select(vec![
            f64::from_bits(0x7ff0_0000_0000_0002), // Prometheus's stale marker
            f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE / 4.0, f64::MAX,
        ]),
    ]
}

/// Prometheus's stale-marker NaN.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

proptest! {
    #[test]
    fn random_series_round_trip(start in any::<i64>(), gaps in prop::collection::vec(gap(), 0..300),
                                vals in prop::collection::vec(value(), 300), repeat in prop::collection::vec(any::<bool>(), 300),
                                split in 0usize..300) {
        let ts = times(start, &gaps);
        // Runs of repeated values, as real series have.
        let mut samples = Vec::new();
        for (i, &t) in ts.iter().enumerate() {
            let v = if i > 0 && repeat[i] { samples[i - 1] } else { (t, vals[i]) };
            samples.push((t, v.1));
        }
        let mut c = XorChunk::new();
        let kept = fill(&mut c, &samples);
        prop_assert!(c.bytes().len() <= MAX_BYTES && c.len() <= MAX_SAMPLES);
        prop_assert_eq!(c.len(), kept.len());
        prop_assert_eq!(decoded(&c), kept.clone());
        prop_assert_eq!(c.first_time(), kept.first().map(|s| s.0));
        prop_assert_eq!(c.last_time(), kept.last().map(|s| s.0));

        // Reloaded from its bytes, the same chunk; appending to a reloaded prefix writes the same bytes.
        prop_assert_eq!(&XorChunk::from_bytes(c.bytes()).unwrap(), &c);
        let split = split.min(kept.len());
        let mut head = XorChunk::new();
        for &(t, v) in &kept[..split] {
            head.append(t, f64::from_bits(v)).unwrap();
        }
        let mut reloaded = XorChunk::from_bytes(head.bytes()).unwrap();
        for &(t, v) in &kept[split..] {
            reloaded.append(t, f64::from_bits(v)).unwrap();
        }
        prop_assert_eq!(reloaded.bytes(), c.bytes());
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600), count in 0u16..300) {
        for b in [bytes.clone(), [count.to_be_bytes().as_slice(), &bytes].concat()] {
            let n = XorIter::new(&b).count();
            if let Ok(mut c) = XorChunk::from_bytes(&b) {
                prop_assert_eq!(decoded(&c).len(), c.len());
                prop_assert_eq!(n, c.len());
                prop_assert_eq!(c.bytes(), b.as_slice());
                let next = c.last_time().map_or(0, |t| t.saturating_add(1));
                let _ = c.append(next, 1.0);
            }
        }
    }

    #[test]
    fn damaged_chunks_never_panic(gaps in prop::collection::vec(gap(), 1..100), vals in prop::collection::vec(value(), 100),
                                  cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let ts = times(0, &gaps);
        let samples: Vec<_> = ts.iter().zip(&vals).map(|(&t, &v)| (t, v)).collect();
        let mut c = XorChunk::new();
        fill(&mut c, &samples);
        let good = c.bytes();
        let truncated = &good[..cut.index(good.len())];
        prop_assert!(XorChunk::from_bytes(truncated).is_err(), "a truncated chunk must not validate");
        let it = XorIter::new(truncated);
        prop_assert!(it.count() < c.len());
        let mut flipped = good.to_vec();
        flipped[flip.index(good.len())] ^= 1 << bit;
        if let Ok(d) = XorChunk::from_bytes(&flipped) {
            prop_assert_eq!(d.iter().count(), d.len());
        }
        let _ = XorIter::new(&flipped).count();
    }
}

#[test]
fn special_values_keep_their_bits() {
    let specials = [
        STALE_NAN,
        f64::NAN.to_bits(),
        0x7ff8_dead_beef_0001, // quiet NaN with a payload
        0xfff0_0000_0000_0001, // negative signalling NaN
        (-0.0f64).to_bits(),
        0,
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
        1,
        f64::MAX.to_bits(),
    ];
    let mut c = XorChunk::new();
    let mut want = Vec::new();
    for (i, &b) in specials.iter().chain(specials.iter().rev()).enumerate() {
        let t = -5_000 + i as i64 * 10_000;
        c.append(t, f64::from_bits(b)).unwrap();
        want.push((t, b));
    }
    assert_eq!(decoded(&c), want);
}

#[test]
fn delta_of_delta_bucket_edges() {
    // Bits for a third sample with an unchanged value: `11`, the bucket prefix, the bits, `0`.
    let cost = |width: u32, prefix: u32| 2 + prefix + width + 1;
    let mut cases = vec![(0i64, 1)]; // the one-bit code
    for (i, &w) in DOD_BUCKETS[..3].iter().enumerate() {
        let (lo, hi) = (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1);
        let next = DOD_BUCKETS[i + 1];
        let next_prefix = if i + 1 == 3 { 3 } else { i as u32 + 2 };
        for d in [lo + 1, lo, hi - 1, hi] {
            cases.push((d, cost(w, i as u32 + 1)));
        }
        for d in [lo - 1, hi + 1] {
            cases.push((d, cost(next, next_prefix)));
        }
    }
    cases.extend([(1, cost(14, 1)), (-1, cost(14, 1)), (i64::MAX / 2, cost(64, 3)), (-(1 << 40), cost(64, 3))]);
    let delta1: i64 = 1 << 41;
    for (dod, bits) in cases {
        let mut c = XorChunk::new();
        c.append(-delta1, 42.0).unwrap();
        c.append(0, 42.0).unwrap();
        let before = c.bit_len();
        c.append(delta1 + dod, 42.0).unwrap();
        assert_eq!(c.bit_len() - before, bits as usize, "dod {dod}");
        assert_eq!(
            decoded(&c),
            vec![(-delta1, 42f64.to_bits()), (0, 42f64.to_bits()), (delta1 + dod, 42f64.to_bits())]
        );
    }
}

#[test]
fn extreme_timestamps() {
    let mut c = XorChunk::new();
    for t in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        c.append(t, 1.0).unwrap();
    }
    assert_eq!(c.iter().map(|s| s.0).collect::<Vec<_>>(), [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX]);
    assert_eq!(XorChunk::from_bytes(c.bytes()).unwrap(), c);
}

#[test]
fn out_of_order_and_equal_timestamps_are_refused() {
    let mut c = XorChunk::new();
    c.append(1000, 1.0).unwrap();
    c.append(2000, 2.0).unwrap();
    let before = c.clone();
    assert_eq!(c.append(2000, 3.0), Err(AppendError::OutOfOrder { last: 2000, t: 2000 }));
    assert_eq!(c.append(1500, 3.0), Err(AppendError::OutOfOrder { last: 2000, t: 1500 }));
    assert_eq!(c, before);
}

#[test]
fn full_by_samples_and_by_bytes() {
    let mut c = XorChunk::new();
    for i in 0..MAX_SAMPLES as i64 {
        c.append(i * 10_000, 7.0).unwrap();
    }
    assert_eq!(c.append(MAX_SAMPLES as i64 * 10_000, 7.0), Err(AppendError::Full));
    // Out of order is reported before full.
    assert!(matches!(c.append(0, 7.0), Err(AppendError::OutOfOrder { .. })));
    assert_eq!(c.len(), MAX_SAMPLES);

    // Random bit patterns cost about 10 bytes a sample and fill the bytes first.
    let mut c = XorChunk::new();
    let mut rng = SplitMix(7);
    let mut i = 0;
    let err = loop {
        let before = c.clone();
        match c.append(i * 10_000, f64::from_bits(rng.next())) {
            Ok(()) => i += 1,
            Err(e) => {
                assert_eq!(c, before, "a refused append changes nothing");
                break e;
            }
        }
    };
    assert_eq!(err, AppendError::Full);
    assert!(c.len() < MAX_SAMPLES && c.bytes().len() <= MAX_BYTES && c.bytes().len() > MAX_BYTES - 20);
    assert_eq!(XorIter::new(c.bytes()).count(), c.len());
}

#[test]
fn empty_chunk() {
    let c = XorChunk::new();
    assert!(c.is_empty());
    assert_eq!((c.first_time(), c.last_time()), (None, None));
    assert_eq!(c.bytes(), &[0, 0]);
    assert_eq!(c.iter().next(), None);
    let mut r = XorChunk::from_bytes(c.bytes()).unwrap();
    r.append(5, 5.0).unwrap();
    assert_eq!(decoded(&r), vec![(5, 5f64.to_bits())]);
}

#[test]
fn bad_headers_and_tails_are_reported() {
    assert!(XorChunk::from_bytes(&[]).is_err());
    assert!(XorChunk::from_bytes(&[0]).is_err());
    assert!(XorChunk::from_bytes(&[0, 0, 0]).is_err(), "bytes after the last sample");
    assert!(XorChunk::from_bytes(&[0, 241]).is_err(), "more samples than allowed");
    assert!(XorChunk::from_bytes(&vec![0; MAX_BYTES + 1]).is_err());
    let mut c = XorChunk::new();
    c.append(1, 1.0).unwrap();
    c.append(2, 3.0).unwrap();
    let mut b = c.bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last |= 1; // the padding bit
    }
    assert!(XorChunk::from_bytes(&b).is_err(), "non-zero padding");
    let mut it = XorIter::new(&[0, 5, 0x80]);
    assert_eq!(it.next(), None);
    assert!(it.error().is_some());
}

/// A small deterministic generator for the data sets below.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Bytes per sample at a 10 s step, cutting a new chunk whenever one is full.
fn bytes_per_sample(values: &[f64], gorilla_windows: bool) -> f64 {
    let mut total = 0;
    let mut c = XorChunk::new();
    let t0 = 1_700_000_000_000i64;
    for (i, &v) in values.iter().enumerate() {
        let t = t0 + i as i64 * 10_000;
        if c.append(t, v) == Err(AppendError::Full) {
            total += c.bytes().len();
            c = XorChunk::new();
            c.append(t, v).unwrap();
        }
        if gorilla_windows && c.len() == 1 {
            c = c.with_reuse_any_fit();
        }
    }
    total += c.bytes().len();
    total as f64 / values.len() as f64
}

/// Two hours at a 10 s step of `f(i, previous value, rng)`.
fn series(f: impl Fn(usize, f64, &mut SplitMix) -> f64) -> Vec<f64> {
    let mut rng = SplitMix(42);
    let mut prev = 0.0;
    (0..720)
        .map(|i| {
            prev = f(i, prev, &mut rng);
            prev
        })
        .collect()
}

#[test]
fn compression_figures() {
    let wave = |i: usize| (i as f64 / 60.0).sin();
    // (name, values, upper bound in bytes per sample). Without the one-bit code for "same step,
    // same value" a constant would cost 0.33 bytes a sample, over its bound.
    let sets = [
        ("constant", series(|_, _, _| 1.0), 0.3),
        ("counter, +0..2 a step", series(|_, p, r| p.max(1e6) + (r.next() % 3) as f64), 1.3),
        ("counter, +0..20 a step", series(|_, p, r| p.max(1e6) + (r.next() % 21) as f64), 2.0),
        ("counter, bytes at ~1 MB/s", series(|_, p, r| p.max(1e12) + (1e7 + (r.next() % 1_000_000) as f64)), 5.0),
        ("gauge, integer with noise", series(|i, _, r| (500.0 + 40.0 * wave(i) + r.unit() * 6.0).round()), 2.0),
        (
            "gauge, 2 decimals with noise",
            series(|i, _, r| ((50.0 + 5.0 * wave(i) + r.unit()) * 100.0).round() / 100.0),
            8.0,
        ),
        (
            "gauge, integer, one 0.1 spike",
            series(|i, _, r| if i == 3 { 0.1 } else { (100.0 + r.unit() * 4.0).round() }),
            1.5,
        ),
    ];
    let mut spike = (0.0, 0.0);
    for (name, values, bound) in sets {
        let ours = bytes_per_sample(&values, false);
        let gorilla = bytes_per_sample(&values, true);
        eprintln!("{name:32} {ours:.3} bytes/sample (Gorilla's window rule: {gorilla:.3})");
        assert!(ours < bound, "{name}: {ours:.3} bytes/sample, bound {bound}");
        assert!(ours <= gorilla * 1.02, "{name}: the window rule should not cost more than 2%");
        if name.contains("spike") {
            spike = (ours, gorilla);
        }
    }
    assert!(spike.0 < spike.1 * 0.8, "narrowing the window after a spike should pay: {spike:?}");
}

#[test]
fn quick_timing() {
    let values = series(|i, _, r| (500.0 + 40.0 * (i as f64 / 60.0).sin() + r.unit() * 6.0).round());
    let start = std::time::Instant::now();
    let mut c = XorChunk::new();
    for (i, &v) in values.iter().take(MAX_SAMPLES).enumerate() {
        c.append(i as i64 * 10_000, v).unwrap();
    }
    let encode = start.elapsed();
    let start = std::time::Instant::now();
    let sum: f64 = c.iter().map(|s| s.1).sum();
    let decode = start.elapsed();
    assert!(sum > 0.0);
    let per = |d: std::time::Duration| d.as_nanos() as f64 / c.len() as f64;
    eprintln!("encode {:.0} ns/sample, decode {:.0} ns/sample (unoptimised in debug builds)", per(encode), per(decode));
}
