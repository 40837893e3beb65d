//! The `stateful` vocabulary: rolling windows (`:rolling-count`, `:rolling-min`,
//! `:rolling-max`, `:rolling-mean`, `:rolling-sum`), `:delay`, `:integral`,
//! `:cumulative-max`, `:derivative`, the deprecated `:trend`, double exponential smoothing
//! (`:des`, `:sdes` and their preset macros, `:des-epic-signal`) and
//! `:approx-distinct-cumulative`. Style's `:des-epic-viz` is defined here too, beside the
//! signal whose variables it draws, and listed in the style vocabulary.
//!
//! Design decision: the words only check their parameters (a window of at least one point, a
//! minimum count of at least one, a delay of zero or more, a positive duration, a DES training
//! of zero or more, at least one for `:sdes`) and wrap the input in an [`Expr::Stateful`]; the
//! values are computed at evaluation, line by line in time order. The macros are Atlas's own
//! token sequences, ending in `:named-rewrite` where Atlas's do, so `q,:des-fast` prints back
//! as written.

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
        des_word("des", "[Double exponential smoothing](DES).", |ctx| {
            let (training, alpha, beta) = des_params(ctx, 0)?;
            wrap(ctx, 4, StatefulOp::Des { training, alpha, beta })
        }),
        des_word(
            "sdes",
            "Variant of [:des](stateful-des) that is deterministic as long as the step size does not change.",
            |ctx| {
                let (training, alpha, beta) = des_params(ctx, 1)?;
                wrap(ctx, 4, StatefulOp::SlidingDes { training, alpha, beta })
            },
        ),
        TREND,
        whole_line(
            "integral",
            "Sum the values across the evaluation context.",
            &["1", "name,requestsPerSecond,:eq,:sum,:per-step"],
            |ctx| wrap(ctx, 1, StatefulOp::Integral),
        ),
        whole_line(
            "cumulative-max",
            "Compute the maximum value across the evaluation context.",
            &["1", "name,activeUsers,:eq,:sum"],
            |ctx| wrap(ctx, 1, StatefulOp::CumulativeMax),
        ),
        whole_line("derivative", "Opposite of [:integral](stateful-integral).", &["1", "1,:integral"], |ctx| {
            wrap(ctx, 1, StatefulOp::Derivative)
        }),
        Word::macro_of(
            "stateful",
            "approx-distinct-cumulative",
            &[Param::TimeSeries],
            "expr:TimeSeriesExpr -- TimeSeriesExpr",
            "Estimate the cumulative number of distinct values recorded into a distinct count sketch from the start of the graph window up to each point in time.",
            &["name,server.uniqueUsers,:eq", "name,server.uniqueUsers,:eq,(,nf.region,),:by"],
            &[":dup", ":cumulative-max", ":approx-distinct", "approx-distinct-cumulative", ":named-rewrite"],
        ),
        des_macro(
            "des-simple",
            "Apply DES with preset parameters (10, 0.1, 0.5, :des).",
            &[":dup", "10", "0.1", "0.5", ":des", "des-simple", ":named-rewrite"],
        ),
        des_macro(
            "des-fast",
            "Apply DES with preset parameters (10, 0.1, 0.02, :des).",
            &[":dup", "10", "0.1", "0.02", ":des", "des-fast", ":named-rewrite"],
        ),
        des_macro(
            "des-slower",
            "Apply DES with preset parameters (10, 0.05, 0.03, :des).",
            &[":dup", "10", "0.05", "0.03", ":des", "des-slower", ":named-rewrite"],
        ),
        des_macro(
            "des-slow",
            "Apply DES with preset parameters (10, 0.03, 0.04, :des).",
            &[":dup", "10", "0.03", "0.04", ":des", "des-slow", ":named-rewrite"],
        ),
        des_macro(
            "sdes-simple",
            "Apply sliding DES with preset parameters (10, 0.1, 0.5, :sdes).",
            &[":dup", "10", "0.1", "0.5", ":sdes", "sdes-simple", ":named-rewrite"],
        ),
        des_macro(
            "sdes-fast",
            "Apply sliding DES with preset parameters (10, 0.1, 0.02, :sdes).",
            &[":dup", "10", "0.1", "0.02", ":sdes", "sdes-fast", ":named-rewrite"],
        ),
        des_macro(
            "sdes-slower",
            "Apply sliding DES with preset parameters (10, 0.05, 0.03, :sdes).",
            &[":dup", "10", "0.05", "0.03", ":sdes", "sdes-slower", ":named-rewrite"],
        ),
        des_macro(
            "sdes-slow",
            "Apply sliding DES with preset parameters (10, 0.03, 0.04, :sdes).",
            &[":dup", "10", "0.03", "0.04", ":sdes", "sdes-slow", ":named-rewrite"],
        ),
        Word::macro_of(
            "stateful",
            "des-epic-signal",
            EPIC_PARAMS,
            "expr:TimeSeriesExpr training:Int alpha:Double beta:Double maxPercent:Double minPercent:Double noise:Double -- TimeSeriesExpr",
            "Shorthand macro (desEpicSignal)",
            EPIC_EXAMPLES,
            DES_EPIC_SIGNAL_BODY,
        ),
    ],
};

