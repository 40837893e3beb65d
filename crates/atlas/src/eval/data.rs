//! Evaluating data expressions: `:all`, the aggregates, and `:by` over the consolidated inputs.
//!
//! Design decision: results carry the tags and labels Atlas's database gives them. An aggregate
//! keeps only the tags its query fixes with `:eq` (`name,sps,:eq,:sum` keeps `name=sps`; none
//! left reads `name=unknown`) and is labelled `sum(name=sps)`; a group keeps those plus its keys
//! and is labelled by its key `(nf.app=www)`, groups sorted by key; `:all` keeps every tag. An
//! aggregate with no input is one NaN line labelled `NO DATA`; a group-by with none is empty.

use std::collections::BTreeMap;

use super::{Evaluator, Input, TimeSeries, no_data, tags_label};
use crate::error::Reason;
use crate::expr::{AggregateFunction, Aggregation, DataExpr, add_nan, key_string, max_nan, min_nan};
use crate::time::format_duration;

impl Evaluator<'_> {
    /// The lines of one data expression.
    pub(crate) fn eval_data(&mut self, data: &DataExpr) -> Result<Vec<TimeSeries>, Reason> {
        let offset = data.offset_ms();
        let inputs = self.fetch(data.query(), offset, data.consolidation())?;
        let suffix = if offset == 0 { String::new() } else { format!(" (offset={})", format_duration(offset)) };
        let len = self.context.len();
        let mut lines = match data {
            DataExpr::All { .. } => {
                let mut lines: Vec<TimeSeries> = inputs
                    .iter()
                    .map(|i| TimeSeries { tags: i.tags.clone(), label: tags_label(&i.tags), values: i.values.clone() })
                    .collect();
                lines.sort_by(|a, b| a.label.cmp(&b.label));
                lines
            }
            DataExpr::Aggregate(af) => {
                let all: Vec<&Input> = inputs.iter().collect();
                match aggregate_inputs(af, &[], &all, len) {
                    Some(series) => vec![TimeSeries { label: af.label(), ..series }],
                    None => return Ok(vec![no_data(len)]),
                }
            }
            DataExpr::GroupBy { aggregate, keys } => {
                let mut groups: BTreeMap<String, Vec<&Input>> = BTreeMap::new();
                for input in inputs.iter() {
                    if let Some(key) = key_string(keys, &input.tags) {
                        groups.entry(key).or_default().push(input);
                    }
                }
                groups
                    .into_iter()
                    .filter_map(|(key, members)| {
                        aggregate_inputs(aggregate, keys, &members, len).map(|s| TimeSeries { label: key, ..s })
                    })
                    .collect()
            }
        };
        for line in &mut lines {
            line.label.push_str(&suffix);
        }
        Ok(lines)
    }
}

/// Aggregates `members` with `af`'s aggregation; tags are the query's exact keys (and `keys`)
/// taken from the first member. `None` without members.
fn aggregate_inputs(af: &AggregateFunction, keys: &[String], members: &[&Input], len: usize) -> Option<TimeSeries> {
    let first = members.first()?;
    let exact = af.query.exact_tags();
    let mut tags: BTreeMap<String, String> = first
        .tags
        .iter()
        .filter(|(k, _)| exact.contains_key(*k) || keys.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if tags.is_empty() && keys.is_empty() {
        tags.insert("name".into(), "unknown".into());
    }
    let rows: Vec<&[f64]> = members.iter().map(|m| m.values.as_slice()).collect();
    Some(TimeSeries { tags, label: String::new(), values: aggregate(af.aggregation, &rows, len) })
}

/// Combines rows of values index by index: sum and min/max skip NaN unless every value is
/// NaN; count counts the values that are not NaN (NaN if none).
pub(crate) fn aggregate(aggregation: Aggregation, rows: &[&[f64]], len: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; len];
    for row in rows {
        for (acc, &v) in out.iter_mut().zip(row.iter()) {
            *acc = match aggregation {
                Aggregation::Sum => add_nan(*acc, v),
                Aggregation::Min => min_nan(*acc, v),
                Aggregation::Max => max_nan(*acc, v),
                Aggregation::Count if v.is_nan() => *acc,
                Aggregation::Count => add_nan(*acc, 1.0),
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(actual: &[f64], expected: &[f64]) -> bool {
        actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| a == e || a.is_nan() && e.is_nan())
    }

    #[test]
    fn aggregates_follow_the_data_vocabulary_tables() {
        // From Atlas's data words: inputs [2, 4, NaN] and [1, NaN, NaN].
        let rows: [&[f64]; 2] = [&[2.0, 4.0, f64::NAN], &[1.0, f64::NAN, f64::NAN]];
        assert!(same(&aggregate(Aggregation::Sum, &rows, 3), &[3.0, 4.0, f64::NAN]));
        assert!(same(&aggregate(Aggregation::Count, &rows, 3), &[2.0, 1.0, f64::NAN]));
        assert!(same(&aggregate(Aggregation::Min, &rows, 3), &[1.0, 4.0, f64::NAN]));
        assert!(same(&aggregate(Aggregation::Max, &rows, 3), &[2.0, 4.0, f64::NAN]));
    }
}
