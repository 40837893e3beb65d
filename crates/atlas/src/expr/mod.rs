//! Time-series expressions: what the `data` and `math` words build from queries and numbers,
//! what [`evaluate`](crate::Interpreter::evaluate) turns into lines, and how they are written
//! back in the stack language.
//!
//! Design decision: one [`Expr`] enum mirrors Atlas's expression classes (data expressions,
//! generators, unary, binary, aggregate and group-by operators, named rewrites) and keeps their
//! rules in plain functions over the tree: the grouping that decides how a binary operator joins
//! its sides, the constant folding `:add` does on two numbers, the checks Atlas makes when it
//! builds an expression. The rewrites words apply to a whole expression (`:cq`, `:offset`,
//! `:cf-*`, math `:by`, `:cg`) live in [`rewrite`]. `Display` writes the normalized program, so a
//! displayed expression runs back to an equal one.

mod distinct;
mod filter;
mod rewrite;
mod stateful;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::lexer::escape_into;
use crate::query::Query;
use crate::time::{TimeField, format_double, format_duration};

pub(crate) use distinct::{DISTINCT_KEY, register_expr};
pub use filter::{OthersAggregation, PriorityFilter, SummaryStat};
pub use stateful::StatefulOp;

/// How the values of several series are combined into one, per interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// Sum, a NaN counting as 0 when another value is present.
    Sum,
    /// Number of series with a value.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

impl Aggregation {
    /// The word's name: `sum`, `count`, `min`, `max`.
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Count => "count",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
        }
    }

    /// The consolidation Atlas uses for this aggregate unless a `:cf-*` word says otherwise:
    /// average for `:sum` and `:count`, the aggregate itself for `:min` and `:max`.
    pub fn default_consolidation(self) -> Consolidation {
        match self {
            Aggregation::Sum | Aggregation::Count => Consolidation::Avg,
            Aggregation::Min => Consolidation::Min,
            Aggregation::Max => Consolidation::Max,
        }
    }
}

/// How the raw samples that fall into one step interval become one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consolidation {
    /// Mean of the samples (`:cf-avg`).
    Avg,
    /// Sum of the samples (`:cf-sum`).
    Sum,
    /// Smallest sample (`:cf-min`).
    Min,
    /// Largest sample (`:cf-max`).
    Max,
}

impl Consolidation {
    /// The name after `cf-`: `avg`, `sum`, `min`, `max`.
    pub fn name(self) -> &'static str {
        match self {
            Consolidation::Avg => "avg",
            Consolidation::Sum => "sum",
            Consolidation::Min => "min",
            Consolidation::Max => "max",
        }
    }
}

/// An aggregate over the series a query selects: `name,sps,:eq,:max`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateFunction {
    /// How the selected series are combined.
    pub aggregation: Aggregation,
    /// Which series are selected.
    pub query: Query,
    /// How each series' samples are consolidated to the step first.
    pub consolidation: Consolidation,
    /// How far back the data is fetched, in milliseconds (`:offset`); 0 for none.
    pub offset_ms: i64,
}

impl AggregateFunction {
    /// The aggregate with its default consolidation and no offset.
    pub fn new(aggregation: Aggregation, query: Query) -> Self {
        AggregateFunction { aggregation, consolidation: aggregation.default_consolidation(), query, offset_ms: 0 }
    }

    /// The legend Atlas gives it: `sum(name=sps)`.
    pub fn label(&self) -> String {
        format!("{}({})", self.aggregation.name(), self.query.label())
    }
}

/// An expression that reads stored data.
#[derive(Debug, Clone, PartialEq)]
pub enum DataExpr {
    /// Every matching series as it is (`:all`).
    All {
        /// Which series are selected.
        query: Query,
        /// How far back the data is fetched, in milliseconds.
        offset_ms: i64,
    },
    /// One aggregate of all matching series (`:sum`, `:count`, `:min`, `:max`).
    Aggregate(AggregateFunction),
    /// One aggregate per distinct combination of the keys' values (`(,k,),:by`); series missing
    /// a key are dropped.
    GroupBy {
        /// The aggregate applied within each group.
        aggregate: AggregateFunction,
        /// The tag keys that form a group.
        keys: Vec<String>,
    },
}

