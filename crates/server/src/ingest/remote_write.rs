//! Prometheus remote write 1.0 (`POST /api/v1/write`): decoding and validation.
//!
//! The body is a protobuf `WriteRequest` ([`proto`]) compressed with snappy's block format (not
//! the framed format), sent with `Content-Encoding: snappy`, `Content-Type:
//! application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0`.
//! [`decode_remote_write`] checks the body's size, reads snappy's decoded length from its header
//! and refuses it past `Limits::max_decoded_bytes` before allocating anything (a snappy bomb
//! costs nothing), decompresses, counts the request's parts without allocating ([`scan`]) and
//! refuses more than `Limits::max_datapoints` samples, then lets prost build the messages and
//! sorts each sample into an accepted [`Datapoint`] or a [`Rejection`] with a reason.
//!
//! Design decision: Prometheus data keeps Prometheus's naming rules rather than Atlas's character
//! set, so that Prometheus, vmagent and the OpenTelemetry collector send to plumb unchanged
//! (`:` in metric names, `/` or spaces in values are common there). Per series:
//! - `__name__` becomes the `name` tag; a label called `name` (cAdvisor has one) becomes
//!   `exported_name`, as Prometheus renames clashing labels; other labels are kept as they are.
//! - A label with an empty value is dropped: in Prometheus it is the same as an absent label.
//! - Label names are any non-empty UTF-8 without control characters (Prometheus 3's rule, a
//!   superset of the classic `[a-zA-Z_][a-zA-Z0-9_]*`); values are any UTF-8. The lengths
//!   (`max_key_len`, `max_name_len`, `max_value_len`, in bytes), `max_tags_per_series` and, when
//!   `check_reserved_keys`, the reserved `nf.`/`atlas.` keys are Atlas's limits; Atlas's
//!   minimum lengths and user-tag count are not applied. A series without `__name__`, with a
//!   label named twice or breaking a limit has all its samples rejected with the same reason.
//!
//! Per sample: Prometheus's staleness marker (the NaN with bits [`STALE_NAN_BITS`], sent when a
//! series disappears) is rejected with [`STALENESS_REASON`], whatever `allow_non_finite` says,
//! since plumb's store has no "series ended" value; then Atlas's age window and value rules
//! (other NaNs and infinities only with `allow_non_finite`; `-0.0` is kept bit for bit).
//! Native histograms and exemplars are rejected with a reason, since plumb stores floats only.
//!
//! [`Rejection::index`] counts across the whole request: series in order, and within a series
//! its float samples, then its native histograms, then its exemplars. Metadata (field 3) is
//! skipped. A request with no series (Prometheus sends metadata-only ones) is an empty outcome;
//! the HTTP layer should answer it with a 2xx, not [`PublishOutcome::status`]'s 400.

pub mod proto;
mod scan;

use prost::Message;

use super::limits::Limits;
use super::outcome::{Datapoint, DecodeError, PublishOutcome, Rejection};
use super::rules::{self, shown};
use proto::{Label, Sample, WriteRequest};

/// Bits of Prometheus's staleness marker, `value.StaleNaN` (a NaN no arithmetic produces).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
/// Why a staleness marker is rejected.
pub const STALENESS_REASON: &str = "Prometheus staleness marker (not stored)";
/// Why a native histogram sample is rejected.
pub const HISTOGRAM_REASON: &str = "native histograms are not stored (plumb stores float samples only)";
/// Why an exemplar is rejected.
pub const EXEMPLAR_REASON: &str = "exemplars are not stored (plumb stores float samples only)";

