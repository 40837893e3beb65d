//! Atlas's publish payload (`POST /api/v1/publish`): decoding and validation.
//!
//! The body is `{"tags": {common tags}, "metrics": [{"tags": {...}, "timestamp": ms, "value":
//! v}, ...]}`. [`decode_atlas_publish`] undoes gzip, reads the JSON in one pass with serde into
//! structures that borrow the body's strings (no `serde_json::Value` tree), then checks each
//! datapoint with Atlas's rules ([`super::rules`]); the result sorts datapoints into accepted
//! and rejected-with-reason. What the body's shape decides is decided as Atlas's Jackson parser
//! does: a type error anywhere (a string timestamp, an object value, a number as a tag value)
//! refuses the whole body, while a rule a datapoint breaks rejects only that datapoint.
//!
//! Choices where Atlas is silent or lenient, each a rejection of the one datapoint with a reason:
//! a missing `timestamp` or `value` (Atlas would store -1 or NaN), a tag key given twice in
//! one `tags` object (Atlas keeps one silently), and NaN or infinite values unless
//! `Limits::allow_non_finite`. Values may be JSON numbers or, as in Atlas, strings holding a
//! decimal number, `"NaN"`, `"Infinity"` or `"-Infinity"`; any other string refuses the body.
//! Common tags merge under each datapoint's own, whose values win; common tags naming a key
//! twice refuse the body. Unknown fields are ignored.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::content_encoding::decode_body;
use super::limits::Limits;
use super::outcome::{Datapoint, DecodeError, PublishOutcome, Rejection};
use super::rules;

/// Decodes and validates one publish request body.
///
/// `content_encoding` is the request's `Content-Encoding` header (`None`, `identity` or
/// `gzip`); `now_ms` is the server's clock, against which timestamps are judged.
pub fn decode_atlas_publish(
    body: &[u8],
    content_encoding: Option<&str>,
    now_ms: i64,
    limits: &Limits,
) -> Result<PublishOutcome, DecodeError> {
    let bytes = decode_body(body, content_encoding, limits)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::EmptyBody);
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let raw = BodySeed { max_datapoints: limits.max_datapoints }.deserialize(&mut de)?;
    de.end()?;

    let common = raw.tags.map(|t| t.0).unwrap_or_default();
    if let Some(key) = first_duplicate(&common) {
        return Err(DecodeError::DuplicateCommonTag(format!("{key:?}")));
    }
    let metrics = raw.metrics.unwrap_or_default();
    if metrics.is_empty() {
        return Err(DecodeError::NoDatapoints);
    }
    let mut outcome = PublishOutcome { accepted: Vec::with_capacity(metrics.len()), rejected: Vec::new() };
    let mut merged: Vec<(&str, &str)> = Vec::with_capacity(limits.max_tags_per_series);
    for (index, metric) in metrics.iter().enumerate() {
        match check_metric(metric, &common, now_ms, limits, &mut merged) {
            Ok(point) => outcome.accepted.push(point),
            Err(reason) => outcome.rejected.push(Rejection { index, reason }),
        }
    }
    Ok(outcome)
}

/// Applies the rules to one datapoint; `merged` is scratch space for its tags.
fn check_metric<'a>(
    metric: &'a RawMetric<'_>,
    common: &'a [(Cow<'_, str>, Cow<'_, str>)],
    now_ms: i64,
    limits: &Limits,
    merged: &mut Vec<(&'a str, &'a str)>,
) -> Result<Datapoint, String> {
    let timestamp_ms = metric.timestamp.ok_or("missing timestamp")?;
    let value = metric.value.ok_or("missing value")?.0;
    rules::check_time(timestamp_ms, now_ms, limits)?;
    merge_tags(metric.tags.as_ref().map_or(&[][..], |t| &t.0[..]), common, limits, merged)?;
    rules::check_tags(merged, limits)?;
    rules::check_value(value, limits)?;
    let tags = merged.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect();
    Ok(Datapoint { tags, timestamp_ms, value })
}

