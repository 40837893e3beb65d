//! Tests of the block chunks: every encoding round-trips bit for bit, the chooser picks what it
//! should, the limits hold, and no bytes make the decoder panic.

use super::*;
use proptest::prelude::*;

fn bits(samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
    samples.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

/// Strictly increasing timestamps from a start and gaps, stopping before `i64` overflows.
fn times(start: i64, gaps: &[u64]) -> Vec<i64> {
    let mut out = vec![start];
    for &g in gaps {
        match out.last().and_then(|t: &i64| t.checked_add_unsigned(g)) {
            Some(t) => out.push(t),
            None => break,
        }
    }
    out
}

fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![4 => Just(10_000u64), 2 => 9_990u64..10_010, 1 => (1u64..30).prop_map(|k| k * 10_000), 1 => 1u64..=u64::MAX]
}

fn special() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![
        f64::from_bits(0x7ff0_0000_0000_0002), // Prometheus's stale marker
        f64::NAN,
        -f64::NAN,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE / 4.0,
        f64::MAX,
        f64::MIN,
        9_223_372_036_854_775_808.0, // 2⁶³, just past i64
    ])
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => any::<u64>().prop_map(f64::from_bits),
        2 => (-2000i64..2000).prop_map(|x| x as f64),
        1 => (-100_000i64..100_000).prop_map(|x| x as f64 / 100.0),
        1 => special(),
    ]
}

/// Encodes in `enc` and decodes; the decoded samples, or the pack error.
fn through(enc: Encoding, samples: &[(i64, f64)]) -> Result<Vec<(i64, u64)>, PackError> {
    let c = PackedChunk::encode_as(enc, samples)?;
    assert_eq!(c.encoding(), enc);
    assert_eq!(packed_len(c.bytes()).unwrap(), samples.len());
    Ok(bits(&decode_packed(c.bytes()).unwrap_or_else(|e| panic!("{enc:?}: {e}"))))
}

/// Samples from timestamps and values, as many as both give.
fn zip(ts: &[i64], vs: &[f64]) -> Vec<(i64, f64)> {
    ts.iter().copied().zip(vs.iter().copied()).collect()
}