/// The parameters of the epic macros: the line, the DES parameters and the bounds.
const EPIC_PARAMS: &[Param] =
    &[Param::TimeSeries, Param::Int, Param::Number, Param::Number, Param::Number, Param::Number, Param::Number];

const EPIC_EXAMPLES: &[&str] = &["name,sps,:eq,:sum,10,0.1,0.5,0.2,0.2,4"];

/// `:des-epic-signal`: 1 where the line is below both lower bounds (the DES prediction minus
/// `noise`, and times `1 - minPercent`) or above both upper bounds (plus `noise`, and times
/// `1 + maxPercent`), else 0. Leaves the variables `line`, `pred` and the four bounds set for
/// `:des-epic-viz`.
const DES_EPIC_SIGNAL_BODY: &[&str] = &[
    // Parameters.
    "noise",
    ":sset",
    "minPercent",
    ":sset",
    "maxPercent",
    ":sset",
    "beta",
    ":sset",
    "alpha",
    ":sset",
    "trainingSize",
    ":sset",
    "line",
    ":sset",
    // The DES prediction.
    "pred",
    "line",
    ":get",
    "trainingSize",
    ":get",
    "alpha",
    ":get",
    "beta",
    ":get",
    ":des",
    ":set",
    // Lower bounds: minus the noise, and the percentage.
    "minPredNoiseBound",
    "pred",
    ":get",
    "noise",
    ":get",
    ":sub",
    ":set",
    "minPredPercentBound",
    "pred",
    ":get",
    "1.0",
    ":const",
    "minPercent",
    ":get",
    ":const",
    ":fsub",
    ":fmul",
    ":set",
    // Upper bounds: plus the noise, and the percentage.
    "maxPredNoiseBound",
    "pred",
    ":get",
    "noise",
    ":get",
    ":add",
    ":set",
    "maxPredPercentBound",
    "pred",
    ":get",
    "2.0",
    ":const",
    "1.0",
    ":const",
    "maxPercent",
    ":get",
    ":const",
    ":fsub",
    ":fsub",
    ":fmul",
    ":set",
    // Below both lower bounds ...
    "line",
    ":get",
    "minPredNoiseBound",
    ":get",
    ":lt",
    "line",
    ":get",
    "minPredPercentBound",
    ":get",
    ":lt",
    ":and",
    // ... or above both upper bounds.
    "line",
    ":get",
    "maxPredNoiseBound",
    ":get",
    ":gt",
    "line",
    ":get",
    "maxPredPercentBound",
    ":get",
    ":gt",
    ":and",
    ":or",
];

/// Style's `:des-epic-viz`: the epic signal as a vertical span, then the input line and the
/// four bounds, each with its legend.
pub(super) const DES_EPIC_VIZ: Word = Word::macro_of(
    "style",
    "des-epic-viz",
    EPIC_PARAMS,
    "expr:TimeSeriesExpr training:Int alpha:Double beta:Double maxPercent:Double minPercent:Double noise:Double -- StyleExpr StyleExpr StyleExpr StyleExpr StyleExpr StyleExpr",
    "Shorthand macro (desEpicViz)",
    EPIC_EXAMPLES,
    &[
        ":des-epic-signal",
        ":vspan",
        "40",
        ":alpha",
        "triggered",
        ":legend",
        "line",
        ":get",
        "line",
        ":legend",
        "minPredNoiseBound",
        ":get",
        "minPredNoiseBound",
        ":legend",
        "minPredPercentBound",
        ":get",
        "minPredPercentBound",
        ":legend",
        "maxPredNoiseBound",
        ":get",
        "maxPredNoiseBound",
        ":legend",
        "maxPredPercentBound",
        ":get",
        "maxPredPercentBound",
        ":legend",
    ],
);

/// `:des` or `:sdes`: the input, the training count, alpha and beta.
const fn des_word(name: &'static str, summary: &'static str, code: fn(&mut Context<'_>) -> Result<(), Fail>) -> Word {
    Word {
        name,
        vocabulary: "stateful",
        kind: Kind::Word,
        params: &[Param::TimeSeries, Param::Int, Param::Number, Param::Number],
        signature: "expr:TimeSeriesExpr training:Int alpha:Double beta:Double -- TimeSeriesExpr",
        summary,
        examples: &["name,requestsPerSecond,:eq,:sum,5,0.1,0.5"],
        body: Body::Native(code),
    }
}

/// A DES preset: the input with Atlas's parameters, under the macro's name.
const fn des_macro(name: &'static str, summary: &'static str, body: &'static [&'static str]) -> Word {
    Word::macro_of(
        "stateful",
        name,
        &[Param::TimeSeries],
        "expr:TimeSeriesExpr -- TimeSeriesExpr",
        summary,
        &["42"],
        body,
    )
}

/// The training count (at least `min_training`), alpha and beta on top of the stack.
fn des_params(ctx: &Context<'_>, min_training: usize) -> Result<(usize, f64, f64), Fail> {
    let beta = ctx.peek_number(0)?;
    let alpha = ctx.peek_number(1)?;
    let training = count_at(ctx, 2, min_training, "the training")?;
    Ok((training, alpha, beta))
}

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
