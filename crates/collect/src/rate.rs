//! Counters to per-second rates.

/// The increase of a monotonic counter from `prev` to `cur`. A counter that went backwards
/// (device removed and re-added, a 32-bit wrap, a process replaced) counts as no increase:
/// a rate is never negative.
pub fn counter_delta(prev: u64, cur: u64) -> u64 {
    cur.saturating_sub(prev)
}

/// The per-second rate of a counter that went from `prev` to `cur` over `secs` seconds;
/// 0 when the counter went backwards or no time passed.
pub fn rate(prev: u64, cur: u64, secs: f64) -> f64 {
    if secs > 0.0 { counter_delta(prev, cur) as f64 / secs } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backwards_counter_is_zero() {
        assert_eq!(rate(100, 50, 1.0), 0.0);
        assert_eq!(rate(u64::MAX, 0, 1.0), 0.0);
        assert_eq!(rate(100, 350, 2.5), 100.0);
        assert_eq!(rate(1, 2, 0.0), 0.0);
    }

    proptest! {
        #[test]
        fn rate_is_never_negative(prev: u64, cur: u64, secs in 0.0f64..1e6) {
            let r = rate(prev, cur, secs);
            prop_assert!(r >= 0.0 && r.is_finite());
        }
    }
}