proptest! {
    #[test]
    fn every_encoding_round_trips_or_refuses(start in any::<i64>(), gaps in prop::collection::vec(gap(), 0..500),
                                             vals in prop::collection::vec(any_value(), 501)) {
        let samples = zip(&times(start, &gaps), &vals);
        let want = bits(&samples);
        for enc in Encoding::ALL {
            match through(enc, &samples) {
                Ok(got) => prop_assert_eq!(&got, &want, "{:?}", enc),
                Err(PackError::NotRepresentable { .. }) => {
                    prop_assert!(!matches!(enc, Encoding::Xor | Encoding::FloatBits), "{:?} holds anything", enc)
                }
                Err(e) => prop_assert!(false, "{:?}: {}", enc, e),
            }
        }
        let best = PackedChunk::encode(&samples).unwrap();
        prop_assert_eq!(bits(&decode_packed(best.bytes()).unwrap()), want);
        for enc in Encoding::ALL {
            if let Ok(c) = PackedChunk::encode_as(enc, &samples) {
                prop_assert!(best.bytes().len() <= c.bytes().len(), "{:?} is smaller than the choice", enc);
            }
        }
    }

    #[test]
    fn integers_pack_as_integers(start in -1i64 << 50..1 << 50, gaps in prop::collection::vec(gap(), 1..300),
                                 vals in prop::collection::vec(prop_oneof![any::<i32>().prop_map(i64::from),
                                     -(1i64 << 53)..1 << 53, Just(i64::MIN)], 301)) {
        let vs: Vec<f64> = vals.iter().map(|&v| v as f64).collect();
        let samples = zip(&times(start, &gaps), &vs);
        prop_assert_eq!(through(Encoding::Integer, &samples), Ok(bits(&samples)));
    }

    #[test]
    fn k_decimals_pack_as_decimals(k in 1u32..=6, gaps in prop::collection::vec(gap(), 1..300),
                                   vals in prop::collection::vec(-1_000_000_000i64..1_000_000_000, 301)) {
        let p = 10f64.powi(k as i32);
        let vs: Vec<f64> = vals.iter().map(|&m| m as f64 / p).collect();
        let samples = zip(&times(0, &gaps), &vs);
        prop_assert_eq!(through(Encoding::Decimal, &samples), Ok(bits(&samples)));
        let c = PackedChunk::encode_as(Encoding::Decimal, &samples).unwrap();
        // The decimal places are right after the count and the timestamps; at most `k` are used.
        prop_assert!(c.bytes().len() < PackedChunk::encode_as(Encoding::FloatBits, &samples).unwrap().bytes().len()
            || vals.iter().all(|m| m % 10 == 0));
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..800), enc in 0u8..6, n in 1u16..5000) {
        let _ = decode_packed(&bytes);
        let mut framed = vec![enc];
        let mut w = super::bitstream::BitWriter::default();
        w.write_uvarint(u64::from(n));
        framed.extend_from_slice(w.as_bytes());
        framed.extend_from_slice(&bytes);
        if let Ok(s) = decode_packed(&framed) {
            prop_assert_eq!(s.len(), usize::from(n));
            prop_assert!(s.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn damaged_chunks_never_panic(gaps in prop::collection::vec(gap(), 1..200), vals in prop::collection::vec(any_value(), 200),
                                  at in any::<prop::sample::Index>(), flip in 1u8..=255, cut in any::<prop::sample::Index>()) {
        let samples = zip(&times(0, &gaps), &vals);
        for enc in Encoding::ALL {
            let Ok(c) = PackedChunk::encode_as(enc, &samples) else { continue };
            let mut b = c.bytes().to_vec();
            let i = at.index(b.len());
            b[i] ^= flip;
            let _ = decode_packed(&b);
            let _ = decode_packed(&c.bytes()[..cut.index(c.bytes().len())]);
        }
    }
}

/// Two hours at a 10 s step.
fn two_hours(f: impl Fn(i64) -> f64) -> Vec<(i64, f64)> {
    (0..720).map(|i| (1_700_000_000_000 + i * 10_000, f(i))).collect()
}

/// A small deterministic generator.
fn noise(i: i64, salt: u64) -> u64 {
    let mut z = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn the_chooser_picks_integers_for_a_counter_and_saves_on_xor() {
    let counter = two_hours(|i| (1_000_000 + (0..i).map(|j| 50 + noise(j, 1) % 40).sum::<u64>()) as f64);
    let best = PackedChunk::encode(&counter).unwrap();
    assert_eq!(best.encoding(), Encoding::Integer);
    let xor = PackedChunk::encode_as(Encoding::Xor, &counter).unwrap();
    assert!(best.bytes().len() * 2 < xor.bytes().len(), "{} vs XOR {}", best.bytes().len(), xor.bytes().len());
    // Deltas 50..=89 in 6-bit frames: 720 × 6 bits and a few bytes of headers.
    assert!(best.bytes().len() < 720 * 6 / 8 + 40, "{}", best.bytes().len());
}

#[test]
fn the_chooser_picks_what_fits_each_shape() {
    type Case = (&'static str, Vec<(i64, f64)>, Encoding);
    let cases: [Case; 5] = [
        ("constant", two_hours(|_| 1.0 / 3.0), Encoding::Constant),
        ("constant NaN", two_hours(|_| f64::from_bits(0x7ff0_0000_0000_0002)), Encoding::Constant),
        ("2 decimals", two_hours(|i| (noise(i, 2) % 100_000) as f64 / 100.0), Encoding::Decimal),
        ("integers and one -0.0", two_hours(|i| if i == 7 { -0.0 } else { (noise(i, 3) % 9) as f64 }), Encoding::Xor),
        ("noisy floats", two_hours(|i| 1000.0 + (noise(i, 4) >> 11) as f64 / (1u64 << 53) as f64), Encoding::FloatBits),
    ];
    for (name, samples, want) in cases {
        let c = PackedChunk::encode(&samples).unwrap();
        assert_eq!(c.encoding(), want, "{name}");
        assert_eq!(bits(&decode_packed(c.bytes()).unwrap()), bits(&samples), "{name}");
    }
    // A constant on a regular step: count, t_0, the step and the value, no bits a sample.
    let c = PackedChunk::encode(&two_hours(|_| 1.0 / 3.0)).unwrap();
    assert_eq!(c.bytes().len(), 1 + 2 + 1 + 6 + 3 + 8);
    // An integer constant is cheaper still as integers: the value is the reference, once.
    let c = PackedChunk::encode(&two_hours(|_| 1500.0)).unwrap();
    assert_eq!(c.encoding(), Encoding::Integer);
    assert_eq!(c.bytes().len(), 1 + 2 + 6 + 3 + 2 + 1);
}

#[test]
fn limits_and_bad_input() {
    assert_eq!(PackedChunk::encode(&[]), Err(PackError::Empty));
    assert_eq!(PackedChunk::encode(&[(1, 1.0), (1, 2.0)]), Err(PackError::NotIncreasing { at: 1 }));
    let many: Vec<_> = (0..=MAX_PACKED_SAMPLES as i64).map(|i| (i, 1.0)).collect();
    assert_eq!(PackedChunk::encode(&many), Err(PackError::TooMany { n: MAX_PACKED_SAMPLES + 1 }));
    assert_eq!(
        PackedChunk::encode_as(Encoding::Integer, &[(1, 0.5)]),
        Err(PackError::NotRepresentable { encoding: Encoding::Integer })
    );
    // Random bit patterns cost about 8 bytes a sample: 4096 of them pass the byte limit.
    let random: Vec<_> = (0..MAX_PACKED_SAMPLES as i64).map(|i| (i, f64::from_bits(noise(i, 5)))).collect();
    assert!(matches!(PackedChunk::encode(&random), Err(PackError::TooLarge { .. })));

    assert!(decode_packed(&[]).is_err());
    assert!(decode_packed(&[9, 1]).is_err(), "unknown encoding");
    assert!(decode_packed(&[0, 0]).is_err(), "no samples");
    assert!(decode_packed(&vec![0; MAX_PACKED_BYTES + 1]).is_err());
    let c = PackedChunk::encode(&[(5, 1.0), (6, 2.0)]).unwrap();
    let mut b = c.bytes().to_vec();
    b.push(0);
    assert!(decode_packed(&b).is_err(), "a byte after the last value");
}

#[test]
fn series_are_cut_within_the_limits() {
    // 10,000 samples of random bits: more than one chunk by count, and by bytes.
    let samples: Vec<_> = (0..10_000i64).map(|i| (i * 1000, f64::from_bits(noise(i, 6)))).collect();
    let chunks = pack_series(&samples).unwrap();
    assert!(chunks.len() >= 5, "{}", chunks.len());
    let mut back = Vec::new();
    for c in &chunks {
        assert!(c.len() <= MAX_PACKED_SAMPLES && c.bytes().len() <= MAX_PACKED_BYTES);
        let s = decode_packed(c.bytes()).unwrap();
        assert_eq!((s.first().map(|s| s.0), s.last().map(|s| s.0)), (Some(c.first_time()), Some(c.last_time())));
        back.extend(s);
    }
    assert_eq!(bits(&back), bits(&samples));
    // A cheap series is cut by count alone, evenly.
    let cheap: Vec<_> = (0..10_000i64).map(|i| (i * 1000, 1.0)).collect();
    let lens: Vec<usize> = pack_series(&cheap).unwrap().iter().map(PackedChunk::len).collect();
    assert_eq!(lens, [3334, 3334, 3332]);
    assert_eq!(pack_series(&[]).unwrap(), []);
}
