//! What decoding a publish request produced: the accepted datapoints, the rejected ones with
//! their reasons, or an error for a body refused as a whole.
//!
//! [`PublishOutcome`] answers as Atlas's `PublishApi` does: 200 when everything was accepted,
//! 202 with `{"type":"partial","errorCount":N,"message":[...]}` when some datapoints were
//! rejected, 400 with `{"type":"error",...}` when none was accepted. Like Atlas, the message
//! list is a summary (the first [`MAX_LISTED_REJECTIONS`]) while `errorCount` counts them all.
//! [`DecodeError`] is the answer for a body that could not be read at all.

use plumb_tsdb::Batch;
use serde_json::{Value, json};

/// How many rejections [`PublishOutcome::body_json`] lists (Atlas lists 5); all are counted.
pub const MAX_LISTED_REJECTIONS: usize = 5;

/// Why the store refused a datapoint at or before its series' last timestamp.
pub const OUT_OF_ORDER_REASON: &str = "timestamp is not after the last datapoint of its series (out of order)";

/// One accepted datapoint: its tags (the request's common tags merged under its own, keys
/// unique, in no particular order), its time and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    /// Tag key/value pairs, `name` among them.
    pub tags: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The value.
    pub value: f64,
}

/// A datapoint that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its position in the request's `metrics` array.
    pub index: usize,
    /// One sentence for the client, e.g. `missing key 'name'`.
    pub reason: String,
}

/// The result of decoding a readable publish body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublishOutcome {
    /// Datapoints that passed every rule, in request order.
    pub accepted: Vec<Datapoint>,
    /// Datapoints that did not, in request order.
    pub rejected: Vec<Rejection>,
}

/// What a decoder accepted, as a store [`Batch`] (tags borrowed from the request), with the
/// request position of each of the batch's samples, and what it rejected. The form the server
/// stores from: no owned tags per datapoint.
#[derive(Debug, Default)]
pub struct AcceptedBatch<'a> {
    /// The accepted samples, by series.
    pub batch: Batch<'a>,
    /// For each sample of `batch`, in batch order, its position in the request.
    pub positions: Vec<usize>,
    /// The rejected datapoints, in request order.
    pub rejected: Vec<Rejection>,
}

impl<'a> AcceptedBatch<'a> {
    /// The batch of an outcome's accepted datapoints (each its own series entry; the store
    /// finds repeated series by their tags). A datapoint whose tags are not a series identity
    /// (no `name`, a key twice) is rejected here.
    pub fn from_outcome(outcome: &'a PublishOutcome) -> AcceptedBatch<'a> {
        let mut rejected = outcome.rejected.clone();
        let total = outcome.accepted.len() + rejected.len();
        // Sorted for a binary search: usually empty, and cheaper than hashing every position.
        let mut taken: Vec<usize> = rejected.iter().map(|r| r.index).collect();
        taken.sort_unstable();
        let free = (0..total).filter(|i| taken.binary_search(i).is_err());
        let mut batch = Batch::with_capacity(outcome.accepted.len(), 0, outcome.accepted.len());
        let mut positions = Vec::with_capacity(outcome.accepted.len());
        for (dp, pos) in outcome.accepted.iter().zip(free) {
            let tags = dp.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            match batch.push_series(tags, &[(dp.timestamp_ms, dp.value)]) {
                Ok(()) => positions.push(pos),
                Err(e) => rejected.push(Rejection { index: pos, reason: e.to_string() }),
            }
        }
        rejected.sort_by_key(|r| r.index);
        AcceptedBatch { batch, positions, rejected }
    }

    /// The same as an outcome with owned datapoints (tags sorted by key), in request order.
    pub fn to_outcome(&self) -> PublishOutcome {
        let mut accepted = Vec::with_capacity(self.batch.len());
        for (tags, samples, _) in self.batch.series() {
            let owned: Vec<(String, String)> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            for &(timestamp_ms, value) in samples {
                accepted.push(Datapoint { tags: owned.clone(), timestamp_ms, value });
            }
        }
        let mut order: Vec<(usize, Datapoint)> = self.positions.iter().copied().zip(accepted).collect();
        order.sort_by_key(|(p, _)| *p);
        PublishOutcome { accepted: order.into_iter().map(|(_, d)| d).collect(), rejected: self.rejected.clone() }
    }
}

impl PublishOutcome {
    /// Atlas's status: 200 all accepted, 202 some accepted and some rejected, 400 none accepted
    /// (an outcome with no datapoints at all is also 400, as Atlas answers "empty payload").
    pub fn status(&self) -> u16 {
        status_of(self.accepted.len(), self.rejected.len())
    }