impl DataExpr {
    /// The query selecting the input series.
    pub fn query(&self) -> &Query {
        match self {
            DataExpr::All { query, .. } => query,
            DataExpr::Aggregate(af) | DataExpr::GroupBy { aggregate: af, .. } => &af.query,
        }
    }

    /// The offset in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        match self {
            DataExpr::All { offset_ms, .. } => *offset_ms,
            DataExpr::Aggregate(af) | DataExpr::GroupBy { aggregate: af, .. } => af.offset_ms,
        }
    }

    /// How each input series is consolidated to the step (`:all` sums, as Atlas's does).
    pub fn consolidation(&self) -> Consolidation {
        match self {
            DataExpr::All { .. } => Consolidation::Sum,
            DataExpr::Aggregate(af) | DataExpr::GroupBy { aggregate: af, .. } => af.consolidation,
        }
    }

    /// The group-by keys, empty unless grouped.
    pub fn keys(&self) -> &[String] {
        match self {
            DataExpr::GroupBy { keys, .. } => keys,
            _ => &[],
        }
    }
}

/// An operation on each value of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    /// Absolute value (`:abs`).
    Abs,
    /// Negation (`:neg`).
    Neg,
    /// Sine (`:sin`).
    Sin,
    /// Square root (`:sqrt`).
    Sqrt,
    /// Rate per second to rate per step (`:per-step`): times the step in seconds.
    PerStep,
    /// Values below the bound become the bound (`:clamp-min`).
    ClampMin(f64),
    /// Values above the bound become the bound (`:clamp-max`).
    ClampMax(f64),
}

impl UnaryOp {
    /// The word's name.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Abs => "abs",
            UnaryOp::Neg => "neg",
            UnaryOp::Sin => "sin",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::PerStep => "per-step",
            UnaryOp::ClampMin(_) => "clamp-min",
            UnaryOp::ClampMax(_) => "clamp-max",
        }
    }

    /// The operation on one value, with the step in milliseconds.
    pub fn apply(self, v: f64, step_ms: i64) -> f64 {
        match self {
            UnaryOp::Abs => v.abs(),
            UnaryOp::Neg => -v,
            UnaryOp::Sin => v.sin(),
            UnaryOp::Sqrt => v.sqrt(),
            UnaryOp::PerStep => v * (step_ms as f64 / 1000.0),
            UnaryOp::ClampMin(min) => {
                if v < min {
                    min
                } else {
                    v
                }
            }
            UnaryOp::ClampMax(max) => {
                if v > max {
                    max
                } else {
                    v
                }
            }
        }
    }
}

/// An operation on the values of two series, interval by interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// Sum, a lone NaN counting as 0 (`:add`).
    Add,
    /// Difference, a lone NaN counting as 0 (`:sub`).
    Sub,
    /// Product (`:mul`).
    Mul,
    /// Quotient, with `0/0 = 0` and `x/0 = NaN` (`:div`).
    Div,
    /// Power (`:pow`).
    Pow,
    /// 1 if greater, else 0 (`:gt`).
    Gt,
    /// 1 if greater or equal, else 0 (`:ge`).
    Ge,
    /// 1 if less, else 0 (`:lt`).
    Lt,
    /// 1 if less or equal, else 0 (`:le`).
    Le,
    /// IEEE sum, NaN if either is NaN (`:fadd`).
    FAdd,
    /// IEEE difference (`:fsub`).
    FSub,
    /// IEEE product (`:fmul`).
    FMul,
    /// IEEE quotient, `x/0` is infinite (`:fdiv`).
    FDiv,
    /// 1 if both are true (not NaN and not nearly 0), else 0 (`:and`).
    And,
    /// 1 if either is true, else 0 (`:or`).
    Or,
}

