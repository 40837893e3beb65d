//! The `math` vocabulary's native words: generators (`:const`, `:random`, `:time`, ...),
//! unary and binary operators, aggregates over the lines of an expression, `:by`, `:cg`,
//! `:as`, `:named-rewrite`, `:percentiles` and `:sample-count`. The macros are in
//! [`math_macros`](super::math_macros).
//!
//! Design decision: where a parameter is a time series, a query stands for its `:sum` and a
//! number for a constant line (Atlas's `TimeSeriesExprType`), so `name,sps,:eq,42,:add` works;
//! the words themselves only build [`Expr`] trees through the constructors that enforce Atlas's
//! rules (constant folding, grouping checks), and fail with `InvalidExpression` when a rule is
//! broken.

use crate::error::Reason;
use crate::expr::{
    AggregateFunction, Aggregation, BinaryOp, DataExpr, Expr, NamedRewrite, Original, Percentiles, UnaryOp,
};
use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::query::Query;
use crate::time::{TimeField, format_double};
use crate::vocab::math_macros::{
    APPROX_DISTINCT, AVG, COS, COT, CSC, DIST_AVG, DIST_MAX, DIST_STDDEV, MEDIAN, PCT, SAMPLE_COUNT_ALL, SEC, STDDEV,
    TAN,
};
use crate::word::{Param, Vocabulary, Word};

/// The `math` vocabulary, in Atlas's order.
pub static MATH: Vocabulary = Vocabulary {
    name: "math",
    words: &[
        AS,
        BY,
        CONST,
        PI,
        RANDOM,
        SRANDOM,
        TIME,
        TIME_SPAN,
        CG,
        NAMED_REWRITE,
        CLAMP_MIN,
        CLAMP_MAX,
        ABS,
        NEG,
        SIN,
        SQRT,
        PER_STEP,
        ADD,
        SUB,
        MUL,
        DIV,
        POW,
        GT,
        GE,
        LT,
        LE,
        FADD,
        FSUB,
        FMUL,
        FDIV,
        AND,
        OR,
        SUM,
        COUNT,
        MIN,
        MAX,
        PERCENTILES,
        APPROX_DISTINCT,
        SAMPLE_COUNT,
        SAMPLE_COUNT_ALL,
        AVG,
        STDDEV,
        PCT,
        DIST_AVG,
        DIST_MAX,
        DIST_STDDEV,
        MEDIAN,
        COS,
        TAN,
        COT,
        SEC,
        CSC,
    ],
};

const fn word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word::native("math", name, params, signature, summary, examples, code)
}

/// A rule of the expression was broken.
fn invalid(message: String) -> Fail {
    Fail::Here(Reason::InvalidExpression(message))
}

const AS: Word = word(
    "as",
    &[Param::TimeSeries, Param::Str, Param::Str],
    "expr:TimeSeriesExpr original:String replacement:String -- TimeSeriesExpr",
    "Map a tag key name to an alternate name.",
    &["name,sps,:eq,(,nf.cluster,),:by,nf.cluster,c"],
    |ctx| {
        let replacement = ctx.peek_str(0)?.to_string();
        let original = ctx.peek_str(1)?.to_string();
        let expr = Box::new(ctx.peek_expr(2)?);
        Ok(ctx.replace_with_expr(3, Expr::As { expr, original, replacement })?)
    },
);

const BY: Word = word(
    "by",
    &[Param::TimeSeries, Param::StrList],
    "TimeSeriesExpr keys:List -- TimeSeriesExpr",
    "Apply a common group by to all aggregation functions in the expression.",
    &["name,sps,:eq,:avg,(,nf.cluster,)"],
    |ctx| {
        let keys = ctx.peek_strings(0)?;
        let expr = ctx.peek_expr(1)?;
        let grouped = match expr {
            Expr::Aggregate(aggregation, inner) if inner.is_grouped() => Expr::group_by(aggregation, *inner, keys),
            e if e.is_grouped() => Expr::group_by(Aggregation::Sum, e, keys),
            e => e.regroup(&keys),
        };
        Ok(ctx.replace_with_expr(2, grouped.map_err(invalid)?)?)
    },
);

const CONST: Word = word(
    "const",
    &[Param::Number],
    "v:Double -- TimeSeriesExpr",
    "Generates a line where each datapoint is a constant value.",
    &["42"],
    |ctx| {
        let v = ctx.peek_number(0)?;
        Ok(ctx.replace_with_expr(1, Expr::Constant(v))?)
    },
);

