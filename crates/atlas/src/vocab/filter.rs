//! The `filter` vocabulary: `:stat` and its placeholders (`:stat-avg` ...), `:filter`, the
//! deprecated `:stat-*-mf` macros, and the priority filters `:topk`/`:bottomk` with their
//! `-others-{min,max,sum,avg}` forms, and `:consolidate`.
//!
//! Design decision: the words only build expressions ([`Expr::Stat`], [`Expr::Filter`],
//! [`Expr::Priority`], and for `:consolidate` an [`Expr::Stateful`], whose rules it shares) and
//! check their arguments (a known statistic, `k` of at least 1, a condition whose grouping nests
//! in the input's, a known consolidation function and a positive step); ranking, filtering and
//! consolidating happen at evaluation, over the graph's range, since they need the whole line.

use crate::error::Reason;
use crate::expr::{Consolidation, Expr, OthersAggregation, PriorityFilter, StatefulOp, SummaryStat};
use crate::interpreter::{Context, Fail};
use crate::word::{Body, Kind, Param, Vocabulary, Word};

/// The `filter` vocabulary, in Atlas's order.
pub static FILTER: Vocabulary = Vocabulary {
    name: "filter",
    words: &[
        CONSOLIDATE,
        STAT,
        placeholder("stat-avg", "Represents the `avg,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Avg)
        }),
        placeholder("stat-max", "Represents the `max,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Max)
        }),
        placeholder("stat-min", "Represents the `min,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Min)
        }),
        placeholder("stat-last", "Represents the `last,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Last)
        }),
        placeholder("stat-count", "Represents the `count,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Count)
        }),
        placeholder("stat-total", "Represents the `total,:stat` line when used with the filter operation.", |ctx| {
            push_placeholder(ctx, SummaryStat::Total)
        }),
        FILTER_WORD,
        stat_macro("stat-min-mf", "Compute min summary statistic.", &["min", ":stat"]),
        stat_macro("stat-max-mf", "Compute max summary statistic.", &["max", ":stat"]),
        stat_macro("stat-avg-mf", "Compute avg summary statistic.", &["avg", ":stat"]),
        priority("bottomk", "Keep the K series with the lowest value of the given summary statistic.", |ctx| {
            build_priority(ctx, false, None)
        }),
        priority(
            "bottomk-others-min",
            "Keep the K series with the lowest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using min.",
            |ctx| build_priority(ctx, false, Some(OthersAggregation::Min)),
        ),
        priority(
            "bottomk-others-max",
            "Keep the K series with the lowest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using max.",
            |ctx| build_priority(ctx, false, Some(OthersAggregation::Max)),
        ),
        priority(
            "bottomk-others-sum",
            "Keep the K series with the lowest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using sum.",
            |ctx| build_priority(ctx, false, Some(OthersAggregation::Sum)),
        ),
        priority(
            "bottomk-others-avg",
            "Keep the K series with the lowest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using avg.",
            |ctx| build_priority(ctx, false, Some(OthersAggregation::Avg)),
        ),
        priority("topk", "Keep the K series with the highest value of the given summary statistic.", |ctx| {
            build_priority(ctx, true, None)
        }),
        priority(
            "topk-others-min",
            "Keep the K series with the highest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using min.",
            |ctx| build_priority(ctx, true, Some(OthersAggregation::Min)),
        ),
        priority(
            "topk-others-max",
            "Keep the K series with the highest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using max.",
            |ctx| build_priority(ctx, true, Some(OthersAggregation::Max)),
        ),
        priority(
            "topk-others-sum",
            "Keep the K series with the highest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using sum.",
            |ctx| build_priority(ctx, true, Some(OthersAggregation::Sum)),
        ),
        priority(
            "topk-others-avg",
            "Keep the K series with the highest value of the given summary statistic; the remaining series are combined into one \"--others--\" line using avg.",
            |ctx| build_priority(ctx, true, Some(OthersAggregation::Avg)),
        ),
    ],
};

