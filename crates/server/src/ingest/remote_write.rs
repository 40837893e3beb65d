//! Prometheus remote write 1.0 (`POST /api/v1/write`): decoding and validation.
//!
//! The body is a protobuf `WriteRequest` ([`proto`]) compressed with snappy's block format (not
//! the framed format), sent with `Content-Encoding: snappy`, `Content-Type:
//! application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0`.
//! [`read_remote_write`] checks the body's size, reads snappy's decoded length from its header
//! and refuses it past `Limits::max_decoded_bytes` before allocating anything (a snappy bomb
//! costs nothing), decompresses, counts the request's parts without allocating ([`scan`]) and
//! refuses more than `Limits::max_datapoints` samples, then reads the messages in place
//! ([`wire`]: labels stay slices of the body) and sorts each sample into the accepted
//! [`AcceptedBatch`] or a [`Rejection`] with a reason. [`decode_remote_write`] gives the same
//! with owned [`Datapoint`](super::Datapoint)s; prost's types ([`proto`]) serve to encode.
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
mod wire;

use plumb_tsdb::Batch;
use prost::Message;

use super::limits::Limits;
use super::outcome::{AcceptedBatch, DecodeError, PublishOutcome, Rejection};
use super::rules::{self, shown};
use proto::WriteRequest;
use wire::Wire;

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

/// Decodes and validates one remote write body (snappy-compressed protobuf), with owned tags
/// per datapoint; [`read_remote_write`] is the allocation-light form the server uses.
///
/// `now_ms` is the server's clock, against which timestamps are judged. Besides
/// `max_datapoints` (samples + histograms + exemplars), the request may hold at most
/// `max_datapoints` series and `max_datapoints * max_tags_per_series` labels, which bounds
/// what decoding allocates.
pub fn decode_remote_write(body: &[u8], now_ms: i64, limits: &Limits) -> Result<PublishOutcome, DecodeError> {
    read_remote_write(body, now_ms, limits, |accepted| accepted.to_outcome())
}

/// Decodes and validates one remote write body as [`decode_remote_write`] does and hands `f`
/// the accepted samples as a store [`Batch`](plumb_tsdb::Batch) whose tags borrow from the
/// decompressed body, with the rejections. Returns what `f` returns.
pub fn read_remote_write<R>(
    body: &[u8],
    now_ms: i64,
    limits: &Limits,
    f: impl FnOnce(AcceptedBatch<'_>) -> R,
) -> Result<R, DecodeError> {
    let bytes = decompress(body, limits)?;
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
    let wire = wire::parse(&bytes, &counts).map_err(RemoteWriteError::Protobuf)?;
    Ok(f(validate(&wire, now_ms, limits)))
}

/// Snappy-compresses a `WriteRequest` as a remote write body (for clients, tests and benchmarks).
///
/// Like any proto3 encoder, prost leaves out a double equal to zero, so `-0.0` is sent as `0.0`.
pub fn encode_remote_write(request: &WriteRequest) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec())
}

/// The body decompressed, within the size limits.
fn decompress(body: &[u8], limits: &Limits) -> Result<Vec<u8>, DecodeError> {
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
    Ok(snap::raw::Decoder::new().decompress_vec(body).map_err(RemoteWriteError::Snappy)?)
}

/// Sorts every sample, histogram and exemplar into accepted or rejected, in request order.
fn validate<'a>(wire: &Wire<'a>, now_ms: i64, limits: &Limits) -> AcceptedBatch<'a> {
    let mut out = AcceptedBatch {
        batch: Batch::with_capacity(wire.series.len(), wire.labels.len(), wire.samples.len()),
        positions: Vec::with_capacity(wire.samples.len()),
        rejected: Vec::new(),
    };
    let mut index = 0;
    let mut tags: Vec<(&'a str, &'a str)> = Vec::new();
    let mut passed: Vec<(i64, f64)> = Vec::new();
    let mut resort = false;
    for series in &wire.series {
        let labels = wire.labels.get(series.labels.clone()).unwrap_or_default();
        let samples = wire.samples.get(series.samples.clone()).unwrap_or_default();
        let checked = series_tags(labels, limits, &mut tags);
        passed.clear();
        for &(value, timestamp) in samples {
            match check_sample(value, timestamp, &checked, now_ms, limits) {
                Ok(()) => {
                    passed.push((timestamp, value));
                    out.positions.push(index);
                }
                Err(reason) => out.rejected.push(Rejection { index, reason }),
            }
            index += 1;
        }
        if !passed.is_empty()
            && let Err(e) = out.batch.push_series(tags.iter().copied(), &passed)
        {
            // series_tags checks what the batch checks; kept so a divergence rejects, not drops.
            let from = out.positions.len().saturating_sub(passed.len());
            let reason = e.to_string();
            out.rejected.extend(
                out.positions.split_off(from).into_iter().map(|index| Rejection { index, reason: reason.clone() }),
            );
            resort = true;
        }
        let others = std::iter::repeat_n(HISTOGRAM_REASON, series.histograms)
            .chain(std::iter::repeat_n(EXEMPLAR_REASON, series.exemplars));
        for reason in others {
            out.rejected.push(Rejection { index, reason: reason.to_string() });
            index += 1;
        }
    }
    if resort {
        out.rejected.sort_by_key(|r| r.index);
    }
    out
}

/// Whether one sample passes: staleness, then Atlas's order (time, tags, value).
fn check_sample(
    value: f64,
    timestamp: i64,
    tags: &Result<(), String>,
    now_ms: i64,
    limits: &Limits,
) -> Result<(), String> {
    if value.to_bits() == STALE_NAN_BITS {
        return Err(STALENESS_REASON.to_string());
    }
    rules::check_time(timestamp, now_ms, limits)?;
    tags.clone()?;
    rules::check_value(value, limits)
}

/// A series' labels as plumb tags in `out` (sorted by key), or why its samples are all rejected.
fn series_tags<'a>(
    labels: &[(&'a str, &'a str)],
    limits: &Limits,
    out: &mut Vec<(&'a str, &'a str)>,
) -> Result<(), String> {
    out.clear();
    let count = labels.iter().filter(|l| !l.1.is_empty()).count();
    if count > limits.max_tags_per_series {
        return Err(format!("too many tags: {count} > {}", limits.max_tags_per_series));
    }
    for &(name, value) in labels {
        if value.is_empty() {
            continue;
        }
        let key = match name {
            "__name__" => "name",
            "name" => "exported_name",
            other => other,
        };
        out.push((key, value));
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(w) = out.windows(2).find(|w| w.first().map(|t| t.0) == w.last().map(|t| t.0)) {
        let key = w.first().map_or("", |t| t.0);
        return Err(format!("duplicate tag key: {}", shown(key)));
    }
    if !out.iter().any(|(k, _)| *k == "name") {
        return Err("missing label '__name__' (the metric name)".to_string());
    }
    for (k, v) in out.iter() {
        check_tag(k, v, limits)?;
    }
    Ok(())
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
