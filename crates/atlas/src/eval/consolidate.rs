//! Consolidation: the raw samples of one series become one value per grid interval.
//!
//! Design decision: a sample at `t` belongs to the interval stamped `ceil(t / step) * step`,
//! the end of the interval `(T - step, T]` it falls in, which is how Atlas stamps intervals
//! (see the alignment rule in [`crate::eval`]). One pass keeps only what `cf` needs (a running
//! value and a count per interval), and the interval of the previous sample
//! is reused while samples stay in it, so sorted input (what stores give) costs no division per
//! sample; an interval without a sample is NaN, never 0.

use super::{EvalContext, RawSeries};
use crate::expr::Consolidation;

/// The samples of `raw` consolidated with `cf` onto the grid of `grid`: one value per grid
/// point, NaN where no (non-NaN) sample falls in the interval.
pub(crate) fn consolidate(raw: &RawSeries, grid: &EvalContext, cf: Consolidation) -> Vec<f64> {
    let len = grid.len();
    let step = grid.step_ms();
    // An interval's value stays NaN until its first sample (count 0).
    let mut acc = vec![f64::NAN; len];
    let mut counts = vec![0u32; len];
    // The interval `(end - step, end]` of the previous sample and its index (None: off the grid).
    let mut current: Option<(i64, Option<usize>)> = None;
    for (&t, &v) in raw.timestamps.iter().zip(&raw.values) {
        if v.is_nan() {
            continue;
        }
        let index = match current {
            Some((end, index)) if t <= end && t > end.saturating_sub(step) => index,
            _ => {
                let Some(end) = t.checked_add(step - 1).and_then(|t| t.div_euclid(step).checked_mul(step)) else {
                    continue;
                };
                let index = end
                    .checked_sub(grid.start_ms())
                    .filter(|d| *d >= 0)
                    .and_then(|d| usize::try_from(d / step).ok())
                    .filter(|i| *i < len);
                current = Some((end, index));
                index
            }
        };
        let Some(i) = index else { continue };
        if let (Some(a), Some(c)) = (acc.get_mut(i), counts.get_mut(i)) {
            *a = match cf {
                _ if *c == 0 && matches!(cf, Consolidation::Avg | Consolidation::Sum) => 0.0 + v,
                _ if *c == 0 => v,
                Consolidation::Avg | Consolidation::Sum => *a + v,
                Consolidation::Min => a.min(v),
                Consolidation::Max => a.max(v),
            };
            *c += 1;
        }
    }
    if cf == Consolidation::Avg {
        for (a, &c) in acc.iter_mut().zip(&counts) {
            if c > 0 {
                *a /= f64::from(c);
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(samples: &[(i64, f64)]) -> RawSeries {
        RawSeries {
            tags: Default::default(),
            timestamps: samples.iter().map(|s| s.0).collect(),
            values: samples.iter().map(|s| s.1).collect(),
        }
    }

    fn assert_values(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!(a == e || a.is_nan() && e.is_nan(), "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn samples_count_at_the_end_of_their_interval() {
        // Grid 60s, 120s, 180s: intervals (0,60], (60,120], (120,180].
        let grid = EvalContext::new(60_000, 180_000, 60_000).unwrap();
        let series = raw(&[(0, 100.0), (1, 1.0), (60_000, 2.0), (60_001, 10.0), (120_000, 20.0), (180_000, 7.0)]);
        assert_values(&consolidate(&series, &grid, Consolidation::Sum), &[3.0, 30.0, 7.0]);
        let late = raw(&[(180_001, 5.0), (-5, 9.0)]);
        assert_values(&consolidate(&late, &grid, Consolidation::Sum), &[f64::NAN, f64::NAN, f64::NAN]);
    }

    #[test]
    fn each_consolidation_function() {
        let grid = EvalContext::new(60_000, 120_000, 60_000).unwrap();
        let series = raw(&[(10_000, 1.0), (20_000, 4.0), (30_000, f64::NAN), (70_000, 3.0)]);
        assert_values(&consolidate(&series, &grid, Consolidation::Avg), &[2.5, 3.0]);
        assert_values(&consolidate(&series, &grid, Consolidation::Sum), &[5.0, 3.0]);
        assert_values(&consolidate(&series, &grid, Consolidation::Min), &[1.0, 3.0]);
        assert_values(&consolidate(&series, &grid, Consolidation::Max), &[4.0, 3.0]);
    }

    #[test]
    fn empty_intervals_are_nan_and_extremes_do_not_overflow() {
        let grid = EvalContext::new(60_000, 240_000, 60_000).unwrap();
        let series = raw(&[(119_000, -2.0), (i64::MAX, 1.0), (i64::MIN, 1.0)]);
        assert_values(&consolidate(&series, &grid, Consolidation::Avg), &[f64::NAN, -2.0, f64::NAN, f64::NAN]);
    }

    /// The rule stated plainly: every sample's interval computed on its own, all four running
    /// values kept.
    fn reference(raw: &RawSeries, grid: &EvalContext, cf: Consolidation) -> Vec<f64> {
        let (len, step) = (grid.len(), grid.step_ms());
        let mut cells = vec![(0.0, 0u32, f64::INFINITY, f64::NEG_INFINITY); len];
        for (&t, &v) in raw.timestamps.iter().zip(&raw.values) {
            let Some(end) = t.checked_add(step - 1).map(|t| t.div_euclid(step) * step) else { continue };
            let d = end - grid.start_ms();
            if v.is_nan() || d < 0 || (d / step) as usize >= len {
                continue;
            }
            let c = &mut cells[(d / step) as usize];
            *c = (c.0 + v, c.1 + 1, c.2.min(v), c.3.max(v));
        }
        cells
            .iter()
            .map(|&(sum, count, min, max)| match cf {
                _ if count == 0 => f64::NAN,
                Consolidation::Avg => sum / f64::from(count),
                Consolidation::Sum => sum,
                Consolidation::Min => min,
                Consolidation::Max => max,
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn matches_the_plain_rule(
            mut samples in proptest::collection::vec((0i64..400_000, proptest::option::weighted(0.9, -1e6f64..1e6)), 0..200),
            sorted in proptest::bool::ANY,
            step in 1i64..90_000,
            cf in proptest::sample::select(vec![Consolidation::Avg, Consolidation::Sum, Consolidation::Min, Consolidation::Max]),
        ) {
            if sorted {
                samples.sort_by_key(|s| s.0);
            }
            let series = raw(&samples.iter().map(|&(t, v)| (t, v.unwrap_or(f64::NAN))).collect::<Vec<_>>());
            let grid = EvalContext::new(50_000, 350_000, step).unwrap();
            let (got, want) = (consolidate(&series, &grid, cf), reference(&series, &grid, cf));
            proptest::prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                proptest::prop_assert!(g.to_bits() == w.to_bits() || g.is_nan() && w.is_nan(), "{got:?} vs {want:?}");
            }
        }
    }
}
