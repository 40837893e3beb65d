//! Evaluating math expressions: generators, unary and binary operators, aggregates over the
//! lines of an expression, and math `:by`.
//!
//! Design decision: a binary operator joins its sides by group key as Atlas does. The side
//! whose grouping is the smaller (the right one when they are equal) is indexed by the key the
//! other side's series would have in it, and each series of the larger side meets at most one
//! partner; a series without a partner is dropped, and two partners for one key are an error
//! ("too many values for key") rather than a silent pick. Results of math operators take their
//! label from their tags (`name=sps, nf.app=www`), as Atlas's do unless a legend is set.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::data::aggregate;
use super::{Evaluator, TimeSeries, no_data, tags_label};
use crate::error::Reason;
use crate::expr::{Aggregation, BinaryOp, Expr, uses_left_grouping};
use crate::time::{DateRefs, format_double, parse_date, reference_point};

impl Evaluator<'_> {
    /// The lines of one expression.
    pub(crate) fn eval(&mut self, expr: &Expr) -> Result<Vec<TimeSeries>, Reason> {
        let step = self.context.step_ms();
        Ok(match expr {
            Expr::Data(data) => self.eval_data(data)?,
            Expr::Constant(v) => vec![self.generated(&format_double(*v), |_| *v)],
            Expr::Random => vec![self.generated("random", random)],
            Expr::SeededRandom(seed) => {
                let seed = i64::from(*seed);
                vec![self.generated(&format!("seeded-random({seed})"), |t| random(t ^ seed))]
            }
            Expr::Time(mode, field) => vec![self.generated(mode, |t| field.value(t))],
            Expr::TimeSpan { start, end } => {
                let (from, to) = self.time_span(start, end)?;
                vec![self.generated(&format!("{start} to {end}"), |t| if from <= t && t <= to { 1.0 } else { 0.0 })]
            }
            Expr::As { expr, original, replacement } => {
                let mut lines = self.eval(expr)?;
                for line in &mut lines {
                    if let Some(value) = line.tags.remove(original) {
                        line.tags.insert(replacement.clone(), value);
                    }
                }
                lines
            }
            Expr::Unary(op, expr) => {
                let mut lines = self.eval(expr)?;
                for line in &mut lines {
                    line.values.iter_mut().for_each(|v| *v = op.apply(*v, step));
                    line.label = tags_label(&line.tags);
                }
                lines
            }
            Expr::Binary(op, left, right) => {
                let (a, b) = (self.eval(left)?, self.eval(right)?);
                join(*op, left, right, &a, &b)?
            }
            Expr::Aggregate(aggregation, inner) => {
                let lines = self.eval(inner)?;
                let Some(first) = lines.first() else { return Ok(vec![no_data(self.context.len())]) };
                let tags = match inner.data_exprs().first() {
                    Some(data) => {
                        let exact = data.query().exact_tags();
                        first
                            .tags
                            .iter()
                            .filter(|(k, _)| exact.contains_key(*k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    }
                    None => first.tags.clone(),
                };
                let label = format!("{}({})", aggregation.name(), tags_label(&tags));
                vec![TimeSeries { tags, label, values: self.combine(*aggregation, &lines) }]
            }
            Expr::GroupBy { aggregation, expr, keys } => self.eval_group_by(*aggregation, expr, keys)?,
            Expr::Percentiles(p) => self.eval_percentiles(p)?,
            Expr::NamedRewrite(nr) => self.eval(&nr.eval)?,
            Expr::Stat { expr, stat } => self.eval_stat(expr, *stat)?,
            Expr::StatPlaceholder(stat) => {
                return Err(Reason::Evaluation(format!(
                    ":stat-{} can only be used in a :filter condition",
                    stat.name()
                )));
            }
            Expr::Filter { expr, condition } => self.eval_filter(expr, condition)?,
            Expr::Priority(p) => self.eval_priority(p)?,
            Expr::Stateful { expr, op } => self.eval_stateful(expr, *op)?,
            Expr::ApproxDistinct(input) => self.eval_approx_distinct(input)?,
        })
    }

    /// A line computed from each grid time, tagged `name=<label>`.
    fn generated(&self, label: &str, f: impl Fn(i64) -> f64) -> TimeSeries {
        TimeSeries {
            tags: BTreeMap::from([("name".to_string(), label.to_string())]),
            label: label.to_string(),
            values: self.context.timestamps().map(f).collect(),
        }
    }

    fn combine(&self, aggregation: Aggregation, lines: &[TimeSeries]) -> Vec<f64> {
        let rows: Vec<&[f64]> = lines.iter().map(|l| l.values.as_slice()).collect();
        aggregate(aggregation, &rows, self.context.len())
    }

    /// Math `:by`: the input's lines aggregated per group of `keys`, sorted by group key. The
    /// tags kept are the `:eq` keys every data expression shares, plus `keys`.
    fn eval_group_by(
        &mut self,
        aggregation: Aggregation,
        expr: &Expr,
        keys: &[String],
    ) -> Result<Vec<TimeSeries>, Reason> {
        let lines = self.eval(expr)?;
        let mut shared: Option<BTreeSet<String>> = None;
        for data in expr.data_exprs() {
            let exact: BTreeSet<String> = data.query().exact_tags().into_keys().collect();
            shared = Some(match shared {
                Some(s) => s.intersection(&exact).cloned().collect(),
                None => exact,
            });
        }
        let mut kept = shared.unwrap_or_default();
        kept.extend(keys.iter().cloned());
        let mut groups: BTreeMap<String, Vec<TimeSeries>> = BTreeMap::new();
        for line in lines {
            if let Some(key) = crate::expr::key_string(keys, &line.tags) {
                groups.entry(key).or_default().push(line);
            }
        }
        Ok(groups
            .into_iter()
            .filter_map(|(key, members)| {
                let first = members.first()?;
                let tags =
                    first.tags.iter().filter(|(k, _)| kept.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
                Some(TimeSeries { tags, label: key, values: self.combine(aggregation, &members) })
            })
            .collect())
    }

    /// The bounds of a `:time-span`, relative to the graph (`gs`, `ge`) or to each other (`s`,
    /// `e`), with Atlas's rules against circular references.
    fn time_span(&self, start: &str, end: &str) -> Result<(i64, i64), Reason> {
        let invalid = |m: String| Reason::Evaluation(format!(":time-span {start},{end}: {m}"));
        let (s_ref, e_ref) = (reference_point(start), reference_point(end));
        if s_ref == Some("e") && e_ref == Some("s") {
            return Err(invalid("start and end time are relative to each other".into()));
        }
        if s_ref == Some("s") {
            return Err(invalid("start time is relative to itself".into()));
        }
        if e_ref == Some("e") {
            return Err(invalid("end time is relative to itself".into()));
        }
        let mut refs = DateRefs {
            graph_start: Some(self.context.start_ms()),
            graph_end: Some(self.context.end_ms()),
            start: None,
            end: None,
            now: self.context.now_ms,
        };
        let (from, to) = if s_ref == Some("e") {
            let to = parse_date(end, &refs).map_err(invalid)?;
            refs.end = Some(to);
            (parse_date(start, &refs).map_err(invalid)?, to)
        } else {
            let from = parse_date(start, &refs).map_err(invalid)?;
            refs.start = Some(from);
            (from, parse_date(end, &refs).map_err(invalid)?)
        };
        if from > to {
            return Err(invalid("start must be <= end".into()));
        }
        Ok((from, to))
    }
}

/// Joins the lines of two sides of a binary operator by group key and applies `op`.
fn join(
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    a: &[TimeSeries],
    b: &[TimeSeries],
) -> Result<Vec<TimeSeries>, Reason> {
    let left_keeps = uses_left_grouping(left, right);
    // Index the side with the smaller grouping by its own keys; walk the other side.
    let (indexed, indexed_expr, walked) = if left_keeps { (b, right, a) } else { (a, left, b) };
    let mut index: HashMap<Option<String>, Vec<&TimeSeries>> = HashMap::new();
    for line in indexed {
        index.entry(indexed_expr.group_key(&line.tags)).or_default().push(line);
    }
    let mut out = Vec::with_capacity(walked.len());
    for line in walked {
        let key = indexed_expr.group_key(&line.tags);
        let partner = match index.get(&key).map(Vec::as_slice) {
            None | Some([]) => continue,
            Some([one]) => *one,
            Some(_) => {
                let key = key.unwrap_or_else(|| "(no group)".into());
                return Err(Reason::Evaluation(format!(":{}: too many values for key {key}", op.name())));
            }
        };
        let (l, r) = if left_keeps { (line, partner) } else { (partner, line) };
        let values = l.values.iter().zip(&r.values).map(|(x, y)| op.apply(*x, *y)).collect();
        out.push(TimeSeries { tags: line.tags.clone(), label: tags_label(&line.tags), values });
    }
    Ok(out)
}

/// Atlas's deterministic noise: a 32-bit hash of the timestamp, mapped to [0, 1) in steps of
/// 0.001 (the sign of the hash kept, as Java's `%` keeps it).
fn random(t: i64) -> f64 {
    let h = lowbias32((t >> 32) as i32) ^ lowbias32(t as i32);
    f64::from(h.wrapping_abs() % 1000) / 1000.0
}

/// Chris Wellons' `lowbias32` integer hash, on Java's wrapping 32-bit arithmetic.
fn lowbias32(v: i32) -> i32 {
    let mut h = v as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x7FEB_352D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846C_A68B);
    h ^= h >> 16;
    h as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_deterministic_and_in_range() {
        let values: Vec<f64> = (0..100).map(|i| random(i * 60_000)).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)), "{values:?}");
        assert_eq!(random(123_456), random(123_456));
        let distinct: std::collections::BTreeSet<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert!(distinct.len() > 50, "spread over many values");
        assert_eq!(lowbias32(0), 0);
        assert_ne!(lowbias32(1), lowbias32(2));
    }
}
