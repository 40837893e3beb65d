//! The `math` vocabulary's macros (`:avg`, `:stddev`, `:pct`, `:dist-*`, `:median`,
//! `:sample-count` without a range, the trigonometric helpers) and `:approx-distinct`, a word
//! that stands beside them because it rewrites its input as they do.
//!
//! Design decision: the macros are Atlas's own token sequences, run by the interpreter like any
//! program, ending in `:named-rewrite` where Atlas's do, so `q,:avg` evaluates as
//! `:sum`/`:count`/`:div` yet displays as `q,:avg` and regroups under a later `:by`; nothing
//! about them is special-cased in Rust.

use crate::error::Reason;
use crate::expr::Expr;
use crate::interpreter::Fail;
use crate::word::{Body, Kind, Param, Word};

const fn macro_word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    body: &'static [&'static str],
) -> Word {
    Word::macro_of("math", name, params, signature, summary, examples, body)
}

const SERIES: &[Param] = &[Param::TimeSeries];
const SERIES_SIGNATURE: &str = "expr:TimeSeriesExpr -- TimeSeriesExpr";
const DISTRIBUTION: &[Param] = &[Param::Query];
const DISTRIBUTION_SIGNATURE: &str = "q:Query -- TimeSeriesExpr";
const GROUPED_EXAMPLE: &[&str] = &["name,sps,:eq,(,nf.cluster,),:by"];
const DISTRIBUTION_EXAMPLE: &[&str] = &["name,playback.startLatency,:eq"];

/// `:approx-distinct`: the distinct count estimated from a distinct-count sketch's register
/// gauges (see [`Expr::approx_distinct`]); refused for inputs without aggregates of stored data.
pub(super) const APPROX_DISTINCT: Word = Word {
    name: "approx-distinct",
    vocabulary: "math",
    kind: Kind::Word,
    params: &[Param::TimeSeries],
    signature: "TimeSeriesExpr -- Expr",
    summary: "Estimate the number of distinct values recorded into a distinct count sketch.",
    examples: &["name,server.uniqueUsers,:eq", "name,server.uniqueUsers,:eq,(,nf.region,),:by"],
    body: Body::Native(|ctx| {
        let input = ctx.peek_expr(0)?;
        let expr = Expr::approx_distinct(input).map_err(|m| Fail::Here(Reason::InvalidExpression(m)))?;
        Ok(ctx.replace_with_expr(1, expr)?)
    }),
};

pub(super) const SAMPLE_COUNT_ALL: Word = macro_word(
    "sample-count",
    DISTRIBUTION,
    DISTRIBUTION_SIGNATURE,
    "Shorthand for `0,Infinity,:sample-count` to count all samples.",
    &[],
    &[":dup", "0", "Infinity", ":sample-count", "sample-count", ":named-rewrite"],
);

pub(super) const AVG: Word = macro_word(
    "avg",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the average of the input time series across group members.",
    &["name,sps,:eq,(,nf.cluster,),:by", "name,sps,:eq,1h,:offset"],
    &[":dup", ":dup", ":sum", ":swap", ":count", ":div", "avg", ":named-rewrite"],
);

pub(super) const STDDEV: Word = macro_word(
    "stddev",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the standard deviation of the input time series across group members.",
    GROUPED_EXAMPLE,
    &[
        ":dup",
        "0",
        ":fadd",
        ":dup",
        ":count",
        ":over",
        ":dup",
        ":mul",
        ":sum",
        ":mul",
        ":over",
        ":sum",
        ":dup",
        ":mul",
        ":sub",
        ":swap",
        ":count",
        ":dup",
        ":mul",
        ":div",
        ":sqrt",
        "stddev",
        ":named-rewrite",
    ],
);

pub(super) const PCT: Word = macro_word(
    "pct",
    SERIES,
    SERIES_SIGNATURE,
    "Compute each input as a percentage of the sum.",
    GROUPED_EXAMPLE,
    &[":dup", ":dup", ":sum", ":div", "100", ":mul", "pct", ":named-rewrite"],
);

pub(super) const DIST_AVG: Word = macro_word(
    "dist-avg",
    DISTRIBUTION,
    DISTRIBUTION_SIGNATURE,
    "Compute the average from a distribution (totalTime or totalAmount / count).",
    DISTRIBUTION_EXAMPLE,
    &[
        ":dup",
        "statistic",
        "(",
        "totalTime",
        "totalAmount",
        ")",
        ":in",
        ":sum",
        "statistic",
        "count",
        ":eq",
        ":sum",
        ":div",
        ":swap",
        ":cq",
        "dist-avg",
        ":named-rewrite",
    ],
);