/// Adds treating NaN as 0 when the other side is a number: Atlas's `addNaN`.
pub fn add_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() {
        a
    } else {
        a + b
    }
}

/// The smaller value, a NaN losing to any number: Atlas's `minNaN`.
pub fn min_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b < a { b } else { a }
}

/// The larger value, a NaN losing to any number: Atlas's `maxNaN`.
pub fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b > a { b } else { a }
}

/// Atlas's truth of a value: false for NaN and anything within 1e-12 of 0.
fn truthy(v: f64) -> bool {
    !(v.is_nan() || v.abs() < 1e-12)
}

impl BinaryOp {
    /// The word's name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::FAdd => "fadd",
            BinaryOp::FSub => "fsub",
            BinaryOp::FMul => "fmul",
            BinaryOp::FDiv => "fdiv",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// The operation on one pair of values.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        let flag = |c: bool| if c { 1.0 } else { 0.0 };
        match self {
            BinaryOp::Add => add_nan(a, b),
            BinaryOp::Sub => add_nan(a, -b),
            BinaryOp::Mul | BinaryOp::FMul => a * b,
            BinaryOp::Div if b == 0.0 => {
                if a == 0.0 {
                    0.0
                } else {
                    f64::NAN
                }
            }
            BinaryOp::Div | BinaryOp::FDiv => a / b,
            BinaryOp::Pow => a.powf(b),
            BinaryOp::Gt => flag(a > b),
            BinaryOp::Ge => flag(a >= b),
            BinaryOp::Lt => flag(a < b),
            BinaryOp::Le => flag(a <= b),
            BinaryOp::FAdd => a + b,
            BinaryOp::FSub => a - b,
            BinaryOp::And => flag(truthy(a) && truthy(b)),
            BinaryOp::Or => flag(truthy(a) || truthy(b)),
        }
    }
}

/// What a named rewrite shows in place of the expression it evaluates.
#[derive(Debug, Clone, PartialEq)]
pub enum Original {
    /// The query the macro was given (`name,sps,:eq` in `name,sps,:eq,:avg`).
    Query(Query),
    /// The expression the macro was given.
    Expr(Expr),
}

/// A macro's result remembered under its name, so `q,:avg` displays as `q,:avg` rather than
/// as the `:sum`/`:count`/`:div` it evaluates, and a later `:by` regroups its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRewrite {
    /// The macro's name: `avg`, `stddev`, ...
    pub name: String,
    /// What the macro was applied to.
    pub original: Original,
    /// Numbers written before the name (`0,Infinity,:sample-count`).
    pub params: Vec<f64>,
    /// The expression evaluated.
    pub eval: Expr,
}

/// Percentile estimates from a percentile-bucketed timer or distribution summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    /// The summed buckets, grouped by `percentile` first and then by the user's keys.
    pub data: DataExpr,
    /// The percentiles wanted, sorted, each within 0-100.
    pub percentiles: Vec<f64>,
}