/// Why a remote write body was refused as a whole, beyond [`DecodeError`]'s own variants.
#[derive(Debug, thiserror::Error)]
pub enum RemoteWriteError {
    /// The body does not decompress as snappy's block format.
    #[error("the body is not valid snappy (block format, not framed): {0}")]
    Snappy(#[source] snap::Error),
    /// The decompressed body is not a `WriteRequest`.
    #[error("the body is not a valid remote write protobuf WriteRequest: {0}")]
    Protobuf(String),
    /// More samples, histograms and exemplars than `Limits::max_datapoints`.
    #[error("the request holds {count} samples, histograms and exemplars, more than the limit of {limit}")]
    TooManyDatapoints {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// More series or labels than the datapoint limit allows (see [`decode_remote_write`]).
    #[error("the request holds {count} {what}, more than the limit of {limit}")]
    TooManyParts {
        /// `series` or `labels`.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// Decodes and validates one remote write body (snappy-compressed protobuf).
///
/// `now_ms` is the server's clock, against which timestamps are judged. Besides
/// `max_datapoints` (samples + histograms + exemplars), the request may hold at most
/// `max_datapoints` series and `max_datapoints * max_tags_per_series` labels, which bounds
/// what decoding allocates.
pub fn decode_remote_write(body: &[u8], now_ms: i64, limits: &Limits) -> Result<PublishOutcome, DecodeError> {
    let (request, samples) = read_request(body, limits)?;
    Ok(validate(request, samples, now_ms, limits))
}

/// Snappy-compresses a `WriteRequest` as a remote write body (for clients, tests and benchmarks).
///
/// Like any proto3 encoder, prost leaves out a double equal to zero, so `-0.0` is sent as `0.0`.
pub fn encode_remote_write(request: &WriteRequest) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec())
}

/// The request, within the limits, and its number of float samples.
fn read_request(body: &[u8], limits: &Limits) -> Result<(WriteRequest, usize), DecodeError> {
    if body.len() > limits.max_body_bytes {
        return Err(DecodeError::BodyTooLarge { size: body.len(), limit: limits.max_body_bytes });
    }
    if body.is_empty() {
        return Err(DecodeError::EmptyBody);
    }
    let decoded_len = snap::raw::decompress_len(body).map_err(RemoteWriteError::Snappy)?;
    if decoded_len > limits.max_decoded_bytes {
        return Err(DecodeError::DecodedTooLarge { limit: limits.max_decoded_bytes });
    }
    let bytes = snap::raw::Decoder::new().decompress_vec(body).map_err(RemoteWriteError::Snappy)?;
    let counts = scan::count(&bytes).map_err(RemoteWriteError::Protobuf)?;
    let limit = limits.max_datapoints;
    if counts.items() > limit {
        return Err(RemoteWriteError::TooManyDatapoints { count: counts.items(), limit }.into());
    }
    if counts.series > limit {
        return Err(RemoteWriteError::TooManyParts { what: "series", count: counts.series, limit }.into());
    }
    let label_limit = limit.saturating_mul(limits.max_tags_per_series);
    if counts.labels > label_limit {
        return Err(RemoteWriteError::TooManyParts { what: "labels", count: counts.labels, limit: label_limit }.into());
    }
    let request = WriteRequest::decode(bytes.as_slice()).map_err(|e| RemoteWriteError::Protobuf(e.to_string()))?;
    Ok((request, counts.samples))
}

/// Sorts every sample, histogram and exemplar into accepted or rejected, in request order.
fn validate(request: WriteRequest, samples: usize, now_ms: i64, limits: &Limits) -> PublishOutcome {
    let mut outcome = PublishOutcome { accepted: Vec::with_capacity(samples), rejected: Vec::new() };
    let mut index = 0;
    for series in request.timeseries {
        let mut tags = series_tags(series.labels, limits);
        let last = series.samples.len().saturating_sub(1);
        for (i, sample) in series.samples.iter().enumerate() {
            match check_sample(sample, &mut tags, i == last, now_ms, limits) {
                Ok(tags) => {
                    outcome.accepted.push(Datapoint { tags, timestamp_ms: sample.timestamp, value: sample.value })
                }
                Err(reason) => outcome.rejected.push(Rejection { index, reason }),
            }
            index += 1;
        }
        let others = std::iter::repeat_n(HISTOGRAM_REASON, series.histograms.len())
            .chain(std::iter::repeat_n(EXEMPLAR_REASON, series.exemplars.len()));
        for reason in others {
            outcome.rejected.push(Rejection { index, reason: reason.to_string() });
            index += 1;
        }
    }
    outcome
}

/// One sample's tags if it passes: staleness, then Atlas's order (time, tags, value). The
/// series' `last` sample takes the tags instead of copying them (one series, one sample is the
/// usual request shape, and a copy costs an allocation per key and value).
fn check_sample(
    sample: &Sample,
    tags: &mut Result<Vec<(String, String)>, String>,
    last: bool,
    now_ms: i64,
    limits: &Limits,
) -> Result<Vec<(String, String)>, String> {
    if sample.value.to_bits() == STALE_NAN_BITS {
        return Err(STALENESS_REASON.to_string());
    }
    rules::check_time(sample.timestamp, now_ms, limits)?;
    let tags = tags.as_mut().map_err(|e| e.clone())?;
    rules::check_value(sample.value, limits)?;
    Ok(if last { std::mem::take(tags) } else { tags.clone() })
}

/// A series' labels as plumb tags (sorted by key), or why its samples are all rejected.
fn series_tags(labels: Vec<Label>, limits: &Limits) -> Result<Vec<(String, String)>, String> {
    let count = labels.iter().filter(|l| !l.value.is_empty()).count();
    if count > limits.max_tags_per_series {
        return Err(format!("too many tags: {count} > {}", limits.max_tags_per_series));
    }
    let mut tags = Vec::with_capacity(count);
    for Label { mut name, value } in labels {
        if value.is_empty() {
            continue;
        }
        // Renamed in place: `__name__`'s buffer holds `name` without a new allocation.
        let renamed = match name.as_str() {
            "__name__" => Some("name"),
            "name" => Some("exported_name"),
            _ => None,
        };
        if let Some(key) = renamed {
            name.clear();
            name.push_str(key);
        }
        tags.push((name, value));
    }
    tags.sort_unstable();
    if let Some(w) = tags.windows(2).find(|w| w.first().map(|t| &t.0) == w.last().map(|t| &t.0)) {
        let key = w.first().map_or("", |t| t.0.as_str());
        return Err(format!("duplicate tag key: {}", shown(key)));
    }
    if !tags.iter().any(|(k, _)| k == "name") {
        return Err("missing label '__name__' (the metric name)".to_string());
    }
    for (k, v) in &tags {
        check_tag(k, v, limits)?;
    }
    Ok(tags)
}

/// Prometheus's naming rules with Atlas's length limits (see the module's documentation).
fn check_tag(k: &str, v: &str, limits: &Limits) -> Result<(), String> {
    if k.is_empty() {
        return Err("empty label name".to_string());
    }
    if k.len() > limits.max_key_len {
        return Err(format!("key too long: {} ({} > {})", shown(k), k.len(), limits.max_key_len));
    }
    if k.chars().any(char::is_control) {
        return Err(format!("invalid characters in key: {} (control characters are not allowed)", shown(k)));
    }
    let max = if k == "name" { limits.max_name_len } else { limits.max_value_len };
    if v.len() > max {
        return Err(format!("value too long: {k} = {} ({} > {max})", shown(v), v.len()));
    }
    if limits.check_reserved_keys {
        for (prefix, allowed) in [("nf.", &rules::NF_KEYS[..]), ("atlas.", &rules::ATLAS_KEYS[..])] {
            if let Some(rest) = k.strip_prefix(prefix)
                && !allowed.contains(&rest)
            {
                return Err(format!("invalid key for reserved prefix '{prefix}': {k}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
