//! Evaluating the `filter` vocabulary: `:stat` lines, `:filter`, and the priority filters
//! (`:topk`, `:bottomk`, with or without an `--others--` line).
//!
//! Design decision: every statistic is taken over the line's values on the graph's grid, the
//! same [`SummaryStat::of`] the legend and `:sort` use, so a line ranked first by `max,:topk` is
//! the one whose legend shows the largest max. Ranking is stable (ties keep the input's order,
//! which is by group key) and a line whose statistic is NaN (no data) ranks last for both
//! `:topk` and `:bottomk`, so lines without data are the first dropped.

use std::collections::HashMap;

use super::data::aggregate;
use super::{Evaluator, TimeSeries};
use crate::error::Reason;
use crate::expr::{Aggregation, Expr, OthersAggregation, PriorityFilter, SummaryStat};

/// The label and tag value of the line combining what a priority filter dropped.
pub(crate) const OTHERS: &str = "--others--";

impl Evaluator<'_> {
    /// `:stat`: each line of `expr` as a constant line of its statistic, labelled
    /// `stat-avg(<label>)`.
    pub(crate) fn eval_stat(&mut self, expr: &Expr, stat: SummaryStat) -> Result<Vec<TimeSeries>, Reason> {
        let lines = self.eval(expr)?;
        Ok(lines
            .into_iter()
            .map(|line| {
                let value = stat.of(&line.values);
                TimeSeries {
                    label: format!("stat-{}({})", stat.name(), line.label),
                    values: vec![value; line.values.len()],
                    tags: line.tags,
                }
            })
            .collect())
    }

    /// `:filter`: the lines of `expr` whose condition line (the one with the same group key
    /// under the condition's grouping) is true at some interval.
    pub(crate) fn eval_filter(&mut self, expr: &Expr, condition: &Expr) -> Result<Vec<TimeSeries>, Reason> {
        let resolved = condition.with_stats_of(expr).map_err(Reason::InvalidExpression)?;
        let lines = self.eval(expr)?;
        let signals = self.eval(&resolved)?;
        let mut truth: HashMap<Option<String>, bool> = HashMap::new();
        for signal in &signals {
            let any = signal.values.iter().any(|v| !(v.is_nan() || v.abs() < 1e-12));
            *truth.entry(resolved.group_key(&signal.tags)).or_default() |= any;
        }
        Ok(lines
            .into_iter()
            .filter(|line| truth.get(&resolved.group_key(&line.tags)).copied().unwrap_or(false))
            .collect())
    }

    /// `:topk`/`:bottomk`: the `k` best lines by the statistic, then the `--others--` line if
    /// asked for and any line was dropped.
    pub(crate) fn eval_priority(&mut self, p: &PriorityFilter) -> Result<Vec<TimeSeries>, Reason> {
        let lines = self.eval(&p.expr)?;
        let grouping = p.expr.grouping();
        Ok(rank(lines, p.stat, p.k, p.top, p.others, &grouping, self.context.len()))
    }
}

/// Ranks `lines` by `stat` (NaN last), keeps `k`, and appends the others line if `others` is
/// set and a line was dropped; its tags are the first dropped line's with every grouping key
/// set to `--others--`.
pub(crate) fn rank(
    lines: Vec<TimeSeries>,
    stat: SummaryStat,
    k: usize,
    top: bool,
    others: Option<OthersAggregation>,
    grouping: &[String],
    len: usize,
) -> Vec<TimeSeries> {
    let mut scored: Vec<(f64, TimeSeries)> = lines.into_iter().map(|l| (stat.of(&l.values), l)).collect();
    scored.sort_by(|(a, _), (b, _)| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) if top => b.total_cmp(a),
        (false, false) => a.total_cmp(b),
    });
    let rest = scored.split_off(k.min(scored.len()));
    let mut kept: Vec<TimeSeries> = scored.into_iter().map(|(_, l)| l).collect();
    if let (Some(others), Some((_, first))) = (others, rest.first()) {
        let rows: Vec<&[f64]> = rest.iter().map(|(_, l)| l.values.as_slice()).collect();
        let mut values = aggregate(others.aggregation(), &rows, len);
        if others == OthersAggregation::Avg {
            let counts = aggregate(Aggregation::Count, &rows, len);
            values.iter_mut().zip(counts).for_each(|(v, n)| *v /= n);
        }
        let mut tags = first.tags.clone();
        for key in grouping {
            tags.insert(key.clone(), OTHERS.to_string());
        }
        kept.push(TimeSeries { tags, label: OTHERS.to_string(), values });
    }
    kept
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn line(name: &str, values: &[f64]) -> TimeSeries {
        TimeSeries {
            tags: BTreeMap::from([("c".to_string(), name.to_string())]),
            label: format!("(c={name})"),
            values: values.to_vec(),
        }
    }

    fn data() -> Vec<TimeSeries> {
        vec![
            line("a", &[1.0, 5.0, 2.0]),
            line("b", &[4.0, 4.0, f64::NAN]),
            line("c", &[f64::NAN, f64::NAN, f64::NAN]),
            line("d", &[0.0, 9.0, 1.0]),
        ]
    }

    fn labels(lines: &[TimeSeries]) -> Vec<&str> {
        lines.iter().map(|l| l.label.as_str()).collect()
    }

    #[test]
    fn topk_and_bottomk_rank_by_the_stat_with_nan_last() {
        let keys = ["c".to_string()];
        let top = rank(data(), SummaryStat::Max, 2, true, None, &keys, 3);
        assert_eq!(labels(&top), ["(c=d)", "(c=a)"]);
        let bottom = rank(data(), SummaryStat::Avg, 2, false, None, &keys, 3);
        assert_eq!(labels(&bottom), ["(c=a)", "(c=d)"], "avg a=8/3, d=10/3, b=4");
        let all = rank(data(), SummaryStat::Last, 9, false, None, &keys, 3);
        assert_eq!(labels(&all), ["(c=d)", "(c=a)", "(c=b)", "(c=c)"]);
    }

    #[test]
    fn others_combine_the_dropped_lines() {
        let keys = ["c".to_string()];
        let sum = rank(data(), SummaryStat::Max, 1, true, Some(OthersAggregation::Sum), &keys, 3);
        assert_eq!(labels(&sum), ["(c=d)", OTHERS]);
        let others = &sum[1];
        assert_eq!(others.tags.get("c").map(String::as_str), Some(OTHERS));
        assert_eq!(others.values[..2], [5.0, 9.0]);
        assert_eq!(others.values[2], 2.0);
        let avg = rank(data(), SummaryStat::Max, 1, true, Some(OthersAggregation::Avg), &keys, 3);
        assert_eq!(avg[1].values, [2.5, 4.5, 2.0]);
        let min = rank(data(), SummaryStat::Max, 1, true, Some(OthersAggregation::Min), &keys, 3);
        assert_eq!(min[1].values, [1.0, 4.0, 2.0]);
        let max = rank(data(), SummaryStat::Max, 1, false, Some(OthersAggregation::Max), &keys, 3);
        assert_eq!(labels(&max), ["(c=b)", OTHERS]);
        assert_eq!(max[1].values, [1.0, 9.0, 2.0]);
        let none_dropped = rank(data(), SummaryStat::Max, 4, true, Some(OthersAggregation::Sum), &keys, 3);
        assert_eq!(none_dropped.len(), 4, "no others line when nothing is dropped");
    }
}
