//! The storage trait: what the server needs from a store, so another backend (a distributed
//! one, say) can stand in for [`Db`] later.
//!
//! Design decision: kept to the four calls the HTTP API makes (write, raw read, tag keys, tag
//! values); statistics and maintenance stay on the concrete types.

use super::{Db, DbError};
use crate::Batch;
use crate::head::{AppendReport, Head, SeriesData};
use crate::index::Matcher;

/// A store of series: append samples, read them back by tag query and time range, list tags.
pub trait Storage: Send {
    /// Appends a batch of samples, durable when this returns.
    fn append(&mut self, batch: &Batch<'_>) -> Result<AppendReport, DbError>;
    /// The samples of the series `m` selects with `start <= t <= end`, one entry per series.
    fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, DbError>;
    /// The tag keys, sorted.
    fn tag_keys(&self) -> Vec<String>;
    /// The values of `key`, sorted.
    fn tag_values(&self, key: &str) -> Vec<String>;
}

impl Storage for Db {
    fn append(&mut self, batch: &Batch<'_>) -> Result<AppendReport, DbError> {
        Db::append_batch(self, batch, |_| None)
    }
    fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, DbError> {
        Db::read(self, m, start, end)
    }
    fn tag_keys(&self) -> Vec<String> {
        Db::tag_keys(self)
    }
    fn tag_values(&self, key: &str) -> Vec<String> {
        Db::tag_values(self, key)
    }
}

impl Storage for Head {
    fn append(&mut self, batch: &Batch<'_>) -> Result<AppendReport, DbError> {
        Ok(Head::append_batch(self, batch, |_| None)?)
    }
    fn read(&self, m: &Matcher, start: i64, end: i64) -> Result<Vec<SeriesData>, DbError> {
        Ok(Head::read(self, m, start, end)?)
    }
    fn tag_keys(&self) -> Vec<String> {
        self.index().tag_keys().map(str::to_string).collect()
    }
    fn tag_values(&self, key: &str) -> Vec<String> {
        self.index().tag_values(key).map(str::to_string).collect()
    }
}