    /// The response body for [`status`](Self::status): `Value::Null` for 200 (Atlas sends an
    /// empty body), otherwise Atlas's failure message
    /// `{"type":"partial"|"error","errorCount":N,"message":["metrics[i]: reason", ...]}`.
    pub fn body_json(&self) -> Value {
        body_of(self.accepted.len(), &self.rejected)
    }
}

/// Atlas's status for `accepted` stored and `rejected` refused datapoints (see
/// [`PublishOutcome::status`]); the server also counts datapoints the store refused.
pub fn status_of(accepted: usize, rejected: usize) -> u16 {
    if accepted == 0 {
        400
    } else if rejected == 0 {
        200
    } else {
        202
    }
}

/// Atlas's response body for `accepted` stored and `rejected` refused datapoints (see
/// [`PublishOutcome::body_json`]).
pub fn body_of(accepted: usize, rejected: &[Rejection]) -> Value {
    let kind = match status_of(accepted, rejected.len()) {
        200 => return Value::Null,
        202 => "partial",
        _ => "error",
    };
    if rejected.is_empty() {
        return json!({"type": kind, "errorCount": 0, "message": ["empty payload"]});
    }
    let listed: Vec<String> =
        rejected.iter().take(MAX_LISTED_REJECTIONS).map(|r| format!("metrics[{}]: {}", r.index, r.reason)).collect();
    json!({"type": kind, "errorCount": rejected.len(), "message": listed})
}

/// Why a publish body was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body as received is larger than `Limits::max_body_bytes`.
    #[error("the body is {size} bytes, more than the limit of {limit}")]
    BodyTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The decompressed body is larger than `Limits::max_decoded_bytes`.
    #[error("the decompressed body is more than the limit of {limit} bytes")]
    DecodedTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The `Content-Encoding` is neither absent, `identity` nor `gzip`.
    #[error("content encoding {0:?} is not supported (use gzip or none)")]
    UnsupportedEncoding(String),
    /// The body says it is gzip but does not decompress.
    #[error("the body is not valid gzip: {0}")]
    BadGzip(#[source] std::io::Error),
    /// The body is empty.
    #[error("the body is empty")]
    EmptyBody,
    /// A Prometheus remote write body that is not snappy, not a `WriteRequest`, or too big.
    #[error("{0}")]
    RemoteWrite(#[from] super::remote_write::RemoteWriteError),
    /// The body is not JSON, or not the shape or types of an Atlas publish payload.
    #[error("the body is not a valid Atlas publish payload: {0}")]
    Json(#[from] serde_json::Error),
    /// The common `tags` object names the same key twice.
    #[error("common tag key {0} appears twice")]
    DuplicateCommonTag(String),
    /// There is no datapoint: `metrics` is missing or empty.
    #[error("the body holds no datapoints (\"metrics\" is missing or empty)")]
    NoDatapoints,
}

impl DecodeError {
    /// The HTTP status: 413 for the size limits, 415 for an unknown encoding, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            DecodeError::BodyTooLarge { .. } | DecodeError::DecodedTooLarge { .. } => 413,
            DecodeError::UnsupportedEncoding(_) => 415,
            _ => 400,
        }
    }

    /// Atlas's diagnostic message shape: `{"type":"error","message":"..."}`.
    pub fn body_json(&self) -> Value {
        json!({"type": "error", "message": self.to_string()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> Datapoint {
        Datapoint { tags: vec![("name".into(), "cpu".into())], timestamp_ms: 1, value: 1.0 }
    }

    fn rejections(n: usize) -> Vec<Rejection> {
        (0..n).map(|i| Rejection { index: i * 2, reason: format!("reason {i}") }).collect()
    }

    #[test]
    fn statuses() {
        let all = PublishOutcome { accepted: vec![point()], rejected: vec![] };
        assert_eq!((all.status(), all.body_json()), (200, Value::Null));
        let some = PublishOutcome { accepted: vec![point()], rejected: rejections(1) };
        assert_eq!(some.status(), 202);
        assert_eq!(some.body_json()["type"], "partial");
        let none = PublishOutcome { accepted: vec![], rejected: rejections(1) };
        assert_eq!(none.status(), 400);
        assert_eq!(none.body_json()["type"], "error");
        assert_eq!(PublishOutcome::default().status(), 400);
    }

    #[test]
    fn body_lists_a_summary_and_counts_all() {
        let o = PublishOutcome { accepted: vec![], rejected: rejections(MAX_LISTED_REJECTIONS + 3) };
        let b = o.body_json();
        assert_eq!(b["errorCount"], MAX_LISTED_REJECTIONS + 3);
        let listed = b["message"].as_array().map(Vec::len);
        assert_eq!(listed, Some(MAX_LISTED_REJECTIONS));
        assert_eq!(b["message"][1], "metrics[2]: reason 1");
    }

    #[test]
    fn decode_error_statuses() {
        assert_eq!(DecodeError::BodyTooLarge { size: 2, limit: 1 }.status(), 413);
        assert_eq!(DecodeError::UnsupportedEncoding("br".into()).status(), 415);
        assert_eq!(DecodeError::EmptyBody.status(), 400);
        assert_eq!(DecodeError::EmptyBody.body_json(), json!({"type": "error", "message": "the body is empty"}));
    }
}