/// The example every priority filter shares: the grouped input, `max`, and `k` = 5.
const PRIORITY_EXAMPLES: &[&str] = &["name,sps,:eq,:sum,(,nf.cluster,),:by,max,5"];

/// `:consolidate`: the input shown at a larger step, on the graph's grid (see
/// [`crate::eval`]'s consolidated view).
const CONSOLIDATE: Word = Word {
    name: "consolidate",
    vocabulary: "filter",
    kind: Kind::Word,
    params: &[Param::TimeSeries, Param::Str, Param::Duration],
    signature: "expr:TimeSeriesExpr cf:ConsolidationFunction newStep:Duration -- TimeSeriesExpr",
    summary: "Computes a consolidated time series if the new step is larger than the step size for the graph.",
    examples: &[":random,avg,5m"],
    body: Body::Native(|ctx| {
        let step_ms = ctx.peek_duration(0)?;
        if step_ms <= 0 {
            return Err(Fail::Here(Reason::InvalidExpression(format!(
                "the new step must be positive, got {step_ms} ms"
            ))));
        }
        let name = ctx.peek_str(1)?;
        let cf = [Consolidation::Avg, Consolidation::Sum, Consolidation::Min, Consolidation::Max]
            .into_iter()
            .find(|cf| cf.name() == name)
            .ok_or_else(|| {
                Fail::Here(Reason::InvalidExpression(format!(
                    "unknown consolidation function '{name}', expected one of avg, sum, min, max"
                )))
            })?;
        let expr = Box::new(ctx.peek_expr(2)?);
        Ok(ctx.replace_with_expr(3, Expr::Stateful { expr, op: StatefulOp::Consolidate { cf, step_ms } })?)
    }),
};

const STAT: Word = Word {
    name: "stat",
    vocabulary: "filter",
    kind: Kind::Word,
    params: &[Param::TimeSeries, Param::Str],
    signature: "expr:TimeSeriesExpr stat:String -- TimeSeriesExpr",
    summary: "Create a summary line showing the value of the specified statistic for the input line.",
    examples: &[
        "name,sps,:eq,:sum,avg",
        "name,sps,:eq,:sum,max",
        "name,sps,:eq,:sum,min",
        "name,sps,:eq,:sum,last",
        "name,sps,:eq,:sum,total",
        "name,sps,:eq,:sum,count",
    ],
    body: Body::Native(|ctx| {
        let stat = parse_stat(ctx, 0)?;
        let expr = Box::new(ctx.peek_expr(1)?);
        Ok(ctx.replace_with_expr(2, Expr::Stat { expr, stat })?)
    }),
};

const FILTER_WORD: Word = Word {
    name: "filter",
    vocabulary: "filter",
    kind: Kind::Word,
    params: &[Param::TimeSeries, Param::TimeSeries],
    signature: "expr:TimeSeriesExpr condition:TimeSeriesExpr -- TimeSeriesExpr",
    summary: "Filter the output based on another expression.",
    examples: &["name,sps,:eq,:sum,(,nf.cluster,),:by,:stat-max,30e3,:gt"],
    body: Body::Native(|ctx| {
        let condition = ctx.peek_expr(0)?;
        let expr = ctx.peek_expr(1)?;
        let filtered = Expr::filter(expr, condition).map_err(|m| Fail::Here(Reason::InvalidExpression(m)))?;
        Ok(ctx.replace_with_expr(2, filtered)?)
    }),
};

const fn placeholder(
    name: &'static str,
    summary: &'static str,
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word {
        name,
        vocabulary: "filter",
        kind: Kind::Word,
        params: &[],
        signature: "-- TimeSeriesExpr",
        summary,
        examples: &["", "name,sps,:eq,:sum"],
        body: Body::Native(code),
    }
}

