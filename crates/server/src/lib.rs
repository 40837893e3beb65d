//! plumb-server: the fleet store's network face, behind `plumb server`.
//!
//! [`ingest`] decodes what clients send (Atlas publish JSON; Prometheus remote write to come)
//! into validated datapoints, applying the limits and saying why each rejected datapoint was
//! rejected. [`http`] routes requests to it and to the store (`plumb_tsdb::db::Db`), and
//! [`run`] opens the store, binds and serves until a signal.
//!
//! Design decision: the store sits behind one mutex and every store call runs on tokio's
//! blocking pool, since an append waits for a WAL sync; HTTP parsing and decoding stay on the
//! async workers, outside the lock.

pub mod config;
pub mod http;
pub mod ingest;
pub mod memory;
pub mod run;
pub mod select;
pub mod selfmetrics;
