//! Ingest: what clients send, decoded into validated datapoints, with a reason for each refusal.
//!
//! [`decode_atlas_publish`] reads Atlas's publish body ([`atlas_publish`]) and returns a
//! [`PublishOutcome`] (accepted [`Datapoint`]s and [`Rejection`]s, with Atlas's status and
//! answer) or a [`DecodeError`] for a body refused as a whole. [`Limits`] caps every size and
//! age. The parts that do not depend on the wire format, decompression under a size cap
//! ([`content_encoding`]) and Atlas's tag, time and value rules ([`rules`]), are their own
//! modules so Prometheus remote write can share them. This module does no I/O and knows no
//! HTTP: the caller passes the body, its `Content-Encoding` and the clock.

pub mod atlas_publish;
mod cardinality;
pub mod content_encoding;
pub mod limits;
pub mod outcome;
mod remote_write;
pub mod rules;

pub use atlas_publish::decode_atlas_publish;
pub use cardinality::{CardinalityLimiter, CardinalityLimits, Refusal};
pub use limits::Limits;
pub use outcome::{
    AcceptedBatch, Datapoint, DecodeError, OUT_OF_ORDER_REASON, PublishOutcome, Rejection, body_of, status_of,
};
pub use remote_write::{
    EXEMPLAR_REASON, HISTOGRAM_REASON, RemoteWriteError, STALE_NAN_BITS, STALENESS_REASON, decode_remote_write,
    encode_remote_write, proto as prompb, read_remote_write,
};
pub use rules::TOO_OLD_PREFIX;
