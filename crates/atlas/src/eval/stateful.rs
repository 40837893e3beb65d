//! Evaluating the `stateful` vocabulary (and filter's `:consolidate`, which shares its node):
//! each line of the input is run through its operation in time order, over the graph's grid
//! only. DES is in [`super::des`], `:consolidate` in [`super::consolidated_view`].
//!
//! Warm-up: Atlas fetches extra data before the graph's start so that a window is already full
//! at the first point. plumb evaluates only the graph's range, so windows near the start see
//! fewer points: `5,:rolling-sum` sums the points present so far, `:trend` stays NaN until its
//! window is full, `:delay` starts with NaN, `:integral` starts from 0 at the graph's start and
//! the first `:derivative` is NaN, `:cumulative-max` starts at the graph's start and `:des`
//! trains on the graph's first points. This is also what Atlas's graph API does: its stateful
//! expressions bound their input to the graph's range (`OnlineExpr.eval`), and its docs show
//! the gap before the first DES prediction.
//!
//! Design decision: every operation is a pure function from a line's values to new values of
//! the same length ([`apply`]), linear in the length whatever the window (running sums and
//! counts, monotonic deques for min and max), so a window of 2^31 points costs no more than one
//! of 5. Lines keep their tags and label, as unary operators keep their tags.

use std::collections::VecDeque;

use super::consolidated_view::consolidated_view;
use super::des::{des, sliding_des};
use super::{Evaluator, TimeSeries};
use crate::error::Reason;
use crate::expr::{Expr, StatefulOp, max_nan};

impl Evaluator<'_> {
    /// Each line of `expr` through `op`.
    pub(crate) fn eval_stateful(&mut self, expr: &Expr, op: StatefulOp) -> Result<Vec<TimeSeries>, Reason> {
        let (start_ms, step_ms) = (self.context.start_ms(), self.context.step_ms());
        let mut lines = self.eval(expr)?;
        for line in &mut lines {
            line.values = apply(op, &line.values, start_ms, step_ms)?;
        }
        Ok(lines)
    }
}

/// `op` over `values` (one per step of `step_ms`, the first at `start_ms`), first to last; the
/// result has the same length. Fails only for a `:consolidate` step that does not fit the
/// graph's.
pub(crate) fn apply(op: StatefulOp, values: &[f64], start_ms: i64, step_ms: i64) -> Result<Vec<f64>, Reason> {
    Ok(match op {
        StatefulOp::RollingCount(n) => {
            let hits: Vec<f64> = values.iter().map(|v| if *v != 0.0 && !v.is_nan() { 1.0 } else { 0.0 }).collect();
            window_sums(&hits, n).into_iter().map(|(sum, _)| sum).collect()
        }
        StatefulOp::RollingMin(n) => rolling_extreme(values, n, |candidate, kept| candidate <= kept),
        StatefulOp::RollingMax(n) => rolling_extreme(values, n, |candidate, kept| candidate >= kept),
        StatefulOp::RollingSum(n) => {
            window_sums(values, n).into_iter().map(|(sum, count)| if count == 0 { f64::NAN } else { sum }).collect()
        }
        StatefulOp::RollingMean { n, min_values } => window_sums(values, n)
            .into_iter()
            .map(|(sum, count)| if count == 0 || count < min_values { f64::NAN } else { sum / count as f64 })
            .collect(),
        StatefulOp::Delay(n) => (0..values.len())
            .map(|i| i.checked_sub(n).and_then(|j| values.get(j)).copied().unwrap_or(f64::NAN))
            .collect(),
        StatefulOp::Integral => values
            .iter()
            .scan(0.0, |total, v| {
                if !v.is_nan() {
                    *total += v;
                }
                Some(*total)
            })
            .collect(),
        StatefulOp::CumulativeMax => values
            .iter()
            .scan(f64::NAN, |max, v| {
                *max = max_nan(*max, *v);
                Some(*max)
            })
            .collect(),
        StatefulOp::Derivative => {
            let zeroed = |v: f64| if v.is_nan() { 0.0 } else { v };
            let mut previous: Option<f64> = None;
            values
                .iter()
                .map(|v| {
                    let current = zeroed(*v);
                    let out = previous.map_or(f64::NAN, |p| current - p);
                    previous = Some(current);
                    out
                })
                .collect()
        }
        StatefulOp::Trend { window_ms } => {
            let n = usize::try_from(window_ms / step_ms.max(1)).unwrap_or(0);
            if n <= 1 {
                return Ok(values.to_vec());
            }
            window_sums(values, n)
                .into_iter()
                .enumerate()
                .map(|(i, (sum, count))| if i + 1 < n || count == 0 { f64::NAN } else { sum / n as f64 })
                .collect()
        }
        StatefulOp::Des { training, alpha, beta } => des(values, training, alpha, beta),
        StatefulOp::SlidingDes { training, alpha, beta } => {
            sliding_des(values, training, alpha, beta, start_ms, step_ms)
        }
        StatefulOp::Consolidate { cf, step_ms: new_step_ms } => {
            consolidated_view(values, start_ms, step_ms, cf, new_step_ms)?
        }
    })
}

/// For each point, the sum and the number of the non-NaN values among it and the `n - 1`
/// before it (fewer at the start). The sum is recomputed from the window's values whenever it
/// returns to no values, so a long line does not carry rounding from points long gone.
fn window_sums(values: &[f64], n: usize) -> Vec<(f64, usize)> {
    let n = n.max(1);
    let mut out = Vec::with_capacity(values.len());
    let (mut sum, mut count) = (0.0, 0usize);
    for (i, v) in values.iter().enumerate() {
        if !v.is_nan() {
            sum += v;
            count += 1;
        }
        if let Some(gone) = i.checked_sub(n).and_then(|j| values.get(j))
            && !gone.is_nan()
        {
            sum -= gone;
            count -= 1;
        }
        if count == 0 {
            sum = 0.0;
        }
        out.push((sum, count));
    }
    out
}