/// A time-series expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Stored data.
    Data(DataExpr),
    /// The same value at every interval (`:const`, or a number where an expression is expected).
    Constant(f64),
    /// Deterministic noise in [0, 1) from a hash of the timestamp (`:random`).
    Random,
    /// Noise as `:random`, varied by a seed (`:srandom`).
    SeededRandom(i32),
    /// A field of each interval's timestamp (`:time`); the mode as written is kept for display.
    Time(String, TimeField),
    /// 1 within a time range, else 0 (`:time-span`); the dates are parsed at evaluation.
    TimeSpan {
        /// The start date as written (`e-30m`).
        start: String,
        /// The end date as written (`ge`).
        end: String,
    },
    /// A tag key renamed on the result (`:as`).
    As {
        /// The input.
        expr: Box<Expr>,
        /// The key to rename.
        original: String,
        /// Its new name.
        replacement: String,
    },
    /// A unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operation, joining the sides by their grouping.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// An aggregate over all series of the input (math `:sum`, `:count`, `:min`, `:max`).
    Aggregate(Aggregation, Box<Expr>),
    /// An aggregate over the input's series per group of keys (math `:by`).
    GroupBy {
        /// The aggregate applied within each group.
        aggregation: Aggregation,
        /// The grouped input.
        expr: Box<Expr>,
        /// The keys, a subset of the input's grouping.
        keys: Vec<String>,
    },
    /// Percentile estimates (`:percentiles`).
    Percentiles(Box<Percentiles>),
    /// A macro's result under its name (`:named-rewrite`).
    NamedRewrite(Box<NamedRewrite>),
    /// Each line of the input as a constant line of its summary statistic (`:stat`).
    Stat {
        /// The input.
        expr: Box<Expr>,
        /// The statistic.
        stat: SummaryStat,
    },
    /// A statistic of the line being filtered (`:stat-avg` ...), meaningful only in a
    /// `:filter` condition.
    StatPlaceholder(SummaryStat),
    /// The lines of `expr` whose matching condition line is true at some interval (`:filter`).
    Filter {
        /// The input.
        expr: Box<Expr>,
        /// The condition as written, stat placeholders included.
        condition: Box<Expr>,
    },
    /// The k lines with the highest or lowest statistic (`:topk`, `:bottomk`, `-others-*`).
    Priority(Box<PriorityFilter>),
    /// A stateful operation on each line of the input, in time order (`:rolling-sum`, ...).
    Stateful {
        /// The input.
        expr: Box<Expr>,
        /// The operation and its parameters.
        op: StatefulOp,
    },
    /// The distinct count estimated from the sketch registers the input reads
    /// (`:approx-distinct`); the input is kept as written and the registers derived from it.
    ApproxDistinct(Box<Expr>),
}

impl Expr {
    /// A binary operation, folded to a constant when both sides are constants, and refused when
    /// both sides are grouped and neither grouping contains the other.
    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Result<Expr, String> {
        if let (Expr::Constant(a), Expr::Constant(b)) = (&left, &right) {
            return Ok(Expr::Constant(op.apply(*a, *b)));
        }
        if left.is_grouped() && right.is_grouped() {
            let (g1, g2) = (left.grouping(), right.grouping());
            let (s1, s2): (BTreeSet<_>, BTreeSet<_>) = (g1.iter().collect(), g2.iter().collect());
            if !s1.is_subset(&s2) && !s2.is_subset(&s1) {
                return Err(format!(
                    "both sides of :{} must have the same grouping or one side must be a subset of the other \
                     [(,{},) vs (,{},)]",
                    op.name(),
                    g1.join(","),
                    g2.join(",")
                ));
            }
        }
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    /// A unary operation; on a constant, `:abs`, `:neg`, `:sin` and `:sqrt` fold to a constant.
    pub fn unary(op: UnaryOp, expr: Expr) -> Expr {
        match (op, expr) {
            (UnaryOp::Abs | UnaryOp::Neg | UnaryOp::Sin | UnaryOp::Sqrt, Expr::Constant(v)) => {
                Expr::Constant(op.apply(v, 0))
            }
            (op, expr) => Expr::Unary(op, Box::new(expr)),
        }
    }

    /// Math `:by` over a grouped input: the input's grouping must contain every key.
    pub fn group_by(aggregation: Aggregation, expr: Expr, keys: Vec<String>) -> Result<Expr, String> {
        if !expr.is_grouped() {
            return Err("input expression must already be grouped with :by".into());
        }
        let grouping = expr.grouping();
        if !keys.iter().all(|k| grouping.contains(k)) {
            return Err(format!("(,{},) is not a subset of (,{},)", keys.join(","), grouping.join(",")));
        }
        Ok(Expr::GroupBy { aggregation, expr: Box::new(expr), keys })
    }

    /// The data expressions inside, left to right.
    pub fn data_exprs(&self) -> Vec<&DataExpr> {
        let mut out = Vec::new();
        self.collect_data(&mut out);
        out
    }

    fn collect_data<'a>(&'a self, out: &mut Vec<&'a DataExpr>) {
        match self {
            Expr::Data(d) => out.push(d),
            Expr::Percentiles(p) => out.push(&p.data),
            Expr::As { expr, .. }
            | Expr::Unary(_, expr)
            | Expr::Aggregate(_, expr)
            | Expr::GroupBy { expr, .. }
            | Expr::Stat { expr, .. }
            | Expr::Stateful { expr, .. }
            | Expr::ApproxDistinct(expr) => expr.collect_data(out),
            Expr::Priority(p) => p.expr.collect_data(out),
            Expr::Binary(_, a, b) | Expr::Filter { expr: a, condition: b } => {
                a.collect_data(out);
                b.collect_data(out);
            }
            Expr::NamedRewrite(nr) => nr.eval.collect_data(out),
            Expr::Constant(_)
            | Expr::Random
            | Expr::SeededRandom(_)
            | Expr::Time(..)
            | Expr::TimeSpan { .. }
            | Expr::StatPlaceholder(_) => {}
        }
    }

