//! The store as a [`plumb_atlas::Source`]: each data expression's query becomes a matcher and
//! is read from the [`Db`].
//!
//! Design decision: the store's lock is taken inside [`Source::fetch`] and released when the
//! read returns, so evaluation (consolidation, aggregates, math) and rendering never hold it;
//! publishes wait only for the reads themselves.

use std::sync::{Arc, Mutex};

use plumb_atlas::{Query, RawSeries, Source};
use plumb_tsdb::db::Db;

use crate::select::to_matcher;

/// Reads evaluation inputs from the server's store.
pub struct StoreSource {
    /// The store shared with the other handlers.
    pub store: Arc<Mutex<Db>>,
}

impl Source for StoreSource {
    fn fetch(&self, query: &Query, start_ms: i64, end_ms: i64) -> Result<Vec<RawSeries>, String> {
        let matcher = to_matcher(query);
        let data = {
            let db = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            db.read(&matcher, start_ms, end_ms).map_err(|e| e.to_string())?
        };
        Ok(data
            .into_iter()
            .map(|s| RawSeries {
                tags: s.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                timestamps: s.timestamps,
                values: s.values,
            })
            .collect())
    }
}
