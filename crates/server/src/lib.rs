//! plumb-server: the fleet store's network face, behind `plumb server`.
//!
//! [`ingest`] decodes what clients send (Atlas publish JSON; Prometheus remote write to come)
//! into validated datapoints, applying the limits and saying why each rejected datapoint was
//! rejected. The HTTP routes, the store and the query endpoints are built on it.

pub mod ingest;