    /// Whether the result is one series per group rather than one series.
    pub fn is_grouped(&self) -> bool {
        match self {
            Expr::Data(d) => matches!(d, DataExpr::GroupBy { .. }),
            Expr::As { expr, .. }
            | Expr::Unary(_, expr)
            | Expr::Stat { expr, .. }
            | Expr::Filter { expr, .. }
            | Expr::Stateful { expr, .. } => expr.is_grouped(),
            Expr::Priority(p) => p.expr.is_grouped(),
            Expr::Binary(_, a, b) => a.is_grouped() || b.is_grouped(),
            Expr::GroupBy { .. } | Expr::Percentiles(_) => true,
            Expr::ApproxDistinct(input) => !distinct::grouping(input).is_empty(),
            Expr::NamedRewrite(nr) => nr.eval.is_grouped(),
            _ => false,
        }
    }

    /// The keys the result is grouped by, in order; empty if it is not grouped.
    pub fn grouping(&self) -> Vec<String> {
        match self {
            Expr::Data(d) => d.keys().to_vec(),
            Expr::Percentiles(p) => p.data.keys().to_vec(),
            Expr::As { expr, original, replacement } => {
                expr.grouping().into_iter().map(|k| if k == *original { replacement.clone() } else { k }).collect()
            }
            Expr::Unary(_, expr)
            | Expr::Stat { expr, .. }
            | Expr::Filter { expr, .. }
            | Expr::Stateful { expr, .. } => expr.grouping(),
            Expr::Priority(p) => p.expr.grouping(),
            Expr::Binary(_, a, b) => {
                if uses_left_grouping(a, b) {
                    a.grouping()
                } else {
                    b.grouping()
                }
            }
            Expr::GroupBy { keys, .. } => keys.clone(),
            Expr::ApproxDistinct(input) => distinct::grouping(input),
            Expr::NamedRewrite(nr) => nr.eval.grouping(),
            _ => Vec::new(),
        }
    }

    /// The group a series with these tags belongs to (`(k=v k2=v2)`), `None` if the expression
    /// is not grouped or a key is missing.
    pub(crate) fn group_key(&self, tags: &BTreeMap<String, String>) -> Option<String> {
        let keys = self.grouping();
        if keys.is_empty() { None } else { key_string(&keys, tags) }
    }