const fn stat_macro(name: &'static str, summary: &'static str, body: &'static [&'static str]) -> Word {
    Word {
        name,
        vocabulary: "filter",
        kind: Kind::Macro,
        params: &[Param::TimeSeries],
        signature: "expr:TimeSeriesExpr -- TimeSeriesExpr",
        summary,
        examples: &["42"],
        body: Body::Macro(body),
    }
}

const fn priority(name: &'static str, summary: &'static str, code: fn(&mut Context<'_>) -> Result<(), Fail>) -> Word {
    Word {
        name,
        vocabulary: "filter",
        kind: Kind::Word,
        params: &[Param::TimeSeries, Param::Str, Param::Int],
        signature: "expr:TimeSeriesExpr stat:String k:Int -- TimeSeriesExpr",
        summary,
        examples: PRIORITY_EXAMPLES,
        body: Body::Native(code),
    }
}

fn push_placeholder(ctx: &mut Context<'_>, stat: SummaryStat) -> Result<(), Fail> {
    Ok(ctx.push_expr(Expr::StatPlaceholder(stat))?)
}

/// The statistic named `depth` places below the top; an unknown name is refused.
fn parse_stat(ctx: &Context<'_>, depth: usize) -> Result<SummaryStat, Fail> {
    let name = ctx.peek_str(depth)?;
    SummaryStat::parse(name).ok_or_else(|| {
        Fail::Here(Reason::InvalidExpression(format!(
            "unknown statistic '{name}', expected one of avg, max, min, last, total, count"
        )))
    })
}

fn build_priority(ctx: &mut Context<'_>, top: bool, others: Option<OthersAggregation>) -> Result<(), Fail> {
    let k = ctx.peek_int(0)?;
    let k = usize::try_from(k)
        .ok()
        .filter(|k| *k >= 1)
        .ok_or_else(|| Fail::Here(Reason::InvalidExpression(format!("k must be at least 1, got {k}"))))?;
    let stat = parse_stat(ctx, 1)?;
    let expr = ctx.peek_expr(2)?;
    let filter = PriorityFilter { expr, stat, k, top, others };
    Ok(ctx.replace_with_expr(3, Expr::Priority(Box::new(filter)))?)
}

#[cfg(test)]
mod tests {
    use crate::Interpreter;

    fn shown(program: &str) -> String {
        Interpreter::default()
            .parse_expressions(program)
            .unwrap()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn words_build_and_display() {
        assert_eq!(shown("name,sps,:eq,:sum,avg,:stat"), "name,sps,:eq,:sum,avg,:stat");
        assert_eq!(shown("42,:stat-max-mf"), "42.0,:const,max,:stat");
        assert_eq!(shown(":random,avg,5m,:consolidate"), ":random,avg,5m,:consolidate");
        assert_eq!(
            shown("name,sps,:eq,(,c,),:by,max,PT1H,:consolidate"),
            "name,sps,:eq,:sum,(,c,),:by,max,1h,:consolidate"
        );
        assert_eq!(
            shown("name,sps,:eq,(,c,),:by,:stat-avg,5e3,:gt,:stat-avg,20e3,:lt,:and,:filter"),
            "name,sps,:eq,:sum,(,c,),:by,:stat-avg,5000.0,:const,:gt,:stat-avg,20000.0,:const,:lt,:and,:filter"
        );
        assert_eq!(
            shown("name,sps,:eq,(,c,),:by,max,3,:topk-others-sum"),
            "name,sps,:eq,:sum,(,c,),:by,max,3,:topk-others-sum"
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        let interpreter = Interpreter::default();
        for program in [
            "name,sps,:eq,median,:stat",
            "name,sps,:eq,max,0,:topk",
            "name,sps,:eq,max,-2,:bottomk",
            "name,sps,:eq,foo,2,:topk",
            "name,sps,:eq,(,a,),:by,name,sps,:eq,(,b,),:by,:filter",
            ":random,median,5m,:consolidate",
            ":random,avg,0s,:consolidate",
            ":random,avg,abc,:consolidate",
        ] {
            assert!(interpreter.execute(program).is_err(), "{program}");
        }
    }
}