const PI: Word = word(
    "pi",
    &[],
    " -- TimeSeriesExpr",
    "Generates a line where each datapoint has the value of the mathematical constant π.",
    &[],
    |ctx| Ok(ctx.push_expr(Expr::Constant(std::f64::consts::PI))?),
);

const RANDOM: Word = word(
    "random",
    &[],
    " -- TimeSeriesExpr",
    "Generate a time series that appears to be random noise for the purposes of experimentation and generating \
     sample data.",
    &[""],
    |ctx| Ok(ctx.push_expr(Expr::Random)?),
);

const SRANDOM: Word = word(
    "srandom",
    &[Param::Int],
    "seed:Int -- TimeSeriesExpr",
    "Generate a time series that appears to be random noise for the purposes of experimentation and generating \
     sample data.",
    &["42"],
    |ctx| {
        let seed = i32::try_from(ctx.peek_int(0)?).map_err(|_| ctx.wrong_type_at(0, "Int"))?;
        Ok(ctx.replace_with_expr(1, Expr::SeededRandom(seed))?)
    },
);

const TIME: Word = word(
    "time",
    &[Param::Str],
    "mode:String -- TimeSeriesExpr",
    "Generates a line based on the current time.",
    &["hourOfDay", "HOUR_OF_DAY"],
    |ctx| {
        let mode = ctx.peek_str(0)?.to_string();
        let field = TimeField::parse(&mode).ok_or_else(|| invalid(format!("unknown time field {mode:?}")))?;
        Ok(ctx.replace_with_expr(1, Expr::Time(mode, field))?)
    },
);

const TIME_SPAN: Word = word(
    "time-span",
    &[Param::Str, Param::Str],
    "s:String e:String -- TimeSeriesExpr",
    "Generates a signal line based on the specified time range.",
    &["e-30m,ge", "2014-02-20T13:00,s%2B30m"],
    |ctx| {
        let end = ctx.peek_str(0)?.to_string();
        let start = ctx.peek_str(1)?.to_string();
        if let Some(zone) = ctx.variables.get("tz").and_then(Item::as_text)
            && !matches!(zone.as_ref(), "UTC" | "Z" | "GMT" | "Etc/UTC")
        {
            return Err(invalid(format!(":time-span supports UTC only, not time zone {zone:?}")));
        }
        Ok(ctx.replace_with_expr(2, Expr::TimeSpan { start, end })?)
    },
);

const CG: Word = word(
    "cg",
    &[Param::TimeSeries, Param::StrList],
    "Expr keys:List -- Expr",
    "Recursively add a list of keys to group by expressions",
    &["name,sps,:eq,(,nf.region,)", "name,bar,:eq,(,nf.node,),:by,(,nf.region,)"],
    |ctx| {
        let keys = ctx.peek_strings(0)?;
        let expr = ctx.peek_expr(1)?.add_common_keys(&keys).map_err(invalid)?;
        Ok(ctx.replace_with_expr(2, expr)?)
    },
);

const NAMED_REWRITE: Word = word(
    "named-rewrite",
    &[Param::TimeSeries, Param::TimeSeries, Param::Str],
    "original:TimeSeriesExpr rewritten:TimeSeriesExpr name:String -- TimeSeriesExpr",
    "Internal operation used by some macros to provide a more user friendly display expression.",
    &[],
    |ctx| {
        let name = ctx.peek_str(0)?.to_string();
        let eval = ctx.peek_expr(1)?;
        let original = match ctx.peek(2)? {
            Item::Query(q) => Original::Query((**q).clone()),
            _ => Original::Expr(ctx.peek_expr(2)?),
        };
        let rewrite = NamedRewrite { name, original, params: Vec::new(), eval };
        Ok(ctx.replace_with_expr(3, Expr::NamedRewrite(Box::new(rewrite)))?)
    },
);

const CLAMP_SIGNATURE: &str = "expr:TimeSeriesExpr bound:Double -- TimeSeriesExpr";

const CLAMP_MIN: Word = word(
    "clamp-min",
    &[Param::TimeSeries, Param::Number],
    CLAMP_SIGNATURE,
    "Restricts the minimum value of the output time series to the specified value.",
    &["name,sps,:eq,:sum,200e3"],
    |ctx| clamp(ctx, UnaryOp::ClampMin),
);

const CLAMP_MAX: Word = word(
    "clamp-max",
    &[Param::TimeSeries, Param::Number],
    CLAMP_SIGNATURE,
    "Restricts the maximum value of the output time series to the specified value.",
    &["name,sps,:eq,:sum,200e3"],
    |ctx| clamp(ctx, UnaryOp::ClampMax),
);

