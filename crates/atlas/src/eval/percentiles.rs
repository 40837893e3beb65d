//! Percentile estimates from the bucket counters of a percentile timer or distribution summary
//! (`:percentiles`, `:median`) and the bucket arithmetic `:sample-count` needs.
//!
//! Design decision: the 276 bucket boundaries are computed, not tabulated, by the rule the
//! clients use to record them (1, 2, 3, then each power of 4 and steps of a third of it up to
//! the next power of 4, then `i64::MAX`), and the estimate interpolates linearly within the
//! bucket where the running count crosses each percentile, as the clients' estimator does. A
//! series' bucket is its `percentile` tag: `T` (timer, in nanoseconds, reported in seconds) or
//! `D` (distribution) and four hex digits of the bucket index.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::{Evaluator, TimeSeries, no_data};
use crate::error::Reason;
use crate::expr::{Percentiles, key_string};
use crate::time::format_double;

/// Number of buckets.
const BUCKETS: usize = 276;

/// The bucket upper bounds, ascending.
fn bucket_values() -> &'static [i64] {
    static VALUES: OnceLock<Vec<i64>> = OnceLock::new();
    VALUES.get_or_init(|| {
        let mut values = vec![1, 2, 3];
        let mut exp = 2;
        while exp < 64 {
            let mut current: i64 = 1 << exp;
            let delta = current / 3;
            // Wrapping as Java's long arithmetic does: at 4^31 the shift overflows and the loop
            // adds nothing, which is why there are 276 buckets.
            let next = current.wrapping_mul(4).wrapping_sub(delta);
            while current < next {
                values.push(current);
                current = current.saturating_add(delta);
            }
            exp += 2;
        }
        values.push(i64::MAX);
        values
    })
}

/// The value of bucket `index` (its upper bound), `i64::MAX` past the end.
pub fn bucket_value(index: usize) -> i64 {
    bucket_values().get(index).copied().unwrap_or(i64::MAX)
}

/// The index of the bucket a recorded value falls into.
pub fn bucket_index(v: i64) -> usize {
    let values = bucket_values();
    if v <= 0 {
        return 0;
    }
    // The first bucket whose bound is above v, as the clients' `indexOf` computes it.
    values.partition_point(|&b| b <= v).min(values.len().saturating_sub(1))
}

/// Estimates `pcts` (sorted, 0-100) from per-bucket counts; NaN for all when the total is 0.
fn estimate(counts: &[f64], pcts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return vec![f64::NAN; pcts.len()];
    }
    let mut results = Vec::with_capacity(pcts.len());
    let mut wanted = pcts.iter().peekable();
    let (mut prev, mut prev_p, mut prev_b) = (0.0, 0.0, 0.0);
    for (count, &bound) in counts.iter().zip(bucket_values()) {
        let next = prev + count;
        let next_p = 100.0 * next / total;
        let next_b = bound as f64;
        while let Some(&&p) = wanted.peek() {
            if next_p < p {
                break;
            }
            let f = (p - prev_p) / (next_p - prev_p);
            results.push(f * (next_b - prev_b) + prev_b);
            wanted.next();
        }
        (prev, prev_p, prev_b) = (next, next_p, next_b);
    }
    results.extend(wanted.map(|_| prev_b));
    results
}

