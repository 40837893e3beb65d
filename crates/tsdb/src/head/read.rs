//! Reading from the head: select series by tag, then their samples in a time range.

use super::{Closed, Head, HeadError};
use crate::chunkenc::XorIter;
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
        let ids = self.select(m)?;
        let mut out = Vec::with_capacity(ids.len());
        let in_range = |first: Option<i64>, last: Option<i64>| match (first, last) {
            (Some(first), Some(last)) => last >= start && first <= end,
            _ => false,
        };
        for id in ids {
            let Some(s) = self.series.get(&id) else { continue };
            let closed = || s.closed.iter().filter(|c| in_range(c.first_time(), c.last_time()));
            let open = in_range(s.open.first_time(), s.open.last_time());
            // An upper bound of the samples in range: sized once, the vectors never grow.
            let capacity = closed().map(Closed::len).sum::<usize>() + if open { s.open.len() } else { 0 };
            if capacity == 0 {
                continue;
            }
            let mut data = SeriesData {
                tags: s.tags.clone(),
                timestamps: Vec::with_capacity(capacity),
                values: Vec::with_capacity(capacity),
            };
            for chunk in closed() {
                match chunk {
                    Closed::Mem(c) => take(c.iter(), start, end, &mut data),
                    Closed::Disk { file, offset, len, .. } => {
                        let Some(spill) = &self.spill else { continue };
                        take(XorIter::new(&spill.read(*file, *offset, *len)?), start, end, &mut data);
                    }
                }
            }
            if open {
                take(s.open.iter(), start, end, &mut data);
            }
            if !data.timestamps.is_empty() {
                out.push(data);
            }
        }
        Ok(out)
    }
}

/// Appends the samples of `samples` with `start <= t <= end` to `data`. Generic rather than
/// `dyn`, so that each chunk decoder is inlined into the loop (reads decode most of their time).
fn take(samples: impl Iterator<Item = (i64, f64)>, start: i64, end: i64, data: &mut SeriesData) {
    for (t, v) in samples {
        if t >= start && t <= end {
            data.timestamps.push(t);
            data.values.push(v);
        }
    }
}
