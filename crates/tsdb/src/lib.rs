//! plumb-tsdb: the embedded time-series store behind `plumb server`.
//!
//! A series is its tag map (`name` required) with float64 values at millisecond timestamps. The
//! store is built in layers, each in its own module, as Prometheus's tsdb is: [`chunkenc`]
//! compresses a run of samples (delta-of-delta timestamps, XOR values), [`index`] maps tag
//! keys and values to series ids (exact, regex, prefix, has-key and in-list lookups), and
//! [`wal`] makes every acknowledged write durable before the ingest API answers, and replays it
//! after a crash up to the last good record. The [`head`] puts them together: appends are
//! checked, logged durably, then applied to in-memory chunks; reads select series through the
//! index. Compaction into on-disk blocks, retention and the storage trait come next.
//!
//! Design decision: series are referred to everywhere by a dense [`SeriesId`] assigned by the
//! head in arrival order; the tags are stored once (in the WAL's series records and the index),
//! never beside each sample.
//!
//! This crate knows nothing of HTTP or of the ingest formats.

mod batch;
pub mod block;
pub mod chunkenc;
pub mod db;
pub mod head;
pub mod index;
mod tags;
pub mod wal;

pub use batch::{Batch, BatchSeries};
pub use tags::{SeriesTags, TagsError};

/// A series' id, dense and assigned in arrival order by the head.
pub type SeriesId = u64;
