//! The `filter` vocabulary's expressions: summary-stat lines (`:stat`), the stat placeholders a
//! `:filter` condition is written with (`:stat-avg` ...), `:filter` itself, and the priority
//! filters (`:topk`, `:bottomk` and their `-others-*` forms).
//!
//! Design decision: a `:filter` keeps its condition as written, placeholders included, and the
//! placeholders are replaced by `:stat` lines of the filtered expression only where the
//! condition is checked and evaluated ([`Expr::with_stats_of`]); so the expression prints back
//! as the short program the user wrote and re-parses equal, and the input is not repeated.

use std::fmt;

use super::{Aggregation, Expr};

/// A summary statistic of one line over the graph's range, as `:stat` and the priority
/// filters name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SummaryStat {
    /// Mean of the values present.
    Avg,
    /// Largest value.
    Max,
    /// Smallest value.
    Min,
    /// Last value present.
    Last,
    /// Sum of the values present.
    Total,
    /// Number of values present.
    Count,
}

impl SummaryStat {
    /// Every statistic, in the order Atlas lists them.
    pub const ALL: [SummaryStat; 6] = [
        SummaryStat::Avg,
        SummaryStat::Max,
        SummaryStat::Min,
        SummaryStat::Last,
        SummaryStat::Total,
        SummaryStat::Count,
    ];

    /// The statistic's name: `avg`, `max`, `min`, `last`, `total`, `count`.
    pub fn name(self) -> &'static str {
        match self {
            SummaryStat::Avg => "avg",
            SummaryStat::Max => "max",
            SummaryStat::Min => "min",
            SummaryStat::Last => "last",
            SummaryStat::Total => "total",
            SummaryStat::Count => "count",
        }
    }

    /// The statistic with this name, case as written.
    pub fn parse(name: &str) -> Option<SummaryStat> {
        SummaryStat::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The statistic of `values`, NaNs skipped (see [`crate::summary_stat`]).
    pub fn of(self, values: &[f64]) -> f64 {
        crate::style::summary_stat(self.name(), values).unwrap_or(f64::NAN)
    }
}

/// How the lines a priority filter drops are combined into one `--others--` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OthersAggregation {
    /// Smallest value per interval.
    Min,
    /// Largest value per interval.
    Max,
    /// Sum per interval.
    Sum,
    /// Mean of the values present per interval.
    Avg,
}

impl OthersAggregation {
    /// The suffix of the word: `min` in `:topk-others-min`.
    pub fn name(self) -> &'static str {
        match self {
            OthersAggregation::Min => "min",
            OthersAggregation::Max => "max",
            OthersAggregation::Sum => "sum",
            OthersAggregation::Avg => "avg",
        }
    }

    /// The aggregate computed for it; `Avg` is the sum divided by the count.
    pub(crate) fn aggregation(self) -> Aggregation {
        match self {
            OthersAggregation::Min => Aggregation::Min,
            OthersAggregation::Max => Aggregation::Max,
            OthersAggregation::Sum | OthersAggregation::Avg => Aggregation::Sum,
        }
    }
}

/// `:topk`/`:bottomk`: the `k` lines of `expr` with the highest (lowest) `stat`, optionally
/// with one line combining the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityFilter {
    /// The input.
    pub expr: Expr,
    /// What the lines are ranked by.
    pub stat: SummaryStat,
    /// How many lines are kept; at least 1.
    pub k: usize,
    /// Highest first (`:topk`) rather than lowest first (`:bottomk`).
    pub top: bool,
    /// How the dropped lines are combined into `--others--`, if they are.
    pub others: Option<OthersAggregation>,
}

impl PriorityFilter {
    /// The word's name: `topk`, `bottomk-others-sum`, ...
    pub fn word(&self) -> String {
        let base = if self.top { "topk" } else { "bottomk" };
        match self.others {
            Some(others) => format!("{base}-others-{}", others.name()),
            None => base.to_string(),
        }
    }
}