/// For each point, the extreme of the non-NaN values among it and the `n - 1` before it (NaN
/// if there are none): a monotonic deque of indices, where `dominates(a, b)` says `a` makes `b`
/// useless (`<=` for the minimum, `>=` for the maximum).
fn rolling_extreme(values: &[f64], n: usize, dominates: fn(f64, f64) -> bool) -> Vec<f64> {
    let n = n.max(1);
    let mut kept: VecDeque<(usize, f64)> = VecDeque::new();
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        if !v.is_nan() {
            while kept.back().is_some_and(|(_, last)| dominates(*v, *last)) {
                kept.pop_back();
            }
            kept.push_back((i, *v));
        }
        while kept.front().is_some_and(|(j, _)| j + n <= i) {
            kept.pop_front();
        }
        out.push(kept.front().map_or(f64::NAN, |(_, v)| *v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_values::same;

    const NAN: f64 = f64::NAN;
    const MINUTE: i64 = 60_000;

    fn check(op: StatefulOp, input: &[f64], expected: &[f64]) {
        let got = apply(op, input, 0, MINUTE).unwrap();
        assert!(same(&got, expected), "{op:?}: {got:?} != {expected:?}");
    }

    /// The input column of the rolling-* tables in Atlas's reference pages.
    const ROLLING_INPUT: [f64; 10] = [0.0, 1.0, -1.0, NAN, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0];

    #[test]
    fn rolling_count_min_max_as_documented() {
        check(StatefulOp::RollingCount(3), &ROLLING_INPUT, &[0.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]);
        check(StatefulOp::RollingMin(3), &ROLLING_INPUT, &[0.0, 0.0, -1.0, -1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        check(StatefulOp::RollingMax(3), &ROLLING_INPUT, &[0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        check(StatefulOp::RollingMax(2), &[NAN, NAN, 3.0, NAN, NAN], &[NAN, NAN, 3.0, 3.0, NAN]);
    }

    #[test]
    fn rolling_mean_and_sum_as_documented() {
        let input = [0.0, 1.0, -1.0, NAN, NAN, 0.0, 1.0, 1.0, 1.0, 0.0];
        check(
            StatefulOp::RollingMean { n: 3, min_values: 2 },
            &input,
            &[NAN, 0.5, 0.0, 0.0, NAN, NAN, 0.5, 2.0 / 3.0, 1.0, 2.0 / 3.0],
        );
        let input = [0.0, 1.0, -1.0, NAN, NAN, NAN, 1.0, 1.0, 1.0, 0.0];
        check(StatefulOp::RollingSum(3), &input, &[0.0, 1.0, 0.0, 0.0, -1.0, NAN, 1.0, 2.0, 3.0, 2.0]);
    }

    #[test]
    fn delay_integral_derivative() {
        check(StatefulOp::Delay(2), &[1.0, 2.0, 3.0, 4.0], &[NAN, NAN, 1.0, 2.0]);
        check(StatefulOp::Delay(0), &[1.0, NAN], &[1.0, NAN]);
        check(StatefulOp::Delay(9), &[1.0, 2.0], &[NAN, NAN]);
        check(
            StatefulOp::Integral,
            &[0.0, 1.0, -1.0, NAN, 0.0, 1.0, 2.0, 1.0, 1.0, 0.0],
            &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 3.0, 4.0, 5.0, 5.0],
        );
        check(StatefulOp::Derivative, &[1.0, 1.0, 1.0], &[NAN, 0.0, 0.0]);
        check(StatefulOp::Derivative, &[1.0, 3.0, NAN, 2.0], &[NAN, 2.0, -3.0, 2.0]);
        let integrated = apply(StatefulOp::Integral, &[1.0, 2.0, 5.0], 0, MINUTE).unwrap();
        check(StatefulOp::Derivative, &integrated, &[NAN, 2.0, 5.0]);
    }

    #[test]
    fn cumulative_max_as_documented() {
        check(StatefulOp::CumulativeMax, &[1.0, 2.0, 0.0, NAN, 5.0, 3.0], &[1.0, 2.0, 2.0, 2.0, 5.0, 5.0]);
        check(StatefulOp::CumulativeMax, &[NAN, -3.0, NAN, -4.0], &[NAN, -3.0, -3.0, -3.0]);
    }

    #[test]
    fn trend_as_documented() {
        let input = [0.0, 1.0, -1.0, NAN, 0.0, 1.0, 2.0, 1.0, 1.0, 0.0];
        check(
            StatefulOp::Trend { window_ms: 2 * MINUTE },
            &input,
            &[NAN, 0.5, 0.0, -0.5, 0.0, 0.5, 1.5, 1.5, 1.0, 0.5],
        );
        check(StatefulOp::Trend { window_ms: 5 * MINUTE }, &input, &[NAN, NAN, NAN, NAN, 0.0, 0.2, 0.4, 0.8, 1.0, 1.0]);
        let five_minutes_at_two = apply(StatefulOp::Trend { window_ms: 5 * MINUTE }, &input, 0, 2 * MINUTE).unwrap();
        assert!(
            same(&five_minutes_at_two, &[NAN, 0.5, 0.0, -0.5, 0.0, 0.5, 1.5, 1.5, 1.0, 0.5]),
            "5m at 2m is 2 points"
        );
        check(StatefulOp::Trend { window_ms: 2 * MINUTE }, &[1.0, NAN], &[NAN, 0.5]);
        check(StatefulOp::Trend { window_ms: MINUTE }, &[1.0, NAN, 3.0], &[1.0, NAN, 3.0]);
    }
}
