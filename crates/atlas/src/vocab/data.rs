//! The `data` vocabulary: words that turn a query into a data expression (`:all`, `:sum`,
//! `:count`, `:min`, `:max`, `:by`) and adjust how it is fetched (`:offset`, `:cf-*`).
//!
//! Design decision: these words come before `math` in the lookup order, so `:sum` on a query
//! builds the data aggregate and only `:sum` on another expression reaches math's aggregate over
//! lines, as in Atlas; `:offset` and the `:cf-*` words take any time-series expression and
//! rewrite every data expression inside it.

use crate::expr::{AggregateFunction, Aggregation, Consolidation, DataExpr, Expr};
use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::word::{Param, Vocabulary, Word};

/// The `data` vocabulary, in Atlas's order.
pub static DATA: Vocabulary =
    Vocabulary { name: "data", words: &[ALL, SUM, COUNT, MIN, MAX, BY, OFFSET, CF_AVG, CF_SUM, CF_MIN, CF_MAX] };

const fn word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word::native("data", name, params, signature, summary, examples, code)
}

/// Replaces the query on top of the stack with its aggregate.
fn aggregate(ctx: &mut Context<'_>, aggregation: Aggregation) -> Result<(), Fail> {
    let query = (**ctx.peek_query(0)?).clone();
    let expr = Expr::Data(DataExpr::Aggregate(AggregateFunction::new(aggregation, query)));
    Ok(ctx.replace_with_expr(1, expr)?)
}

/// Replaces the expression on top of the stack with one consolidating by `consolidation`.
fn consolidate(ctx: &mut Context<'_>, consolidation: Consolidation) -> Result<(), Fail> {
    let expr = ctx.peek_expr(0)?.with_consolidation(consolidation);
    Ok(ctx.replace_with_expr(1, expr)?)
}

const AGGREGATE_SIGNATURE: &str = "q:Query -- DataExpr";
const AGGREGATE_EXAMPLES: &[&str] = &["name,sps,:eq"];

const ALL: Word = word(
    "all",
    &[Param::Query],
    AGGREGATE_SIGNATURE,
    "Fetch all time series that match the query.",
    &["name,sps,:eq,nf.cluster,nccp-ps3,:eq,:and"],
    |ctx| {
        let query = (**ctx.peek_query(0)?).clone();
        Ok(ctx.replace_with_expr(1, Expr::Data(DataExpr::All { query, offset_ms: 0 }))?)
    },
);

const SUM: Word = word(
    "sum",
    &[Param::Query],
    AGGREGATE_SIGNATURE,
    "Compute the sum of all the time series that match the query.",
    AGGREGATE_EXAMPLES,
    |ctx| aggregate(ctx, Aggregation::Sum),
);

const COUNT: Word = word(
    "count",
    &[Param::Query],
    AGGREGATE_SIGNATURE,
    "Compute the number of time series that match the query and have a value for a given interval.",
    AGGREGATE_EXAMPLES,
    |ctx| aggregate(ctx, Aggregation::Count),
);

const MIN: Word = word(
    "min",
    &[Param::Query],
    AGGREGATE_SIGNATURE,
    "For each interval compute the min of the values from all the time series that match the query.",
    AGGREGATE_EXAMPLES,
    |ctx| aggregate(ctx, Aggregation::Min),
);

const MAX: Word = word(
    "max",
    &[Param::Query],
    AGGREGATE_SIGNATURE,
    "For each interval compute the max of the values from all the time series that match the query.",
    AGGREGATE_EXAMPLES,
    |ctx| aggregate(ctx, Aggregation::Max),
);

const BY: Word = word(
    "by",
    &[Param::Aggregate, Param::StrList],
    "af:AggregateFunction keys:List -- DataExpr",
    "Compute a set of time series matching the query and grouped by the specified keys.",
    &[
        "name,sps,:eq,(,name,)",
        "name,sps,:eq,:max,(,nf.cluster,)",
        "name,sps,:eq,nf.cluster,nccp-silverlight,:eq,:and,(,nf.asg,nf.zone,)",
    ],
    |ctx| {
        let keys = ctx.peek_strings(0)?;
        let aggregate = match ctx.peek(1)? {
            Item::Query(q) => AggregateFunction::new(Aggregation::Sum, (**q).clone()),
            Item::Expr(e) => match &**e {
                Expr::Data(DataExpr::Aggregate(af)) => af.clone(),
                _ => return Err(Fail::Here(ctx.wrong_type_at(1, "AggregateFunction"))),
            },
            _ => return Err(Fail::Here(ctx.wrong_type_at(1, "AggregateFunction"))),
        };
        Ok(ctx.replace_with_expr(2, Expr::Data(DataExpr::GroupBy { aggregate, keys }))?)
    },
);