impl Expr {
    /// `:filter`'s condition with every stat placeholder replaced by that stat of `input`
    /// (`:stat-max` becomes `input,max,:stat`); fails as building the result would (a grouping
    /// that does not nest).
    pub fn with_stats_of(&self, input: &Expr) -> Result<Expr, String> {
        match self {
            Expr::StatPlaceholder(stat) => Ok(Expr::Stat { expr: Box::new(input.clone()), stat: *stat }),
            other => other.map_children(&mut |c| c.with_stats_of(input)),
        }
    }

    /// `:filter`: checks that the condition, its placeholders replaced, groups by a subset of
    /// the input's keys, so each input line meets at most one condition line.
    pub fn filter(expr: Expr, condition: Expr) -> Result<Expr, String> {
        let resolved = condition.with_stats_of(&expr)?;
        let keys = expr.grouping();
        let condition_keys = resolved.grouping();
        if !condition_keys.iter().all(|k| keys.contains(k)) {
            return Err(format!(
                ":filter: the condition's grouping (,{},) is not a subset of the input's (,{},)",
                condition_keys.join(","),
                keys.join(",")
            ));
        }
        Ok(Expr::Filter { expr: Box::new(expr), condition: Box::new(condition) })
    }
}

/// Writes the filter vocabulary's expressions; called from `Expr`'s `Display`.
pub(super) fn write_filter_expr(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::Stat { expr, stat } => write!(f, "{expr},{},:stat", stat.name()),
        Expr::StatPlaceholder(stat) => write!(f, ":stat-{}", stat.name()),
        Expr::Filter { expr, condition } => write!(f, "{expr},{condition},:filter"),
        Expr::Priority(p) => write!(f, "{},{},{},:{}", p.expr, p.stat.name(), p.k, p.word()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{AggregateFunction, BinaryOp, DataExpr};
    use crate::query::Query;

    fn grouped(keys: &[&str]) -> Expr {
        Expr::Data(DataExpr::GroupBy {
            aggregate: AggregateFunction::new(Aggregation::Sum, Query::Eq("name".into(), "sps".into())),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        })
    }

    #[test]
    fn placeholders_take_the_input() {
        let condition =
            Expr::binary(BinaryOp::Gt, Expr::StatPlaceholder(SummaryStat::Max), Expr::Constant(3.0)).unwrap();
        let resolved = condition.with_stats_of(&grouped(&["c"])).unwrap();
        assert_eq!(resolved.to_string(), "name,sps,:eq,:sum,(,c,),:by,max,:stat,3.0,:const,:gt");
        assert_eq!(resolved.grouping(), ["c"]);
        let filter = Expr::filter(grouped(&["c"]), condition).unwrap();
        assert_eq!(filter.to_string(), "name,sps,:eq,:sum,(,c,),:by,:stat-max,3.0,:const,:gt,:filter");
        let err = Expr::filter(grouped(&["c"]), grouped(&["d"])).unwrap_err();
        assert!(err.contains("not a subset"), "{err}");
    }

    #[test]
    fn stats_and_names() {
        assert_eq!(SummaryStat::parse("total"), Some(SummaryStat::Total));
        assert_eq!(SummaryStat::parse("median"), None);
        assert_eq!(SummaryStat::Avg.of(&[1.0, f64::NAN, 3.0]), 2.0);
        assert_eq!(SummaryStat::Last.of(&[1.0, 4.0, f64::NAN]), 4.0);
        assert_eq!(SummaryStat::Count.of(&[f64::NAN]), 0.0);
        assert!(SummaryStat::Max.of(&[]).is_nan());
        let p = PriorityFilter {
            expr: grouped(&["c"]),
            stat: SummaryStat::Max,
            k: 2,
            top: false,
            others: Some(OthersAggregation::Avg),
        };
        assert_eq!(p.word(), "bottomk-others-avg");
        assert_eq!(Expr::Priority(Box::new(p)).to_string(), "name,sps,:eq,:sum,(,c,),:by,max,2,:bottomk-others-avg");
    }
}
