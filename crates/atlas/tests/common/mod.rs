//! An in-memory [`Source`] for the evaluation tests: series given as tags and values on a grid,
//! answered by query, counting fetches.
//!
//! Design decision: the source filters by the query and the time range as a store would, so
//! the tests exercise the range the evaluator asks for (a sample outside it would be dropped
//! here, making a wrong range visible as missing values).

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;

use plumb_atlas::{Query, RawSeries, Source};

/// Series kept in memory.
#[derive(Debug, Default)]
pub struct MemorySource {
    pub series: Vec<RawSeries>,
    pub fetches: Cell<usize>,
}

impl MemorySource {
    /// Adds a series with these tags and one sample per step from `start_ms`.
    pub fn add(&mut self, tags: &[(&str, &str)], start_ms: i64, step_ms: i64, values: &[f64]) {
        let tags: BTreeMap<String, String> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let timestamps = (0..values.len()).map(|i| start_ms + i as i64 * step_ms).collect();
        self.series.push(RawSeries { tags, timestamps, values: values.to_vec() });
    }
}

impl Source for MemorySource {
    fn fetch(&self, query: &Query, start_ms: i64, end_ms: i64) -> Result<Vec<RawSeries>, String> {
        self.fetches.set(self.fetches.get() + 1);
        Ok(self
            .series
            .iter()
            .filter(|s| query.matches(|k: &str| s.tags.get(k).map(String::as_str)))
            .map(|s| {
                let keep: Vec<usize> =
                    (0..s.timestamps.len()).filter(|&i| (start_ms..end_ms).contains(&s.timestamps[i])).collect();
                RawSeries {
                    tags: s.tags.clone(),
                    timestamps: keep.iter().map(|&i| s.timestamps[i]).collect(),
                    values: keep.iter().map(|&i| s.values[i]).collect(),
                }
            })
            .collect())
    }
}

/// Parses `1.0,NaN,Infinity` into numbers.
pub fn numbers(text: &str) -> Vec<f64> {
    text.split(',').map(|v| plumb_atlas::parse_double(v).unwrap_or_else(|| panic!("bad number {v:?}"))).collect()
}

/// Whether two value lists are equal, NaN equal to NaN, within 1e-9.
pub fn same_values(actual: &[f64], expected: &[f64]) -> bool {
    actual.len() == expected.len()
        && actual.iter().zip(expected).all(|(a, e)| a.is_nan() && e.is_nan() || a == e || (a - e).abs() < 1e-9)
}