const OFFSET: Word = word(
    "offset",
    &[Param::TimeSeries, Param::Duration],
    "expr:TimeSeriesExpr dur:Duration -- TimeSeriesExpr",
    "Shift the time frame to use when fetching the data.",
    &["name,sps,:eq,(,name,),:by,1w", "name,sps,:eq,:max,PT1H"],
    |ctx| {
        let offset = ctx.peek_duration(0)?;
        let expr = ctx.peek_expr(1)?.with_offset(offset);
        Ok(ctx.replace_with_expr(2, expr)?)
    },
);

const CF_SIGNATURE: &str = "expr:TimeSeriesExpr -- TimeSeriesExpr";
const CF_EXAMPLES: &[&str] =
    &["name,sps,:eq", "name,sps,:eq,:min", "name,sps,:eq,:max", "name,sps,:eq,:sum", "name,sps,:eq,:count"];

const CF_AVG: Word = word(
    "cf-avg",
    &[Param::TimeSeries],
    CF_SIGNATURE,
    "Consolidate using the average of the primary datapoints.",
    CF_EXAMPLES,
    |ctx| consolidate(ctx, Consolidation::Avg),
);

const CF_SUM: Word = word(
    "cf-sum",
    &[Param::TimeSeries],
    CF_SIGNATURE,
    "Consolidate using the sum of the primary datapoints.",
    CF_EXAMPLES,
    |ctx| consolidate(ctx, Consolidation::Sum),
);

const CF_MIN: Word = word(
    "cf-min",
    &[Param::TimeSeries],
    CF_SIGNATURE,
    "Consolidate using the minimum of the primary datapoints.",
    CF_EXAMPLES,
    |ctx| consolidate(ctx, Consolidation::Min),
);

const CF_MAX: Word = word(
    "cf-max",
    &[Param::TimeSeries],
    CF_SIGNATURE,
    "Consolidate using the maximum of the primary datapoints.",
    CF_EXAMPLES,
    |ctx| consolidate(ctx, Consolidation::Max),
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
    fn builds_normalized_data_expressions() {
        let cases = [
            ("name,sps,:eq,:sum", "name,sps,:eq,:sum"),
            ("name,sps,:eq,:min", "name,sps,:eq,:min"),
            ("a,b,:eq,:all", "a,b,:eq,:all"),
            ("name,sps,:eq,(,nf.app,),:by", "name,sps,:eq,:sum,(,nf.app,),:by"),
            ("name,sps,:eq,:max,(,nf.app,),:by,1w,:offset", "name,sps,:eq,:max,(,nf.app,),:by,1w,:offset"),
            ("name,sps,:eq,PT1H,:offset", "name,sps,:eq,:sum,1h,:offset"),
            ("name,sps,:eq,:cf-max", "name,sps,:eq,:sum,:cf-max"),
            ("name,sps,:eq,:min,:cf-min", "name,sps,:eq,:min"),
            ("name,sps,:eq,:min,:cf-avg", "name,sps,:eq,:min,:cf-avg"),
            ("name,sps,:eq,:count,:cf-sum,(,a,),:by", "name,sps,:eq,:count,:cf-sum,(,a,),:by"),
            ("42,:cf-sum", "42.0,:const"),
        ];
        for (program, expected) in cases {
            assert_eq!(run(program), expected, "{program}");
            assert_eq!(run(expected), expected, "{expected} reads back to itself");
        }
    }

    #[test]
    fn wrong_inputs_fail() {
        assert_eq!(run("name,sps,:eq,:all,(,a,),:by"), "name,sps,:eq,:all", "math :by leaves :all as it is");
        // Not a duration, nor the list of durations style's `:offset` takes.
        assert!(run("name,sps,:eq,1x,:offset").contains("wrong item types"));
        assert!(run("name,:sum").contains("wrong item types"));
    }
}
