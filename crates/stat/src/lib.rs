//! plumb-stat: the views of `plumb stat`, sysstat-style tables and one JSON object per interval.
//!
//! A view is a pure function of a [`Snapshot`]: [`rows::group_rows`] gathers a group's samples
//! into rows keyed by their per-series tags (one row for `cpu`, one per device for `disk`), then
//! [`table::TableWriter`] lays the rows out under sysstat's column headers (the [`layout`] of each
//! group) and [`json::snapshot_json`] writes them as a JSON object whose keys are the metric
//! names themselves, so the JSON needs no separate schema: the metric catalogue is its schema.
//!
//! Design decision: which metrics a group holds comes from the collector's declarations
//! (`plumb_collect::source::catalogue`), not from a second list here; the table layouts only
//! choose headers and formats, and a test checks every layout column names a declared metric.
//!
//! This crate does no I/O: callers hand it snapshots and write the strings it returns.
//!
//! [`Snapshot`]: plumb_model::Snapshot

pub mod json;
pub mod layout;
pub mod rows;
pub mod table;