    /// The size of the expression: its nodes (the nodes of its queries included) and its depth
    /// (a leaf has depth 1; queries do not add to it, their depth is limited on their own).
    pub(crate) fn shape(&self) -> (usize, usize) {
        let query_nodes = |q: &Query| q.shape().nodes;
        let (nodes, depth) = match self {
            Expr::Data(d) => (query_nodes(d.query()) + d.keys().len(), 0),
            Expr::Percentiles(p) => (query_nodes(p.data.query()) + p.data.keys().len() + p.percentiles.len(), 0),
            Expr::As { expr, .. }
            | Expr::Unary(_, expr)
            | Expr::Aggregate(_, expr)
            | Expr::Stat { expr, .. }
            | Expr::Stateful { expr, .. }
            | Expr::ApproxDistinct(expr) => expr.shape(),
            Expr::Priority(p) => p.expr.shape(),
            Expr::GroupBy { expr, keys, .. } => {
                let (nodes, depth) = expr.shape();
                (nodes + keys.len(), depth)
            }
            Expr::Binary(_, a, b) | Expr::Filter { expr: a, condition: b } => {
                let ((n1, d1), (n2, d2)) = (a.shape(), b.shape());
                (n1 + n2, d1.max(d2))
            }
            Expr::NamedRewrite(nr) => {
                let (original_nodes, original_depth) = match &nr.original {
                    Original::Query(q) => (query_nodes(q), 0),
                    Original::Expr(e) => e.shape(),
                };
                let (eval_nodes, eval_depth) = nr.eval.shape();
                (original_nodes + eval_nodes, original_depth.max(eval_depth))
            }
            Expr::Constant(_)
            | Expr::Random
            | Expr::SeededRandom(_)
            | Expr::Time(..)
            | Expr::TimeSpan { .. }
            | Expr::StatPlaceholder(_) => (0, 0),
        };
        (nodes + 1, depth + 1)
    }

    /// The one non-zero offset all data expressions share, if they do.
    pub(crate) fn common_offset(&self) -> Option<i64> {
        let mut offsets: Vec<i64> = self.data_exprs().iter().map(|d| d.offset_ms()).collect();
        offsets.sort_unstable();
        offsets.dedup();
        match offsets.as_slice() {
            [offset] if *offset != 0 => Some(*offset),
            _ => None,
        }
    }
}

/// Whether a binary operator keeps its left side's grouping: when the right side's keys are a
/// subset of the left's (so also when neither is grouped).
pub(crate) fn uses_left_grouping(left: &Expr, right: &Expr) -> bool {
    let left: BTreeSet<String> = left.grouping().into_iter().collect();
    right.grouping().iter().all(|k| left.contains(k))
}

/// Atlas's group key: `(k1=v1 k2=v2)`, or `None` when a key is missing from the tags.
pub(crate) fn key_string(keys: &[String], tags: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::from("(");
    for (i, key) in keys.iter().enumerate() {
        let value = tags.get(key)?;
        if i > 0 {
            out.push(' ');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out.push(')');
    Some(out)
}

fn write_keys(f: &mut fmt::Formatter<'_>, keys: &[String]) -> fmt::Result {
    f.write_str(",(")?;
    for key in keys {
        f.write_str(",")?;
        escape_into(f, key)?;
    }
    f.write_str(",)")
}

fn write_offset(f: &mut fmt::Formatter<'_>, offset_ms: i64) -> fmt::Result {
    if offset_ms != 0 { write!(f, ",{},:offset", format_duration(offset_ms)) } else { Ok(()) }
}

impl fmt::Display for AggregateFunction {
    /// `q,:sum`, with `,:cf-x` when the consolidation is not the aggregate's default; no offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},:{}", self.query, self.aggregation.name())?;
        if self.consolidation != self.aggregation.default_consolidation() {
            write!(f, ",:cf-{}", self.consolidation.name())?;
        }
        Ok(())
    }
}

impl fmt::Display for DataExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataExpr::All { query, .. } => write!(f, "{query},:all")?,
            DataExpr::Aggregate(af) => write!(f, "{af}")?,
            DataExpr::GroupBy { aggregate, keys } => {
                write!(f, "{aggregate}")?;
                write_keys(f, keys)?;
                f.write_str(",:by")?;
            }
        }
        write_offset(f, self.offset_ms())
    }
}

