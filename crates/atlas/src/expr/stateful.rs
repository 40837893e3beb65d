//! The `stateful` vocabulary's expressions: operations whose value at an interval depends on
//! earlier intervals of the same line (rolling windows, `:delay`, `:integral`, `:derivative`,
//! `:trend`).
//!
//! Design decision: one [`StatefulOp`] enum carries each operation's parameters, already
//! checked when the word runs (a window of at least one point), and a single
//! [`Expr::Stateful`] node wraps the input, so the grouping, data and display rules of the tree
//! treat every stateful word alike, as they treat a unary operator.

use std::fmt;

use super::Expr;
use crate::time::format_duration;

/// A stateful operation on each line of its input, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatefulOp {
    /// Number of non-zero, non-NaN values in the last `n` points (`:rolling-count`).
    RollingCount(usize),
    /// Smallest value in the last `n` points, NaN only if all are NaN (`:rolling-min`).
    RollingMin(usize),
    /// Largest value in the last `n` points, NaN only if all are NaN (`:rolling-max`).
    RollingMax(usize),
    /// Mean of the non-NaN values in the last `n` points, NaN when fewer than `min_values` are
    /// present (`:rolling-mean`).
    RollingMean {
        /// The window, in points.
        n: usize,
        /// The fewest non-NaN values that give a mean.
        min_values: usize,
    },
    /// Sum of the non-NaN values in the last `n` points, NaN only if all are NaN
    /// (`:rolling-sum`).
    RollingSum(usize),
    /// The value `n` points earlier, NaN for the first `n` points (`:delay`).
    Delay(usize),
    /// Running sum from the start of the graph, NaN counting as 0 (`:integral`).
    Integral,
    /// Difference from the previous point, NaN counting as 0; the first point is NaN
    /// (`:derivative`).
    Derivative,
    /// Mean over a time window, NaN counting as 0, NaN until the window is full (`:trend`).
    Trend {
        /// The window as written, in milliseconds; rounded down to whole steps at evaluation.
        window_ms: i64,
    },
}

impl StatefulOp {
    /// The word's name: `rolling-count`, `delay`, ...
    pub fn name(self) -> &'static str {
        match self {
            StatefulOp::RollingCount(_) => "rolling-count",
            StatefulOp::RollingMin(_) => "rolling-min",
            StatefulOp::RollingMax(_) => "rolling-max",
            StatefulOp::RollingMean { .. } => "rolling-mean",
            StatefulOp::RollingSum(_) => "rolling-sum",
            StatefulOp::Delay(_) => "delay",
            StatefulOp::Integral => "integral",
            StatefulOp::Derivative => "derivative",
            StatefulOp::Trend { .. } => "trend",
        }
    }
}

/// Writes a stateful expression, `expr,params,:name`; called from `Expr`'s `Display`.
pub(super) fn write_stateful(f: &mut fmt::Formatter<'_>, expr: &Expr, op: StatefulOp) -> fmt::Result {
    write!(f, "{expr},")?;
    match op {
        StatefulOp::RollingCount(n)
        | StatefulOp::RollingMin(n)
        | StatefulOp::RollingMax(n)
        | StatefulOp::RollingSum(n)
        | StatefulOp::Delay(n) => write!(f, "{n},")?,
        StatefulOp::RollingMean { n, min_values } => write!(f, "{n},{min_values},")?,
        StatefulOp::Trend { window_ms } => write!(f, "{},", format_duration(window_ms))?,
        StatefulOp::Integral | StatefulOp::Derivative => {}
    }
    write!(f, ":{}", op.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(op: StatefulOp) -> String {
        Expr::Stateful { expr: Box::new(Expr::Constant(1.0)), op }.to_string()
    }

    #[test]
    fn displays_with_parameters() {
        assert_eq!(shown(StatefulOp::RollingCount(5)), "1.0,:const,5,:rolling-count");
        assert_eq!(shown(StatefulOp::RollingMean { n: 5, min_values: 3 }), "1.0,:const,5,3,:rolling-mean");
        assert_eq!(shown(StatefulOp::Trend { window_ms: 300_000 }), "1.0,:const,5m,:trend");
        assert_eq!(shown(StatefulOp::Integral), "1.0,:const,:integral");
        assert_eq!(shown(StatefulOp::Delay(0)), "1.0,:const,0,:delay");
    }
}
