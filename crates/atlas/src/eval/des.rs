//! Double exponential smoothing (`:des`) and its sliding variant (`:sdes`), computed as Atlas's
//! `OnlineDes` and `OnlineSlidingDes` compute them, value by value.
//!
//! DES keeps a level `s` and a trend `b`. The first value sets `s = y, b = 0`; each later value
//! updates `s' = alpha * y + (1 - alpha) * (s + b)` and `b' = beta * (s' - s) + (1 - beta) * b`.
//! The output at a point is the level *before* that point's value is taken in, NaN until
//! `training` values have been seen; a NaN input changes nothing.
//!
//! Sliding DES runs two DES functions on the same input. Both ignore the points before the
//! first time that is a multiple of `training` steps; every `training` points (counted from the
//! graph's first point, as Atlas counts them) the function in use is reset and the other takes
//! over, so a prediction only ever depends on the last one or two training windows.
//!
//! Design decision: [`Des`] is a small state machine with `next` and `reset`, the shape of
//! Atlas's online algorithms, rather than a closed-form pass over a slice, because sliding DES
//! needs two of them reset independently; both functions below are linear in the line's length.

/// One double exponential smoothing function.
#[derive(Debug, Clone, Copy)]
struct Des {
    training: usize,
    alpha: f64,
    beta: f64,
    seen: usize,
    level: f64,
    trend: f64,
}

impl Des {
    fn new(training: usize, alpha: f64, beta: f64) -> Self {
        Des { training, alpha, beta, seen: 0, level: f64::NAN, trend: f64::NAN }
    }

    /// The prediction for this point (the level before `v`), then takes `v` in.
    fn next(&mut self, v: f64) -> f64 {
        let prediction = if self.seen >= self.training { self.level } else { f64::NAN };
        if !v.is_nan() {
            if self.seen == 0 {
                self.level = v;
                self.trend = 0.0;
            } else {
                let level = self.alpha * v + (1.0 - self.alpha) * (self.level + self.trend);
                self.trend = self.beta * (level - self.level) + (1.0 - self.beta) * self.trend;
                self.level = level;
            }
            self.seen += 1;
        }
        prediction
    }

    fn reset(&mut self) {
        *self = Des::new(self.training, self.alpha, self.beta);
    }
}

/// `:des` over one line.
pub(crate) fn des(values: &[f64], training: usize, alpha: f64, beta: f64) -> Vec<f64> {
    let mut des = Des::new(training, alpha, beta);
    values.iter().map(|v| des.next(*v)).collect()
}

/// `:sdes` over one line whose first point is at `start_ms`, one point per `step_ms`. A
/// `training` of 0 is treated as 1 (the word refuses it).
pub(crate) fn sliding_des(
    values: &[f64],
    training: usize,
    alpha: f64,
    beta: f64,
    start_ms: i64,
    step_ms: i64,
) -> Vec<f64> {
    let training = training.max(1);
    let ignored = aligned_offset(training, start_ms, step_ms);
    let (mut first, mut second) = (Des::new(training, alpha, beta), Des::new(training, alpha, beta));
    let mut use_first = true;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = if i < ignored { f64::NAN } else { *v };
            let (p1, p2) = (first.next(v), second.next(v));
            let out = if use_first { p1 } else { p2 };
            if (i + 1) % training == 0 {
                if use_first {
                    first.reset();
                } else {
                    second.reset();
                }
                use_first = !use_first;
            }
            out
        })
        .collect()
}

/// How many points lie before the first time at or after `start_ms` that is a multiple of
/// `training` steps.
fn aligned_offset(training: usize, start_ms: i64, step_ms: i64) -> usize {
    let step_ms = step_ms.max(1);
    let Some(window) = i64::try_from(training).ok().and_then(|t| t.checked_mul(step_ms)) else { return 0 };
    let remainder = start_ms.rem_euclid(window);
    let gap = if remainder == 0 { 0 } else { window - remainder };
    usize::try_from(gap / step_ms).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_values::same;

    const NAN: f64 = f64::NAN;
    const MINUTE: i64 = 60_000;

    #[test]
    fn des_predicts_the_level_before_each_value() {
        // alpha = beta = 0.5: s1 = 1, b1 = 0; s2 = 0.5*3 + 0.5*1 = 2, b2 = 0.5*1 = 0.5;
        // s3 = 0.5*5 + 0.5*2.5 = 3.75, b3 = 0.5*1.75 + 0.5*0.5 = 1.125.
        let got = des(&[1.0, 3.0, 5.0, 0.0], 1, 0.5, 0.5);
        assert!(same(&got, &[NAN, 1.0, 2.0, 3.75]), "{got:?}");
        let trained = des(&[1.0, 3.0, 5.0, 0.0], 2, 0.5, 0.5);
        assert!(same(&trained, &[NAN, NAN, 2.0, 3.75]), "{trained:?}");
        let with_gap = des(&[1.0, NAN, 3.0, 7.0], 1, 0.5, 0.5);
        assert!(same(&with_gap, &[NAN, 1.0, 1.0, 2.0]), "a NaN changes nothing: {with_gap:?}");
    }

    #[test]
    fn alpha_of_one_and_beta_of_zero_follow_the_input() {
        let input = [4.0, 8.0, 1.0, 9.0];
        assert!(same(&des(&input, 1, 1.0, 0.0), &[NAN, 4.0, 8.0, 1.0]));
    }

    #[test]
    fn sliding_des_alternates_after_each_training_window() {
        // Aligned start, training 2, alpha 1, beta 0: each function echoes its last value and
        // predicts once it has seen 2 values. Swaps after points 2, 4, 6: the first function
        // is used for points 1-2 (untrained), the second for 3-4 (trained on 1-4), the first,
        // reset after point 2, for 5-6 (trained on 3-6) ...
        let input = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let got = sliding_des(&input, 2, 1.0, 0.0, 0, MINUTE);
        assert!(same(&got, &[NAN, NAN, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), "{got:?}");
    }

    #[test]
    fn sliding_des_is_deterministic_across_aligned_starts() {
        let input: Vec<f64> = (0..40).map(|i| f64::from(i * 7 % 11)).collect();
        let full = sliding_des(&input, 5, 0.3, 0.2, 0, MINUTE);
        let later = sliding_des(&input[10..], 5, 0.3, 0.2, 10 * MINUTE, MINUTE);
        assert!(later[..5].iter().all(|v| v.is_nan()), "the first window only trains: {later:?}");
        assert!(same(&full[15..], &later[5..]), "after it, a start on a window boundary predicts the same");
    }

    #[test]
    fn unaligned_starts_ignore_points_until_a_window_boundary() {
        assert_eq!(aligned_offset(10, 3 * MINUTE, MINUTE), 7);
        assert_eq!(aligned_offset(10, 20 * MINUTE, MINUTE), 0);
        assert_eq!(aligned_offset(10, -3 * MINUTE, MINUTE), 3);
        let got = sliding_des(&[1.0; 8], 3, 0.5, 0.5, MINUTE, MINUTE);
        // Points 0-1 ignored; swaps after points 2, 5: first (untrained) for 0-2, second
        // (1 value at point 2, 4 by point 5) for 3-5, first (reset after 2) for 6-7.
        assert!(same(&got, &[NAN, NAN, NAN, NAN, NAN, 1.0, 1.0, 1.0]), "{got:?}");
    }
}