impl fmt::Display for Expr {
    /// Writes the expression in the stack language, normalized as Atlas writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Data(d) => write!(f, "{d}"),
            Expr::Constant(v) => write!(f, "{},:const", format_double(*v)),
            Expr::Random => f.write_str(":random"),
            Expr::SeededRandom(seed) => write!(f, "{seed},:srandom"),
            Expr::Time(mode, _) => {
                escape_into(f, mode)?;
                f.write_str(",:time")
            }
            Expr::TimeSpan { start, end } => {
                escape_into(f, start)?;
                f.write_str(",")?;
                escape_into(f, end)?;
                f.write_str(",:time-span")
            }
            Expr::As { expr, original, replacement } => {
                write!(f, "{expr},")?;
                escape_into(f, original)?;
                f.write_str(",")?;
                escape_into(f, replacement)?;
                f.write_str(",:as")
            }
            Expr::Unary(op @ (UnaryOp::ClampMin(v) | UnaryOp::ClampMax(v)), expr) => {
                write!(f, "{expr},{},:{}", format_double(*v), op.name())
            }
            Expr::Unary(op, expr) => write!(f, "{expr},:{}", op.name()),
            Expr::Binary(op, a, b) => write!(f, "{a},{b},:{}", op.name()),
            Expr::Aggregate(aggregation, expr) => write!(f, "{expr},:{}", aggregation.name()),
            Expr::GroupBy { aggregation, expr, keys } => {
                write!(f, "{expr},:{}", aggregation.name())?;
                write_keys(f, keys)?;
                f.write_str(",:by")
            }
            Expr::Percentiles(p) => {
                write!(f, "{}", p.data.query())?;
                let keys: Vec<String> = p.data.keys().iter().filter(|k| *k != "percentile").cloned().collect();
                if !keys.is_empty() {
                    write_keys(f, &keys)?;
                    f.write_str(",:by")?;
                }
                f.write_str(",(")?;
                for pct in &p.percentiles {
                    write!(f, ",{}", format_double(*pct))?;
                }
                f.write_str(",),:percentiles")?;
                write_offset(f, p.data.offset_ms())
            }
            Expr::NamedRewrite(nr) => write_named_rewrite(f, nr),
            Expr::Stat { .. } | Expr::StatPlaceholder(_) | Expr::Filter { .. } | Expr::Priority(_) => {
                filter::write_filter_expr(f, self)
            }
            Expr::Stateful { expr, op } => stateful::write_stateful(f, expr, *op),
            Expr::ApproxDistinct(input) => write!(f, "{input},:approx-distinct"),
        }
    }
}