fn clamp(ctx: &mut Context<'_>, op: fn(f64) -> UnaryOp) -> Result<(), Fail> {
    let bound = ctx.peek_number(0)?;
    let expr = ctx.peek_expr(1)?;
    Ok(ctx.replace_with_expr(2, Expr::Unary(op(bound), Box::new(expr)))?)
}

const UNARY_SIGNATURE: &str = "expr:TimeSeriesExpr -- TimeSeriesExpr";
const UNARY_EXAMPLES: &[&str] = &["0", "64", "-64"];

const fn unary(name: &'static str, summary: &'static str, code: fn(&mut Context<'_>) -> Result<(), Fail>) -> Word {
    word(name, &[Param::TimeSeries], UNARY_SIGNATURE, summary, UNARY_EXAMPLES, code)
}

fn apply_unary(ctx: &mut Context<'_>, op: UnaryOp) -> Result<(), Fail> {
    let expr = ctx.peek_expr(0)?;
    Ok(ctx.replace_with_expr(1, Expr::unary(op, expr))?)
}

const ABS: Word = unary(
    "abs",
    "Compute a new time series where each interval has the absolute value of the input time series.",
    |ctx| apply_unary(ctx, UnaryOp::Abs),
);

const NEG: Word = unary(
    "neg",
    "Compute a new time series where each interval has the negated value of the input time series.",
    |ctx| apply_unary(ctx, UnaryOp::Neg),
);

const SIN: Word = unary(
    "sin",
    "Compute a new time series where each interval has the sine of the value from the input time series.",
    |ctx| apply_unary(ctx, UnaryOp::Sin),
);

const SQRT: Word = unary(
    "sqrt",
    "Compute a new time series where each interval has the square root of the value from the input time series.",
    |ctx| apply_unary(ctx, UnaryOp::Sqrt),
);

const PER_STEP: Word =
    unary("per-step", "Converts a line from a rate per second to a rate based on the step size of the graph.", |ctx| {
        apply_unary(ctx, UnaryOp::PerStep)
    });

const BINARY_SIGNATURE: &str = "t1:TimeSeriesExpr t2:TimeSeriesExpr -- TimeSeriesExpr";
const BINARY_EXAMPLES: &[&str] = &["name,sps,:eq,42", "name,sps,:eq,:sum,name,requestsPerSecond,:eq,:max,(,name,),:by"];

const fn binary(name: &'static str, summary: &'static str, code: fn(&mut Context<'_>) -> Result<(), Fail>) -> Word {
    word(name, &[Param::TimeSeries, Param::TimeSeries], BINARY_SIGNATURE, summary, BINARY_EXAMPLES, code)
}

fn apply_binary(ctx: &mut Context<'_>, op: BinaryOp) -> Result<(), Fail> {
    let right = ctx.peek_expr(0)?;
    let left = ctx.peek_expr(1)?;
    let expr = Expr::binary(op, left, right).map_err(invalid)?;
    Ok(ctx.replace_with_expr(2, expr)?)
}

const ADD: Word = binary(
    "add",
    "Compute a new time series where each interval has the value `(a addNaN b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Add),
);

const SUB: Word = binary(
    "sub",
    "Compute a new time series where each interval has the value `(a subtractNaN b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Sub),
);

const MUL: Word = binary(
    "mul",
    "Compute a new time series where each interval has the value `(a * b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Mul),
);

const DIV: Word = binary(
    "div",
    "Compute a new time series where each interval has the value `(a / b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Div),
);

const POW: Word = binary(
    "pow",
    "Compute a new time series where each interval has the value `(a power b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Pow),
);

const GT: Word = binary(
    "gt",
    "Compute a new time series where each interval has the value `(a > b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Gt),
);

const GE: Word = binary(
    "ge",
    "Compute a new time series where each interval has the value `(a >= b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Ge),
);

const LT: Word = binary(
    "lt",
    "Compute a new time series where each interval has the value `(a < b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Lt),
);

const LE: Word = binary(
    "le",
    "Compute a new time series where each interval has the value `(a <= b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Le),
);

const FADD: Word = binary("fadd", "Floating point addition operator.", |ctx| apply_binary(ctx, BinaryOp::FAdd));

const FSUB: Word = binary("fsub", "Floating point subtraction operator.", |ctx| apply_binary(ctx, BinaryOp::FSub));

const FMUL: Word = binary(
    "fmul",
    "Compute a new time series where each interval has the value `(a * b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::FMul),
);

const FDIV: Word = binary("fdiv", "Floating point division operator.", |ctx| apply_binary(ctx, BinaryOp::FDiv));

const AND: Word = binary(
    "and",
    "Compute a new time series where each interval has the value `(a AND b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::And),
);

const OR: Word = binary(
    "or",
    "Compute a new time series where each interval has the value `(a OR b)` where `a` and `b` are the \
     corresponding intervals in the input time series.",
    |ctx| apply_binary(ctx, BinaryOp::Or),
);

const AGGREGATE_EXAMPLES: &[&str] = &["name,sps,:eq,:sum", "name,sps,:eq,:max,(,nf.cluster,),:by"];

const fn aggregate(name: &'static str, summary: &'static str, code: fn(&mut Context<'_>) -> Result<(), Fail>) -> Word {
    word(name, &[Param::TimeSeries], UNARY_SIGNATURE, summary, AGGREGATE_EXAMPLES, code)
}

/// Math `:sum` and friends: the aggregate of a data aggregate is that aggregate itself (except
/// `:count`, which counts its one line), anything else is aggregated line by line.
fn apply_aggregate(ctx: &mut Context<'_>, aggregation: Aggregation) -> Result<(), Fail> {
    let expr = match ctx.peek_expr(0)? {
        e @ Expr::Data(DataExpr::Aggregate(_)) if aggregation != Aggregation::Count => e,
        e => Expr::Aggregate(aggregation, Box::new(e)),
    };
    Ok(ctx.replace_with_expr(1, expr)?)
}

const SUM: Word =
    aggregate("sum", "Compute the sum of all the time series that result from the previous expression.", |ctx| {
        apply_aggregate(ctx, Aggregation::Sum)
    });

const COUNT: Word =
    aggregate("count", "Compute the count of all the time series that result from the previous expression.", |ctx| {
        apply_aggregate(ctx, Aggregation::Count)
    });

const MIN: Word =
    aggregate("min", "Compute the min of all the time series that result from the previous expression.", |ctx| {
        apply_aggregate(ctx, Aggregation::Min)
    });

const MAX: Word =
    aggregate("max", "Compute the max of all the time series that result from the previous expression.", |ctx| {
        apply_aggregate(ctx, Aggregation::Max)
    });

const PERCENTILES: Word = word(
    "percentiles",
    &[Param::DataExpr, Param::NumberList],
    "DataExpr percentiles:List -- Expr",
    "Estimate percentiles for a timer or distribution summary.",
    &["name,requestLatency,:eq,(,25,50,90,)"],
    |ctx| {
        let mut pcts: Vec<f64> = ctx.peek_strings(0)?.iter().filter_map(|s| crate::time::parse_double(s)).collect();
        if let Some(bad) = pcts.iter().find(|p| !(0.0..=100.0).contains(*p)) {
            return Err(invalid(format!(
                "invalid percentile {}, value must be 0.0 <= p <= 100.0",
                format_double(*bad)
            )));
        }
        pcts.sort_by(f64::total_cmp);
        pcts.dedup();
        let to_sum = |af: &AggregateFunction| AggregateFunction {
            offset_ms: af.offset_ms,
            ..AggregateFunction::new(Aggregation::Sum, af.query.clone())
        };
        let data = match ctx.peek_expr(1)? {
            Expr::Data(DataExpr::Aggregate(af)) => {
                DataExpr::GroupBy { aggregate: to_sum(&af), keys: vec!["percentile".into()] }
            }
            Expr::Data(DataExpr::GroupBy { aggregate, keys }) => {
                let mut all = vec!["percentile".to_string()];
                all.extend(keys.into_iter().filter(|k| k != "percentile"));
                DataExpr::GroupBy { aggregate: to_sum(&aggregate), keys: all }
            }
            _ => return Err(invalid(":percentiles can only be used with :sum and :by".into())),
        };
        let expr = Expr::Percentiles(Box::new(Percentiles { data, percentiles: pcts }));
        Ok(ctx.replace_with_expr(2, expr)?)
    },
);

const SAMPLE_COUNT: Word = word(
    "sample-count",
    &[Param::Query, Param::Number, Param::Number],
    "q:Query min:Double max:Double -- TimeSeriesExpr",
    "Estimate the number of samples for a percentile approximation within a range of the distribution.",
    &[],
    |ctx| {
        let max = ctx.peek_number(0)?;
        let min = ctx.peek_number(1)?;
        let query = (**ctx.peek_query(2)?).clone();
        if min.is_nan() || max.is_nan() || min >= max || min < 0.0 {
            return Err(invalid(format!(
                "sample-count range must have 0 <= min < max (min={}, max={})",
                format_double(min),
                format_double(max)
            )));
        }
        let range = bucket_range("D", min, max).or(bucket_range("T", min * 1e9, max * 1e9));
        let eval = Expr::Data(DataExpr::Aggregate(AggregateFunction::new(Aggregation::Sum, query.clone().and(range))));
        let rewrite = NamedRewrite {
            name: "sample-count".into(),
            original: Original::Query(query),
            params: vec![min, max],
            eval,
        };
        Ok(ctx.replace_with_expr(3, Expr::NamedRewrite(Box::new(rewrite)))?)
    },
);

/// The `percentile` tags of the buckets covering `[min, max]`, as a range query.
fn bucket_range(prefix: &str, min: f64, max: f64) -> Query {
    let label = |v: f64| format!("{prefix}{:04X}", crate::eval::bucket_index(v as i64));
    Query::Ge("percentile".into(), label(min)).and(Query::Le("percentile".into(), label(max)))
}

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
    fn builds_normalized_math_expressions() {
        let cases = [
            ("name,sps,:eq,42,:add", "name,sps,:eq,:sum,42.0,:const,:add"),
            ("1,2,:add", "3.0,:const"),
            ("-64,:abs", "64.0,:const"),
            ("2,:per-step", "2.0,:const,:per-step"),
            ("name,sps,:eq,:sum,:sum", "name,sps,:eq,:sum"),
            ("name,sps,:eq,:sum,:count", "name,sps,:eq,:sum,:count"),
            ("name,sps,:eq,(,a,),:by,:max", "name,sps,:eq,:sum,(,a,),:by,:max"),
            ("name,sps,:eq,(,a,b,),:by,:max,(,a,),:by", "name,sps,:eq,:sum,(,a,b,),:by,:max,(,a,),:by"),
            ("name,sps,:eq,(,a,),:by,(,a,),:by", "name,sps,:eq,:sum,(,a,),:by,:sum,(,a,),:by"),
            ("name,sps,:eq,(,a,),:by,a,b,:as", "name,sps,:eq,:sum,(,a,),:by,a,b,:as"),
            ("name,sps,:eq,:avg", "name,sps,:eq,:avg"),
            ("name,sps,:eq,:avg,(,a,),:by", "name,sps,:eq,:avg,(,a,),:by"),
            ("name,sps,:eq,1h,:offset,:avg", "name,sps,:eq,:sum,1h,:offset,:avg"),
            ("name,sps,:eq,(,a,),:cg", "name,sps,:eq,:sum,(,a,),:by"),
            ("name,x,:eq,(,b,),:by,(,a,),:cg", "name,x,:eq,:sum,(,b,a,),:by"),
            ("name,sps,:eq,(,25,50,90,),:percentiles", "name,sps,:eq,(,25.0,50.0,90.0,),:percentiles"),
            ("name,sps,:eq,(,a,),:by,:median", "name,sps,:eq,(,a,),:by,(,50.0,),:percentiles"),
            ("name,sps,:eq,5,:clamp-max", "name,sps,:eq,:sum,5.0,:clamp-max"),
            ("hourOfDay,:time", "hourOfDay,:time"),
            ("3,:srandom", "3,:srandom"),
            ("name,d,:eq,:dist-max", "name,d,:eq,:dist-max"),
            ("name,d,:eq,:sample-count", "name,d,:eq,:sample-count"),
        ];
        for (program, expected) in cases {
            assert_eq!(run(program), expected, "{program}");
            assert_eq!(run(expected), expected, "{expected} reads back to itself");
        }
    }

    #[test]
    fn rules_of_expressions_are_enforced() {
        let err = run("name,a,:eq,(,x,),:by,name,b,:eq,(,y,),:by,:add");
        assert!(err.starts_with("ERROR: invalid expression: both sides of :add"), "{err}");
        assert!(run("name,a,:eq,(,x,),:by,:max,(,y,),:by").contains("is not a subset"));
        assert!(run("fortnight,:time").contains("unknown time field"));
        assert!(run("name,a,:eq,(,101,),:percentiles").contains("invalid percentile 101.0"));
        assert!(run("name,a,:eq,:all,(,50,),:percentiles").contains("can only be used with :sum and :by"));
        assert!(run("name,a,:eq,5,1,:sample-count").contains("0 <= min < max"));
        assert!(run("1,a,:add").contains("wrong item types"));
    }

    #[test]
    fn expressions_are_bounded_in_size() {
        let mut program = String::from("name,a,:eq");
        for _ in 0..20 {
            program.push_str(",:dup,:add");
        }
        assert!(run(&program).contains("expression has more than"), "doubling twenty times is refused");
        let deep = format!("name,a,:eq{}", ",:abs".repeat(300).replace(":abs", "1,:add"));
        assert!(run(&deep).contains("expression is nested deeper than 200"), "{}", run(&deep));
    }
}
