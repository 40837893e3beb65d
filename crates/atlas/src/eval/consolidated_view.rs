//! Filter's `:consolidate`: a line shown on the graph's grid as if it had a larger step, each
//! point taking the consolidated value of the bucket it falls in (Atlas's `consolidatedView`).
//!
//! The new step is first rounded up to a multiple of the graph's step (a step smaller than the
//! graph's is kept as it is). A bucket of step `S` is stamped with its end `E`, a multiple of
//! `S`, and covers the graph points `E - S < t <= E`, as the grid's own intervals do; every
//! graph point in the bucket shows the bucket's value: the sum (`sum`), the mean of the values
//! present (`avg`, as Atlas averages gauges: plumb does not know which lines are rates), the
//! minimum or the maximum of its non-NaN points, NaN if it has none. A step no larger than the
//! graph's leaves the line as it is, and must divide the graph's step, as Atlas requires.
//!
//! Design decision: a bucket's points are contiguous on the grid, so one pass groups them and
//! the cost is linear in the line whatever the new step; points of a bucket outside the graph's
//! range are not fetched and count as missing, as they do in Atlas.

use crate::error::Reason;
use crate::expr::{Consolidation, add_nan, max_nan, min_nan};

/// `values` (one per `step_ms` from `start_ms`) consolidated with `cf` to buckets of
/// `new_step_ms` rounded up to a multiple of `step_ms`, shown on the original grid.
pub(crate) fn consolidated_view(
    values: &[f64],
    start_ms: i64,
    step_ms: i64,
    cf: Consolidation,
    new_step_ms: i64,
) -> Result<Vec<f64>, Reason> {
    let step_ms = step_ms.max(1);
    if new_step_ms <= 0 {
        return Err(Reason::Evaluation(format!(":consolidate: the new step must be positive, got {new_step_ms} ms")));
    }
    let bucket_ms = round_up_to_multiple(new_step_ms, step_ms);
    if bucket_ms <= step_ms {
        if step_ms % bucket_ms != 0 {
            return Err(Reason::Evaluation(format!(
                ":consolidate: the step {bucket_ms} ms must be a multiple or a divisor of the graph's step {step_ms} ms"
            )));
        }
        return Ok(values.to_vec());
    }
    let bucket_end = |i: usize| -> i64 {
        let t =
            i64::try_from(i).ok().and_then(|i| i.checked_mul(step_ms)).map_or(i64::MAX, |d| start_ms.saturating_add(d));
        let floor = t.div_euclid(bucket_ms).saturating_mul(bucket_ms);
        if floor == t { t } else { floor.saturating_add(bucket_ms) }
    };
    let mut out = Vec::with_capacity(values.len());
    let mut first = 0;
    while first < values.len() {
        let end = bucket_end(first);
        let mut last = first + 1;
        while last < values.len() && bucket_end(last) == end {
            last += 1;
        }
        let bucket = values.get(first..last).unwrap_or(&[]);
        let value = combine(cf, bucket);
        out.extend(std::iter::repeat_n(value, bucket.len()));
        first = last;
    }
    Ok(out)
}

/// `value` if it is below `multiple` or a multiple of it, else the next multiple up (Atlas's
/// `roundToEvenMultiple`).
fn round_up_to_multiple(value: i64, multiple: i64) -> i64 {
    if value < multiple || value % multiple == 0 {
        value
    } else {
        (value / multiple).saturating_add(1).saturating_mul(multiple)
    }
}

/// One bucket's value: NaN if no point is present.
fn combine(cf: Consolidation, bucket: &[f64]) -> f64 {
    let present = bucket.iter().filter(|v| !v.is_nan()).count();
    let fold = |f: fn(f64, f64) -> f64| bucket.iter().fold(f64::NAN, |acc, v| f(acc, *v));
    match cf {
        Consolidation::Sum => fold(add_nan),
        Consolidation::Avg if present == 0 => f64::NAN,
        Consolidation::Avg => fold(add_nan) / present as f64,
        Consolidation::Min => fold(min_nan),
        Consolidation::Max => fold(max_nan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_values::same;

    const NAN: f64 = f64::NAN;
    const MINUTE: i64 = 60_000;

    fn view(values: &[f64], start_minute: i64, cf: Consolidation, new_step_ms: i64) -> Vec<f64> {
        consolidated_view(values, start_minute * MINUTE, MINUTE, cf, new_step_ms).unwrap()
    }

    #[test]
    fn buckets_end_on_multiples_of_the_new_step() {
        // Grid 1m..6m; 3m buckets: (0,3] holds 1m-3m, (3,6] holds 4m-6m.
        let values = [1.0, 2.0, 6.0, NAN, 4.0, 8.0];
        assert!(same(&view(&values, 1, Consolidation::Sum, 3 * MINUTE), &[9.0, 9.0, 9.0, 12.0, 12.0, 12.0]));
        assert!(same(&view(&values, 1, Consolidation::Avg, 3 * MINUTE), &[3.0, 3.0, 3.0, 6.0, 6.0, 6.0]));
        assert!(same(&view(&values, 1, Consolidation::Min, 3 * MINUTE), &[1.0, 1.0, 1.0, 4.0, 4.0, 4.0]));
        assert!(same(&view(&values, 1, Consolidation::Max, 3 * MINUTE), &[6.0, 6.0, 6.0, 8.0, 8.0, 8.0]));
        // Starting at 0m: the bucket (-3,0] holds only 0m.
        assert!(same(&view(&[1.0, 2.0, 3.0, 4.0], 0, Consolidation::Sum, 3 * MINUTE), &[1.0, 9.0, 9.0, 9.0]));
    }

    #[test]
    fn steps_round_up_and_small_steps_change_nothing() {
        assert_eq!(round_up_to_multiple(5 * MINUTE, 2 * MINUTE), 6 * MINUTE);
        assert_eq!(round_up_to_multiple(30_000, MINUTE), 30_000);
        let values = [1.0, NAN, 3.0];
        assert!(same(&view(&values, 1, Consolidation::Avg, 30_000), &values));
        assert!(same(&view(&values, 1, Consolidation::Avg, MINUTE), &values));
        assert!(consolidated_view(&values, 0, MINUTE, Consolidation::Avg, 45_000).is_err(), "45s does not divide 1m");
        assert!(consolidated_view(&values, 0, MINUTE, Consolidation::Avg, 0).is_err());
        let empty = [NAN, NAN, 5.0, NAN];
        assert!(same(&view(&empty, 1, Consolidation::Avg, 2 * MINUTE), &[NAN, NAN, 5.0, 5.0]));
        assert!(same(&view(&empty, 1, Consolidation::Sum, 90_000), &[NAN, NAN, 5.0, 5.0]), "90s rounds up to 2m");
    }
}