pub(super) const DIST_MAX: Word = macro_word(
    "dist-max",
    DISTRIBUTION,
    DISTRIBUTION_SIGNATURE,
    "Compute the max from a distribution.",
    DISTRIBUTION_EXAMPLE,
    &[":dup", "statistic", "max", ":eq", ":max", ":swap", ":cq", "dist-max", ":named-rewrite"],
);

pub(super) const DIST_STDDEV: Word = macro_word(
    "dist-stddev",
    DISTRIBUTION,
    DISTRIBUTION_SIGNATURE,
    "Compute the standard deviation from a distribution.",
    DISTRIBUTION_EXAMPLE,
    &[
        ":dup",
        "statistic",
        "count",
        ":eq",
        ":sum",
        "statistic",
        "totalOfSquares",
        ":eq",
        ":sum",
        ":mul",
        "statistic",
        "(",
        "totalAmount",
        "totalTime",
        ")",
        ":in",
        ":sum",
        ":dup",
        ":mul",
        ":sub",
        "statistic",
        "count",
        ":eq",
        ":sum",
        ":dup",
        ":mul",
        ":div",
        ":sqrt",
        ":swap",
        ":cq",
        "dist-stddev",
        ":named-rewrite",
    ],
);

pub(super) const MEDIAN: Word = macro_word(
    "median",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the estimated median (50th percentile) from a distribution.",
    &["name,requestLatency,:eq"],
    &["(", "50", ")", ":percentiles"],
);

pub(super) const COS: Word = macro_word(
    "cos",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the cosine of the input.",
    &[],
    &[":pi", "2", ":div", ":swap", ":sub", ":sin"],
);

pub(super) const TAN: Word = macro_word(
    "tan",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the tangent of the input.",
    &[],
    &[":dup", ":sin", ":swap", ":cos", ":div"],
);

pub(super) const COT: Word = macro_word(
    "cot",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the cotangent of the input.",
    &[],
    &[":dup", ":cos", ":swap", ":sin", ":div"],
);

pub(super) const SEC: Word = macro_word(
    "sec",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the secant of the input.",
    &[],
    &["1", ":swap", ":cos", ":div"],
);

pub(super) const CSC: Word = macro_word(
    "csc",
    SERIES,
    SERIES_SIGNATURE,
    "Compute the cosecant of the input.",
    &[],
    &["1", ":swap", ":sin", ":div"],
);

#[cfg(test)]
mod tests {
    use crate::Interpreter;
    use crate::item::render_capped;

    fn run(program: &str) -> String {
        match Interpreter::default().execute(program) {
            Ok(stack) => render_capped(&stack, 10_000),
            Err(e) => format!("ERROR: {}", e.reason),
        }
    }

    #[test]
    fn trigonometry_folds_on_constants() {
        let value = |program: &str| run(program).trim_end_matches(",:const").parse::<f64>().unwrap();
        assert!((value("0,:cos") - 1.0).abs() < 1e-12);
        assert!((value("1,:tan") - 1f64.tan()).abs() < 1e-12);
        assert!((value("1,:cot") - 1.0 / 1f64.tan()).abs() < 1e-12);
        assert!((value("1,:sec") - 1.0 / 1f64.cos()).abs() < 1e-12);
        assert!((value("1,:csc") - 1.0 / 1f64.sin()).abs() < 1e-12);
    }

    #[test]
    fn distribution_macros_display_as_written() {
        let cases = [
            ("name,d,:eq,:dist-avg", "name,d,:eq,:dist-avg"),
            ("name,d,:eq,:dist-stddev", "name,d,:eq,:dist-stddev"),
            ("name,d,:eq,(,a,),:by,:stddev", "name,d,:eq,:sum,(,a,),:by,:stddev"),
            ("name,d,:eq,:pct", "name,d,:eq,:pct"),
        ];
        for (program, expected) in cases {
            assert_eq!(run(program), expected, "{program}");
        }
        assert_eq!(run("name,d,:eq,:dist-avg,(,a,),:by"), "name,d,:eq,:dist-avg,(,a,),:by");
        assert_eq!(run("name,d,:eq,:approx-distinct"), "name,d,:eq,:sum,:approx-distinct");
        assert_eq!(run("name,d,:eq,:approx-distinct,(,r,),:by"), "name,d,:eq,:sum,(,r,),:by,:approx-distinct");
        assert_eq!(run("name,d,:eq,:approx-distinct,1h,:offset"), "name,d,:eq,:sum,1h,:offset,:approx-distinct");
        assert!(run("42,:approx-distinct").starts_with("ERROR"));
        assert!(run("name,d,:eq,:all,:approx-distinct").starts_with("ERROR"));
    }
}
