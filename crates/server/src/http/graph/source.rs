//! The store as a [`plumb_atlas::Source`]: each data expression's query becomes a matcher and
//! is read from the [`Db`].
//!
//! Design decision: the store's lock is taken inside [`Source::fetch`] and released when the
//! read returns, so evaluation (consolidation, aggregates, math) and rendering never hold it;
//! publishes wait only for the reads themselves. A source with a budget ([`StoreSource::inline`])
//! serves a request on the async worker itself: it never waits for the lock and refuses any
//! read past its budget before reading, so the request can be redone on the blocking pool
//! having cost little more than the index lookups.

use std::cell::Cell;
use std::sync::{Arc, Mutex, TryLockError};

use plumb_atlas::{Query, RawSeries, Source};
use plumb_tsdb::db::Db;

use crate::select::to_matcher;

/// The samples per series an inline read assumes per 10 s of its range (a sample every 10 s).
const ASSUMED_INTERVAL_MS: i64 = 10_000;

/// Reads evaluation inputs from the server's store.
pub struct StoreSource {
    /// The store shared with the other handlers.
    pub store: Arc<Mutex<Db>>,
    /// For an inline source, the samples its reads may still take (estimated before each read);
    /// `None` reads without limit.
    budget: Option<Cell<u64>>,
    /// Set when an inline source refused a read (over budget, or the lock was busy).
    refused: Cell<bool>,
}

impl StoreSource {
    /// A source that reads whatever it is asked, waiting for the lock.
    pub fn unlimited(store: Arc<Mutex<Db>>) -> Self {
        StoreSource { store, budget: None, refused: Cell::new(false) }
    }

    /// A source for the async worker: it refuses to wait for the lock or to read more than
    /// about `samples` samples in all.
    pub fn inline(store: Arc<Mutex<Db>>, samples: u64) -> Self {
        StoreSource { store, budget: Some(Cell::new(samples)), refused: Cell::new(false) }
    }

    /// True when a read was refused, so the evaluation's answer (an error) is not the request's.
    pub fn refused(&self) -> bool {
        self.refused.get()
    }

    fn refuse(&self) -> Result<Vec<RawSeries>, String> {
        self.refused.set(true);
        Err("read refused inline".into())
    }
}

impl Source for StoreSource {
    fn fetch(&self, query: &Query, start_ms: i64, end_ms: i64) -> Result<Vec<RawSeries>, String> {
        let matcher = to_matcher(query);
        let data = match &self.budget {
            None => {
                let db = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                db.read(&matcher, start_ms, end_ms).map_err(|e| e.to_string())?
            }
            Some(budget) => {
                let db = match self.store.try_lock() {
                    Ok(db) => db,
                    Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                    Err(TryLockError::WouldBlock) => return self.refuse(),
                };
                // The head's selection is the whole answer's only when no block overlaps the range.
                if db.blocks().iter().any(|b| b.meta().max_t >= start_ms && b.meta().min_t <= end_ms) {
                    return self.refuse();
                }
                let series = db.head().select(&matcher).map_err(|e| e.to_string())?.len() as u64;
                let per_series = (end_ms.saturating_sub(start_ms) / ASSUMED_INTERVAL_MS).unsigned_abs() + 1;
                let estimate = series.saturating_mul(per_series);
                if estimate > budget.get() {
                    return self.refuse();
                }
                budget.set(budget.get() - estimate);
                db.read(&matcher, start_ms, end_ms).map_err(|e| e.to_string())?
            }
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

#[cfg(test)]
mod tests {
    use plumb_tsdb::SeriesTags;
    use plumb_tsdb::db::DbOptions;

    use super::*;

    fn store(series: usize) -> (tempfile::TempDir, Arc<Mutex<Db>>) {
        let dir = tempfile::tempdir().unwrap();
        let (mut db, _) = Db::open(dir.path(), DbOptions::default()).unwrap();
        let samples = (0..series)
            .map(|i| {
                let tags = SeriesTags::new(vec![("name".into(), "cpu".into()), ("node".into(), format!("{i}"))]);
                (tags.unwrap(), 60_000, i as f64)
            })
            .collect();
        db.append(samples).unwrap();
        (dir, Arc::new(Mutex::new(db)))
    }

    #[test]
    fn inline_reads_within_budget_and_refuses_past_it() {
        let (_dir, db) = store(3);
        let query = Query::Eq("name".into(), "cpu".into());
        // 3 series over 20 s: an estimate of 3 x 3 = 9 samples.
        let within = StoreSource::inline(db.clone(), 9);
        assert_eq!(within.fetch(&query, 50_000, 70_000).unwrap().len(), 3);
        assert!(!within.refused());
        assert!(within.fetch(&query, 50_000, 70_000).is_err(), "the budget is spent");
        assert!(within.refused());
        let over = StoreSource::inline(db.clone(), 8);
        assert!(over.fetch(&query, 50_000, 70_000).is_err());
        assert!(over.refused());
        let all = StoreSource::unlimited(db.clone());
        assert_eq!(all.fetch(&query, 50_000, 70_000).unwrap().len(), 3);
        assert!(!all.refused());
    }

    #[test]
    fn inline_never_waits_for_the_lock() {
        let (_dir, db) = store(1);
        let query = Query::Eq("name".into(), "cpu".into());
        let held = db.lock().unwrap();
        let inline = StoreSource::inline(db.clone(), 1_000);
        assert!(inline.fetch(&query, 0, 120_000).is_err());
        assert!(inline.refused());
        drop(held);
        assert_eq!(StoreSource::inline(db.clone(), 1_000).fetch(&query, 0, 120_000).unwrap()[0].values, vec![0.0]);
    }
}
