//! The `stateful` vocabulary's expressions: operations whose value at an interval depends on
//! other intervals of the same line (rolling windows, `:delay`, `:integral`,
//! `:cumulative-max`, `:derivative`, `:trend`, `:des`, `:sdes`), and filter's `:consolidate`.
//!
//! Design decision: one [`StatefulOp`] enum carries each operation's parameters, already
//! checked when the word runs (a window of at least one point), and a single
//! [`Expr::Stateful`] node wraps the input, so the grouping, data and display rules of the tree
//! treat every stateful word alike, as they treat a unary operator. `:consolidate` belongs to
//! Atlas's filter vocabulary but follows exactly these rules (it keeps the input's grouping and
//! data and maps each line to a line on the same grid), so it is one more operation here
//! rather than a node of its own.

use std::fmt;

use super::{Consolidation, Expr};
use crate::time::{format_double, format_duration};

/// A stateful operation on each line of its input, in time order.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// Running maximum from the start of the graph, NaN leaving it unchanged; NaN until the
    /// first value (`:cumulative-max`).
    CumulativeMax,
    /// Difference from the previous point, NaN counting as 0; the first point is NaN
    /// (`:derivative`).
    Derivative,
    /// Mean over a time window, NaN counting as 0, NaN until the window is full (`:trend`).
    Trend {
        /// The window as written, in milliseconds; rounded down to whole steps at evaluation.
        window_ms: i64,
    },
    /// Double exponential smoothing, the prediction made before seeing each value (`:des`).
    Des {
        /// How many values the smoothing sees before it predicts.
        training: usize,
        /// Data smoothing factor: 1 follows the input, near 0 smooths the most.
        alpha: f64,
        /// Trend smoothing factor.
        beta: f64,
    },
    /// Sliding DES: two DES functions alternating every `training` points from a multiple of
    /// `training` steps, so a time's prediction does not depend on the graph's start (`:sdes`).
    SlidingDes {
        /// How many values each function sees before it predicts, and how long it predicts;
        /// at least 1.
        training: usize,
        /// Data smoothing factor.
        alpha: f64,
        /// Trend smoothing factor.
        beta: f64,
    },
    /// Filter's `:consolidate`: each point shows the consolidation of the bucket of `step_ms`
    /// it falls in; the step is rounded up to a multiple of the graph's at evaluation.
    Consolidate {
        /// How a bucket's points become one value.
        cf: Consolidation,
        /// The new step as written, in milliseconds; positive.
        step_ms: i64,
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
            StatefulOp::CumulativeMax => "cumulative-max",
            StatefulOp::Derivative => "derivative",
            StatefulOp::Trend { .. } => "trend",
            StatefulOp::Des { .. } => "des",
            StatefulOp::SlidingDes { .. } => "sdes",
            StatefulOp::Consolidate { .. } => "consolidate",
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
        StatefulOp::Des { training, alpha, beta } | StatefulOp::SlidingDes { training, alpha, beta } => {
            write!(f, "{training},{},{},", format_double(alpha), format_double(beta))?;
        }
        StatefulOp::Consolidate { cf, step_ms } => write!(f, "{},{},", cf.name(), format_duration(step_ms))?,
        StatefulOp::Integral | StatefulOp::CumulativeMax | StatefulOp::Derivative => {}
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
        assert_eq!(shown(StatefulOp::CumulativeMax), "1.0,:const,:cumulative-max");
        assert_eq!(shown(StatefulOp::Des { training: 10, alpha: 0.1, beta: 0.02 }), "1.0,:const,10,0.1,0.02,:des");
        assert_eq!(shown(StatefulOp::SlidingDes { training: 5, alpha: 1.0, beta: 0.5 }), "1.0,:const,5,1.0,0.5,:sdes");
        let consolidate = StatefulOp::Consolidate { cf: Consolidation::Max, step_ms: 300_000 };
        assert_eq!(shown(consolidate), "1.0,:const,max,5m,:consolidate");
    }
}
