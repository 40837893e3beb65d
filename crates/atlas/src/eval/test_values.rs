//! What the evaluator's unit tests share: comparing computed series with expected ones.

/// True when `actual` has `expected`'s length and each value equals the expected one within
/// 1e-9, NaN matching NaN.
pub(super) fn same(actual: &[f64], expected: &[f64]) -> bool {
    actual.len() == expected.len()
        && actual.iter().zip(expected).all(|(a, e)| (a.is_nan() && e.is_nan()) || (a - e).abs() < 1e-9)
}
