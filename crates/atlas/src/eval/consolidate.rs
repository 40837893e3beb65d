//! Consolidation: the raw samples of one series become one value per grid interval.
//!
//! Design decision: a sample at `t` belongs to the interval stamped `ceil(t / step) * step`,
//! the end of the interval `(T - step, T]` it falls in, which is how Atlas stamps intervals
//! (see the alignment rule in [`crate::eval`]). Each interval keeps a running sum, count,
//! minimum and maximum, so one pass serves every consolidation function; an interval without
//! a sample is NaN, never 0.

use super::{EvalContext, RawSeries};
use crate::expr::Consolidation;

/// The samples of `raw` consolidated with `cf` onto the grid of `grid`: one value per grid
/// point, NaN where no (non-NaN) sample falls in the interval.
pub(crate) fn consolidate(raw: &RawSeries, grid: &EvalContext, cf: Consolidation) -> Vec<f64> {
    let len = grid.len();
    let step = grid.step_ms();
    let mut sums = vec![0.0; len];
    let mut counts = vec![0u32; len];
    let mut mins = vec![f64::INFINITY; len];
    let mut maxs = vec![f64::NEG_INFINITY; len];
    for (&t, &v) in raw.timestamps.iter().zip(&raw.values) {
        if v.is_nan() {
            continue;
        }
        let Some(end) = t.checked_add(step - 1).and_then(|t| t.div_euclid(step).checked_mul(step)) else { continue };
        let Some(index) = end.checked_sub(grid.start_ms()).map(|d| d / step) else { continue };
        let Ok(i) = usize::try_from(index) else { continue };
        if end < grid.start_ms() || i >= len {
            continue;
        }
        if let (Some(sum), Some(count), Some(min), Some(max)) =
            (sums.get_mut(i), counts.get_mut(i), mins.get_mut(i), maxs.get_mut(i))
        {
            *sum += v;
            *count += 1;
            *min = min.min(v);
            *max = max.max(v);
        }
    }
    (0..len)
        .map(|i| {
            let count = counts.get(i).copied().unwrap_or(0);
            if count == 0 {
                return f64::NAN;
            }
            let pick = |values: &[f64]| values.get(i).copied().unwrap_or(f64::NAN);
            match cf {
                Consolidation::Avg => pick(&sums) / f64::from(count),
                Consolidation::Sum => pick(&sums),
                Consolidation::Min => pick(&mins),
                Consolidation::Max => pick(&maxs),
            }
        })
        .collect()
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
}