/// Fills `merged` with `own` tags plus the `common` ones `own` does not override. The tag
/// count is checked before the quadratic duplicate search, so that search stays small.
fn merge_tags<'a>(
    own: &'a [(Cow<'_, str>, Cow<'_, str>)],
    common: &'a [(Cow<'_, str>, Cow<'_, str>)],
    limits: &Limits,
    merged: &mut Vec<(&'a str, &'a str)>,
) -> Result<(), String> {
    let max = limits.max_tags_per_series;
    let too_many = |n: usize| format!("too many tags: {n} > {max}");
    if own.len() > max {
        return Err(too_many(own.len()));
    }
    if common.len() > max {
        return Err(too_many(common.len()));
    }
    merged.clear();
    for (i, (k, v)) in own.iter().enumerate() {
        if own.iter().take(i).any(|(seen, _)| seen == k) {
            return Err(format!("duplicate tag key: {k:?}"));
        }
        merged.push((k.as_ref(), v.as_ref()));
    }
    for (k, v) in common {
        if !own.iter().any(|(o, _)| o == k) {
            merged.push((k.as_ref(), v.as_ref()));
        }
    }
    Ok(())
}

/// The first key that appears twice, found by sorting a list of references.
fn first_duplicate<'a>(tags: &'a [(Cow<'_, str>, Cow<'_, str>)]) -> Option<&'a str> {
    let mut keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    keys.windows(2).find(|w| w.first() == w.last()).and_then(|w| w.first().copied())
}

/// The body as read, strings borrowed from it where they hold no escapes.
struct RawBody<'a> {
    tags: Option<TagList<'a>>,
    metrics: Option<Vec<RawMetric<'a>>>,
}

/// One element of `metrics` as read.
#[derive(Deserialize)]
struct RawMetric<'a> {
    #[serde(borrow, default)]
    tags: Option<TagList<'a>>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    value: Option<Value>,
}

/// A `tags` object's entries in order, duplicates kept (they are judged later).
struct TagList<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

/// A string, borrowed from the body when it has no escapes.
struct Str<'a>(Cow<'a, str>);

/// A datapoint value: a JSON number or a numeric string.
#[derive(Clone, Copy)]
struct Value(f64);

/// Reads the top-level object, capping the number of datapoints while reading them.
struct BodySeed {
    max_datapoints: usize,
}

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = RawBody<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = RawBody<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Atlas publish body: an object with \"tags\" and \"metrics\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = RawBody { tags: None, metrics: None };
        while let Some(key) = map.next_key::<Str>()? {
            match key.0.as_ref() {
                "tags" if body.tags.is_some() => return Err(de::Error::duplicate_field("tags")),
                "tags" => body.tags = Some(map.next_value()?),
                "metrics" if body.metrics.is_some() => return Err(de::Error::duplicate_field("metrics")),
                "metrics" => body.metrics = Some(map.next_value_seed(MetricsSeed { max: self.max_datapoints })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }
}

/// Reads the `metrics` array, refusing more than `max` elements.
struct MetricsSeed {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for MetricsSeed {
    type Value = Vec<RawMetric<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MetricsSeed {
    type Value = Vec<RawMetric<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of datapoints")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(metric) = seq.next_element()? {
            if out.len() >= self.max {
                return Err(de::Error::custom(format!("more than {} datapoints in \"metrics\"", self.max)));
            }
            out.push(metric);
        }
        Ok(out)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for TagList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = TagList<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string tag values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut tags = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((k, v)) = map.next_entry::<Str, Str>()? {
                    tags.push((k.0, v.0));
                }
                Ok(TagList(tags))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a string holding a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                parse_value_str(s).map(Value).ok_or_else(|| {
                    let shown: String = s.chars().take(40).collect();
                    E::custom(format!("value {shown:?} is not a number, \"NaN\", \"Infinity\" or \"-Infinity\""))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A value sent as a string, read as Java's `Double.parseDouble` reads Atlas's usual forms:
/// `NaN`, `Infinity` with an optional sign, or a decimal number.
fn parse_value_str(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
