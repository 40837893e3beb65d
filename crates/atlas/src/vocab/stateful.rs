//! The `stateful` vocabulary: rolling windows (`:rolling-count`, `:rolling-min`,
//! `:rolling-max`, `:rolling-mean`, `:rolling-sum`), `:delay`, `:integral`, `:derivative` and
//! the deprecated `:trend`; the DES words, `:cumulative-max` and
//! `:approx-distinct-cumulative` are still placeholders (see [`super::pending`]).
//!
//! Design decision: the words only check their parameters (a window of at least one point, a
//! minimum count of at least one, a delay of zero or more, a positive duration) and wrap the
//! input in an [`Expr::Stateful`]; the values are computed at evaluation, line by line in time
//! order.

use super::pending::{
    APPROX_DISTINCT_CUMULATIVE, CUMULATIVE_MAX, DES, DES_EPIC_SIGNAL, DES_FAST, DES_SIMPLE, DES_SLOW, DES_SLOWER, SDES,
    SDES_FAST, SDES_SIMPLE, SDES_SLOW, SDES_SLOWER,
};
use crate::error::Reason;
use crate::expr::{Expr, StatefulOp};
use crate::interpreter::{Context, Fail};
use crate::word::{Body, Kind, Param, Vocabulary, Word};

/// The `stateful` vocabulary, in Atlas's order.
pub static STATEFUL: Vocabulary = Vocabulary {
    name: "stateful",
    words: &[
        windowed("delay", "Delays the values by the window size.", &["name,requestsPerSecond,:eq,:sum,5"], |ctx| {
            let n = count_at(ctx, 0, 0, "the delay")?;
            wrap(ctx, 2, StatefulOp::Delay(n))
        }),
        windowed("rolling-count", "Number of occurrences within a specified window.", &[":random,0.4,:gt,5"], |ctx| {
            let n = count_at(ctx, 0, 1, "the window")?;
            wrap(ctx, 2, StatefulOp::RollingCount(n))
        }),
        windowed("rolling-min", "Minimum value within a specified window.", &["name,sps,:eq,:sum,5"], |ctx| {
            let n = count_at(ctx, 0, 1, "the window")?;
            wrap(ctx, 2, StatefulOp::RollingMin(n))
        }),
        windowed("rolling-max", "Maximum value within a specified window.", &["name,sps,:eq,:sum,5"], |ctx| {
            let n = count_at(ctx, 0, 1, "the window")?;
            wrap(ctx, 2, StatefulOp::RollingMax(n))
        }),
        ROLLING_MEAN,
        windowed("rolling-sum", "Sum of the values within a specified window.", &["name,sps,:eq,:sum,5,3"], |ctx| {
            let n = count_at(ctx, 0, 1, "the window")?;
            wrap(ctx, 2, StatefulOp::RollingSum(n))
        }),
        DES,
        SDES,
        TREND,
        whole_line(
            "integral",
            "Sum the values across the evaluation context.",
            &["1", "name,requestsPerSecond,:eq,:sum,:per-step"],
            |ctx| wrap(ctx, 1, StatefulOp::Integral),
        ),
        CUMULATIVE_MAX,
        whole_line("derivative", "Opposite of [:integral](stateful-integral).", &["1", "1,:integral"], |ctx| {
            wrap(ctx, 1, StatefulOp::Derivative)
        }),
        APPROX_DISTINCT_CUMULATIVE,
        DES_SIMPLE,
        DES_FAST,
        DES_SLOWER,
        DES_SLOW,
        SDES_SIMPLE,
        SDES_FAST,
        SDES_SLOWER,
        SDES_SLOW,
        DES_EPIC_SIGNAL,
    ],
};

const ROLLING_MEAN: Word = Word {
    name: "rolling-mean",
    vocabulary: "stateful",
    kind: Kind::Word,
    params: &[Param::TimeSeries, Param::Int, Param::Int],
    signature: "expr:TimeSeriesExpr n:Int minNumValues:Int -- TimeSeriesExpr",
    summary: "Mean of the values within a specified window.",
    examples: &["name,sps,:eq,:sum,5,3"],
    body: Body::Native(|ctx| {
        let min_values = count_at(ctx, 0, 1, "minNumValues")?;
        let n = count_at(ctx, 1, 1, "the window")?;
        wrap(ctx, 3, StatefulOp::RollingMean { n, min_values })
    }),
};

const TREND: Word = Word {
    name: "trend",
    vocabulary: "stateful",
    kind: Kind::Word,
    params: &[Param::TimeSeries, Param::Duration],
    signature: "expr:TimeSeriesExpr window:Duration -- TimeSeriesExpr",
    summary: "Computes a moving average over the input window.",
    examples: &[":random,PT5M", ":random,20m"],
    body: Body::Native(|ctx| {
        let window_ms = ctx.peek_duration(0)?;
        if window_ms <= 0 {
            return Err(invalid(format!("the window must be positive, got {window_ms} ms")));
        }
        wrap(ctx, 2, StatefulOp::Trend { window_ms })
    }),
};

/// A word taking an expression and a count of points.
const fn windowed(
    name: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word {
        name,
        vocabulary: "stateful",
        kind: Kind::Word,
        params: &[Param::TimeSeries, Param::Int],
        signature: "expr:TimeSeriesExpr n:Int -- TimeSeriesExpr",
        summary,
        examples,
        body: Body::Native(code),
    }
}

/// A word taking only an expression, computed from the start of the graph.
const fn whole_line(
    name: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word {
        name,
        vocabulary: "stateful",
        kind: Kind::Word,
        params: &[Param::TimeSeries],
        signature: "expr:TimeSeriesExpr -- TimeSeriesExpr",
        summary,
        examples,
        body: Body::Native(code),
    }
}

fn invalid(message: String) -> Fail {
    Fail::Here(Reason::InvalidExpression(message))
}

/// The integer `depth` places below the top as a count of at least `min`.
fn count_at(ctx: &Context<'_>, depth: usize, min: usize, what: &str) -> Result<usize, Fail> {
    let value = ctx.peek_int(depth)?;
    usize::try_from(value)
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| invalid(format!("{what} must be at least {min}, got {value}")))
}

/// Replaces the input and `count - 1` parameters above it with the stateful expression.
fn wrap(ctx: &mut Context<'_>, count: usize, op: StatefulOp) -> Result<(), Fail> {
    let expr = Box::new(ctx.peek_expr(count - 1)?);
    Ok(ctx.replace_with_expr(count, Expr::Stateful { expr, op })?)
}