impl Evaluator<'_> {
    /// One line per requested percentile for each group of the input (the groups are those of
    /// the user's keys, `percentile` aside).
    pub(crate) fn eval_percentiles(&mut self, p: &Percentiles) -> Result<Vec<TimeSeries>, Reason> {
        let inner = self.eval_data(&p.data)?;
        if inner.is_empty() {
            return Ok(inner);
        }
        let keys: Vec<String> = p.data.keys().iter().filter(|k| *k != "percentile").cloned().collect();
        if keys.is_empty() {
            return self.estimate_lines(&p.data.query().label(), &inner, &p.percentiles);
        }
        let mut groups: BTreeMap<BTreeMap<String, String>, Vec<TimeSeries>> = BTreeMap::new();
        for line in inner {
            let mut tags = line.tags.clone();
            tags.remove("percentile");
            groups.entry(tags).or_default().push(line);
        }
        let mut out = Vec::new();
        for (tags, lines) in groups {
            let label = key_string(&keys, &tags).unwrap_or_default();
            out.extend(self.estimate_lines(&label, &lines, &p.percentiles)?);
        }
        Ok(out)
    }

    fn estimate_lines(&self, label: &str, lines: &[TimeSeries], pcts: &[f64]) -> Result<Vec<TimeSeries>, Reason> {
        let len = self.context.len();
        let mut by_bucket: BTreeMap<usize, &TimeSeries> = BTreeMap::new();
        let mut timer = None;
        for line in lines {
            let Some(tag) = line.tags.get("percentile") else { continue };
            let index = tag.get(1..).and_then(|hex| usize::from_str_radix(hex, 16).ok()).filter(|i| *i < BUCKETS);
            let Some(index) = index else { continue };
            timer.get_or_insert(tag.starts_with('T'));
            if by_bucket.insert(index, line).is_some() {
                return Err(Reason::Evaluation(format!("invalid percentile encoding: bucket {tag} appears twice")));
            }
        }
        let (Some(timer), Some(first)) = (timer, by_bucket.values().next()) else { return Ok(vec![no_data(len)]) };
        let factor = if timer { 1e-9 } else { 1.0 };
        let mut outputs = vec![vec![f64::NAN; len]; pcts.len()];
        let mut counts = vec![0.0; BUCKETS];
        for i in 0..len {
            for (&bucket, line) in &by_bucket {
                let v = line.values.get(i).copied().unwrap_or(f64::NAN);
                if let Some(c) = counts.get_mut(bucket) {
                    *c = if v.is_finite() { v } else { 0.0 };
                }
            }
            for (output, value) in outputs.iter_mut().zip(estimate(&counts, pcts)) {
                if let Some(slot) = output.get_mut(i) {
                    *slot = value * factor;
                }
            }
        }
        Ok(outputs
            .into_iter()
            .zip(pcts)
            .map(|(values, &pct)| {
                let shown = format_double(pct);
                let shown = if pct < 10.0 {
                    format!("  {shown}")
                } else if pct < 100.0 {
                    format!(" {shown}")
                } else {
                    shown
                };
                let mut tags = first.tags.clone();
                tags.insert("percentile".into(), shown.clone());
                TimeSeries { tags, label: format!("percentile({label}, {shown})"), values }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_client_layout() {
        let values = bucket_values();
        assert_eq!(values.len(), BUCKETS);
        assert_eq!(&values[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(values[14], 16, "then steps of 5 from 16");
        assert_eq!(values[15], 21);
        assert_eq!(bucket_index(87), 25);
        assert_eq!(bucket_index(0), 0);
        assert_eq!(bucket_index(4), 4);
        assert_eq!(bucket_index(i64::MAX), BUCKETS - 1);
        assert_eq!(bucket_value(bucket_index(1_000)), 1_024);
        assert_eq!(bucket_value(bucket_index(64)), 85, "a bound belongs to the next bucket");
    }

    #[test]
    fn estimates_interpolate_within_the_bucket() {
        let mut counts = vec![0.0; BUCKETS];
        counts[bucket_index(100)] = 10.0;
        let lower = bucket_value(bucket_index(100) - 1) as f64;
        let upper = bucket_value(bucket_index(100)) as f64;
        assert_eq!((lower, upper), (85.0, 106.0));
        let got = estimate(&counts, &[25.0, 50.0, 100.0]);
        assert_eq!(got, [90.25, 95.5, 106.0]);
        assert!(estimate(&[0.0; BUCKETS], &[50.0])[0].is_nan());
    }
}
