//! Reading from the head: select series by tag, then their samples in a time range.

use super::{Head, HeadError};
use crate::index::Matcher;
use crate::{SeriesId, SeriesTags};

/// The samples of one series in a time range.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub tags: SeriesTags,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

impl Head {
    /// The ids of the series `m` selects, ascending.
    pub fn select(&self, m: &Matcher) -> Result<Vec<SeriesId>, HeadError> {
        let compiled = m.compile().map_err(|e| HeadError::Query(e.to_string()))?;
        Ok(self.index.select(&compiled).into_iter().collect())
    }

    /// The tags of series `id`.
    pub fn tags(&self, id: SeriesId) -> Option<&SeriesTags> {
        self.series.get(&id).map(|s| &s.tags)
    }

    /// The samples of every series `m` selects with `start <= t <= end` (milliseconds); series
    /// without samples in the range are left out.
    pub fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, HeadError> {
        let mut out = Vec::new();
        for id in self.select(m)? {
            let Some(s) = self.series.get(&id) else { continue };
            let mut data = SeriesData { tags: s.tags.clone(), timestamps: Vec::new(), values: Vec::new() };
            for chunk in s.closed.iter().chain(std::iter::once(&s.open)) {
                let (Some(first), Some(last)) = (chunk.first_time(), chunk.last_time()) else { continue };
                if last < start || first > end {
                    continue;
                }
                for (t, v) in chunk.iter() {
                    if t >= start && t <= end {
                        data.timestamps.push(t);
                        data.values.push(v);
                    }
                }
            }
            if !data.timestamps.is_empty() {
                out.push(data);
            }
        }
        Ok(out)
    }
}