/// A named rewrite as Atlas shows it: the original, the parameters and the name, then the
/// offset and grouping the evaluated expression gained afterwards.
fn write_named_rewrite(f: &mut fmt::Formatter<'_>, nr: &NamedRewrite) -> fmt::Result {
    let mut op = String::new();
    for p in &nr.params {
        op.push_str(&format_double(*p));
        op.push(',');
    }
    op.push(':');
    op.push_str(&nr.name);
    let grouping = nr.eval.grouping();
    let write_grouping = |f: &mut fmt::Formatter<'_>| {
        if grouping.is_empty() {
            return Ok(());
        }
        write_keys(f, &grouping)?;
        f.write_str(",:by")
    };
    match &nr.original {
        Original::Query(q) => {
            write!(f, "{q},{op}")?;
            write_offset(f, nr.eval.common_offset().unwrap_or(0))?;
            write_grouping(f)
        }
        Original::Expr(e) if e.grouping() == grouping => match nr.eval.common_offset() {
            Some(offset) if e.common_offset() != Some(offset) => write!(f, "{},{op}", e.with_offset(offset)),
            _ => write!(f, "{e},{op}"),
        },
        Original::Expr(e) => {
            write!(f, "{e},{op}")?;
            write_grouping(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(q: &str) -> Expr {
        Expr::Data(DataExpr::Aggregate(AggregateFunction::new(Aggregation::Sum, Query::Eq("name".into(), q.into()))))
    }

    fn by(q: &str, keys: &[&str]) -> Expr {
        Expr::Data(DataExpr::GroupBy {
            aggregate: AggregateFunction::new(Aggregation::Sum, Query::Eq("name".into(), q.into())),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        })
    }

    #[test]
    fn nan_rules_of_the_arithmetic() {
        assert_eq!(BinaryOp::Add.apply(1.0, f64::NAN), 1.0);
        assert!(BinaryOp::Add.apply(f64::NAN, f64::NAN).is_nan());
        assert!(BinaryOp::FAdd.apply(1.0, f64::NAN).is_nan());
        assert_eq!(BinaryOp::Sub.apply(f64::NAN, 1.0), -1.0);
        assert_eq!(BinaryOp::Div.apply(0.0, 0.0), 0.0);
        assert!(BinaryOp::Div.apply(1.0, 0.0).is_nan());
        assert_eq!(BinaryOp::FDiv.apply(1.0, 0.0), f64::INFINITY);
        assert_eq!(BinaryOp::And.apply(0.5, 1.7), 1.0);
        assert_eq!(BinaryOp::And.apply(f64::NAN, 1.0), 0.0);
        assert_eq!(BinaryOp::Or.apply(1e-13, 0.0), 0.0);
        assert_eq!(BinaryOp::Gt.apply(f64::NAN, 1.0), 0.0);
        assert_eq!(min_nan(f64::NAN, 2.0), 2.0);
        assert_eq!(max_nan(3.0, f64::NAN), 3.0);
    }

    #[test]
    fn constants_fold_and_groupings_must_nest() {
        assert_eq!(Expr::binary(BinaryOp::Add, Expr::Constant(1.0), Expr::Constant(2.0)), Ok(Expr::Constant(3.0)));
        assert_eq!(Expr::unary(UnaryOp::Neg, Expr::Constant(2.0)), Expr::Constant(-2.0));
        assert!(matches!(Expr::unary(UnaryOp::PerStep, Expr::Constant(2.0)), Expr::Unary(..)));
        assert!(Expr::binary(BinaryOp::Add, by("a", &["x"]), by("b", &["x", "y"])).is_ok());
        let err = Expr::binary(BinaryOp::Add, by("a", &["x"]), by("b", &["y"])).unwrap_err();
        assert!(err.contains("(,x,) vs (,y,)"), "{err}");
        let joined = Expr::binary(BinaryOp::Add, by("a", &["x"]), by("b", &["x", "y"])).unwrap();
        assert_eq!(joined.grouping(), ["x", "y"]);
        assert_eq!(Expr::binary(BinaryOp::Add, by("a", &["x"]), sum("b")).unwrap().grouping(), ["x"]);
    }

    #[test]
    fn displays_in_normalized_asl() {
        let mut af = AggregateFunction::new(Aggregation::Min, Query::Eq("name".into(), "sps".into()));
        af.consolidation = Consolidation::Avg;
        af.offset_ms = 3_600_000;
        let grouped = Expr::Data(DataExpr::GroupBy { aggregate: af, keys: vec!["nf.app".into()] });
        assert_eq!(grouped.to_string(), "name,sps,:eq,:min,:cf-avg,(,nf.app,),:by,1h,:offset");
        let e = Expr::binary(BinaryOp::Div, sum("a"), Expr::Constant(2.0)).unwrap();
        assert_eq!(e.to_string(), "name,a,:eq,:sum,2.0,:const,:div");
        assert_eq!(
            Expr::Unary(UnaryOp::ClampMin(5.0), Box::new(sum("a"))).to_string(),
            "name,a,:eq,:sum,5.0,:clamp-min"
        );
    }

    #[test]
    fn key_strings_need_every_key() {
        let tags: BTreeMap<String, String> = [("a", "1"), ("b", "2")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(key_string(&["b".into(), "a".into()], &tags).as_deref(), Some("(b=2 a=1)"));
        assert_eq!(key_string(&["c".into()], &tags), None);
    }
}
