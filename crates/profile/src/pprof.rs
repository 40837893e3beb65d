//! pprof's gzip-compressed `profile.proto`, written from a [`Profile`] and read back into one
//! (gzip-compressed or raw), so `go tool pprof`, Pyroscope or Parca can open plumb's profiles and
//! `plumb flame diff` can compare theirs.
//!
//! Design decision: a frame's kind travels as the location's mapping, named the way perf names
//! such pseudo-binaries (`[kernel.kallsyms]`, `[jit]`, ...; user frames have no mapping), and an
//! inlined frame becomes an extra `Line` of its caller's `Location`, as profile.proto intends, so
//! pprof shows inlining natively. Metadata pprof has no field for (host, event, lost samples,
//! command) is written as `plumb.key=value` comments, which `go tool pprof -comments` shows and
//! the reader restores.
//!
//! Sample types: weights counting samples are written as `samples/count`, followed for
//! cpu-clock by `cpu/nanoseconds` (samples × period, the period being 1e9/Hz when sampling by
//! frequency) or for another event sampled by period by `EVENT/count`; off-CPU weights are
//! `EVENT/nanoseconds`. The reader takes `samples/count` when present, else the first
//! `nanoseconds` type, else the default (last) type.

pub mod proto;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Duration;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use prost::Message;

use crate::error::{Error, Result};
use crate::model::{FrameId, FrameKind, Profile, ProfileMeta, Sampling, WeightUnit};

/// The prefix of plumb's metadata comments.
const COMMENT_PREFIX: &str = "plumb.";

/// The string table being built.
#[derive(Default)]
struct Strings {
    table: Vec<Vec<u8>>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        let mut strings = Strings::default();
        strings.intern("");
        strings
    }

    fn intern(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = i64::try_from(self.table.len()).unwrap_or(i64::MAX);
        self.table.push(s.as_bytes().to_vec());
        self.index.insert(s.to_owned(), i);
        i
    }

    fn value_type(&mut self, r#type: &str, unit: &str) -> proto::ValueType {
        proto::ValueType { r#type: self.intern(r#type), unit: self.intern(unit) }
    }
}

/// The second sample type of a sample-counting profile and its period, if the metadata tells.
fn scaled_sample_type(meta: &ProfileMeta) -> Option<(String, &'static str, u64)> {
    let cpu = matches!(meta.event.as_deref(), None | Some("cpu-clock"));
    match (meta.sampling?, cpu) {
        (Sampling::FrequencyHz(hz), true) if hz > 0 => Some(("cpu".to_owned(), "nanoseconds", 1_000_000_000 / hz)),
        (Sampling::Period(period), true) => Some(("cpu".to_owned(), "nanoseconds", period)),
        (Sampling::Period(period), false) => Some((meta.event.clone()?, "count", period)),
        (Sampling::FrequencyHz(_), _) => None,
    }
}

/// plumb's metadata comments.
fn meta_comments(profile: &Profile) -> Vec<String> {
    let meta = &profile.meta;
    let mut comments = Vec::new();
    let mut push = |key: &str, value: String| comments.push(format!("{COMMENT_PREFIX}{key}={value}"));
    if let Some(host) = &meta.host {
        push("host", host.clone());
    }
    if let Some(event) = &meta.event {
        push("event", event.clone());
    }
    push("unit", meta.unit.as_str().to_owned());
    match meta.sampling {
        Some(Sampling::FrequencyHz(hz)) => push("frequency_hz", hz.to_string()),
        Some(Sampling::Period(period)) => push("period", period.to_string()),
        None => {}
    }
    if let Some(count) = meta.sample_count {
        push("sample_count", count.to_string());
    }
    if meta.lost_samples > 0 {
        push("lost_samples", meta.lost_samples.to_string());
    }
    if let Some(command) = &meta.command_line {
        push("command", command.clone());
    }
    comments
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The profile as a profile.proto message.
pub fn to_message(profile: &Profile) -> proto::Profile {
    let meta = &profile.meta;
    let mut strings = Strings::new();
    let mut message = proto::Profile::default();

    let scaled = match meta.unit {
        WeightUnit::Samples => {
            message.sample_type.push(strings.value_type("samples", "count"));
            let scaled = scaled_sample_type(meta);
            if let Some((r#type, unit, period)) = &scaled {
                let value_type = strings.value_type(r#type, unit);
                message.sample_type.push(value_type.clone());
                message.period_type = Some(value_type);
                message.period = to_i64(*period);
            }
            scaled.map(|(_, _, period)| period)
        }
        WeightUnit::Nanoseconds => {
            let event = meta.event.as_deref().unwrap_or("off-cpu");
            message.sample_type.push(strings.value_type(event, "nanoseconds"));
            None
        }
    };

    let mut mapping_ids: HashMap<FrameKind, u64> = HashMap::new();
    for kind in FrameKind::ALL {
        let Some(filename) = kind.pseudo_module() else { continue };
        if profile.frames().iter().any(|f| f.kind == kind) {
            let id = message.mapping.len() as u64 + 1;
            let filename = strings.intern(filename);
            message.mapping.push(proto::Mapping { id, filename, has_functions: true, ..Default::default() });
            mapping_ids.insert(kind, id);
        }
    }

    // One function per frame: id = FrameId + 1.
    for (i, frame) in profile.frames().iter().enumerate() {
        let name = strings.intern(&frame.name);
        message.function.push(proto::Function { id: i as u64 + 1, name, system_name: name, ..Default::default() });
    }

    let mut location_ids: HashMap<Vec<FrameId>, u64> = HashMap::new();
    for (ids, weight) in profile.stacks() {
        let mut location_id = Vec::new();
        for group in location_groups(profile, ids) {
            let next_id = location_ids.len() as u64 + 1;
            let id = *location_ids.entry(group.to_vec()).or_insert_with(|| {
                let outer_kind = group.first().and_then(|&id| profile.frame(id)).map_or(FrameKind::User, |f| f.kind);
                message.location.push(proto::Location {
                    id: next_id,
                    mapping_id: mapping_ids.get(&outer_kind).copied().unwrap_or(0),
                    line: group
                        .iter()
                        .rev()
                        .map(|id| proto::Line { function_id: u64::from(id.0) + 1, line: 0 })
                        .collect(),
                    ..Default::default()
                });
                next_id
            });
            location_id.push(id);
        }
        location_id.reverse();
        let mut value = vec![to_i64(weight)];
        if let Some(period) = scaled {
            value.push(to_i64(weight.saturating_mul(period)));
        }
        message.sample.push(proto::Sample { location_id, value, label: Vec::new() });
    }

    message.time_nanos = meta.start_unix_nanos.unwrap_or(0);
    message.duration_nanos = meta.duration.map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    message.comment = meta_comments(profile).iter().map(|c| strings.intern(c)).collect();
    message.string_table = strings.table;
    message
}

/// Splits a root-first stack into locations: each frame that is not inlined, with the inlined
/// frames that follow it (its inlined callees).
fn location_groups<'a>(profile: &Profile, ids: &'a [FrameId]) -> Vec<&'a [FrameId]> {
    let inlined = |id: &FrameId| profile.frame(*id).is_some_and(|f| f.kind == FrameKind::Inlined);
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=ids.len() {
        if i == ids.len() || !ids.get(i).is_some_and(inlined) {
            if let Some(group) = ids.get(start..i) {
                groups.push(group);
            }
            start = i;
        }
    }
    groups
}

/// The profile as raw (uncompressed) profile.proto bytes.
pub fn to_pprof_raw(profile: &Profile) -> Vec<u8> {
    to_message(profile).encode_to_vec()
}

/// Writes the profile as gzip-compressed profile.proto, the form pprof files take on disk.
pub fn write_pprof(profile: &Profile, writer: impl Write) -> Result<()> {
    let mut gzip = GzEncoder::new(writer, Compression::default());
    gzip.write_all(&to_pprof_raw(profile))?;
    gzip.finish()?.flush()?;
    Ok(())
}

/// The profile as gzip-compressed profile.proto bytes.
pub fn to_pprof(profile: &Profile) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write_pprof(profile, &mut bytes)?;
    Ok(bytes)
}

/// Whether the bytes start with gzip's magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decodes profile.proto bytes, gzip-compressed or raw, into the message.
pub fn decode_message(bytes: &[u8]) -> Result<proto::Profile> {
    if is_gzip(bytes) {
        let mut raw = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut raw).map_err(Error::Gzip)?;
        Ok(proto::Profile::decode(raw.as_slice())?)
    } else {
        Ok(proto::Profile::decode(bytes)?)
    }
}

/// Reads a pprof profile (gzip-compressed or raw) into a [`Profile`].
pub fn read_pprof(bytes: &[u8]) -> Result<Profile> {
    from_message(&decode_message(bytes)?)
}

/// A string-table lookup that reports the index it could not find.
fn string(message: &proto::Profile, index: i64) -> Result<String> {
    usize::try_from(index)
        .ok()
        .and_then(|i| message.string_table.get(i))
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .ok_or_else(|| Error::PprofInvalid(format!("string index {index} is outside the string table")))
}

/// Which value of each sample becomes the weight, and its unit.
fn chosen_value(message: &proto::Profile) -> Result<(usize, WeightUnit, Option<String>)> {
    let mut types = Vec::new();
    for value_type in &message.sample_type {
        types.push((string(message, value_type.r#type)?, string(message, value_type.unit)?));
    }
    if let Some(i) = types.iter().position(|(t, u)| t == "samples" && u == "count") {
        let scaled = types.iter().find(|(t, _)| t != "samples").map(|(t, _)| t.clone());
        return Ok((i, WeightUnit::Samples, scaled));
    }
    if let Some(i) = types.iter().position(|(_, u)| u == "nanoseconds") {
        return Ok((i, WeightUnit::Nanoseconds, types.get(i).map(|(t, _)| t.clone())));
    }
    let default = if message.default_sample_type != 0 {
        let name = string(message, message.default_sample_type)?;
        types.iter().position(|(t, _)| *t == name)
    } else {
        None
    };
    let i = default.unwrap_or(types.len().saturating_sub(1));
    Ok((i, WeightUnit::Samples, types.get(i).map(|(t, _)| t.clone())))
}

/// The metadata: standard fields first, plumb's comments over them.
fn read_meta(message: &proto::Profile, unit: WeightUnit, type_name: Option<String>) -> Result<ProfileMeta> {
    let mut meta = ProfileMeta { unit, event: type_name, ..ProfileMeta::default() };
    if message.time_nanos != 0 {
        meta.start_unix_nanos = Some(message.time_nanos);
    }
    if message.duration_nanos > 0 {
        meta.duration = Some(Duration::from_nanos(message.duration_nanos as u64));
    }
    if message.period > 0 {
        meta.sampling = Some(Sampling::Period(message.period as u64));
    }
    for &index in &message.comment {
        let comment = string(message, index)?;
        let Some((key, value)) = comment.strip_prefix(COMMENT_PREFIX).and_then(|c| c.split_once('=')) else {
            continue;
        };
        match key {
            "host" => meta.host = Some(value.to_owned()),
            "event" => meta.event = Some(value.to_owned()),
            "command" => meta.command_line = Some(value.to_owned()),
            "frequency_hz" => meta.sampling = value.parse().ok().map(Sampling::FrequencyHz).or(meta.sampling),
            "period" => meta.sampling = value.parse().ok().map(Sampling::Period).or(meta.sampling),
            "sample_count" => meta.sample_count = value.parse().ok(),
            "lost_samples" => meta.lost_samples = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    Ok(meta)
}

/// Converts a decoded message into a [`Profile`].
pub fn from_message(message: &proto::Profile) -> Result<Profile> {
    let (value_index, unit, type_name) = chosen_value(message)?;
    let mut profile = Profile::new(read_meta(message, unit, type_name)?);

    let mut mapping_kinds: HashMap<u64, (FrameKind, String)> = HashMap::new();
    for mapping in &message.mapping {
        let filename = string(message, mapping.filename)?;
        mapping_kinds.insert(mapping.id, (FrameKind::from_module(&filename), filename));
    }
    let mut function_names: HashMap<u64, String> = HashMap::new();
    for function in &message.function {
        let name = if function.name != 0 { function.name } else { function.system_name };
        function_names.insert(function.id, string(message, name)?);
    }
    // Each location's frames, root first: the outer function, then what is inlined into it.
    let mut locations: HashMap<u64, Vec<FrameId>> = HashMap::new();
    for location in &message.location {
        let (kind, filename) =
            mapping_kinds.get(&location.mapping_id).map_or((FrameKind::User, ""), |(k, f)| (*k, f.as_str()));
        let mut frames = Vec::new();
        for (i, line) in location.line.iter().rev().enumerate() {
            let name = function_names.get(&line.function_id).ok_or_else(|| {
                Error::PprofInvalid(format!("location {} names unknown function {}", location.id, line.function_id))
            })?;
            frames.push(profile.intern(name, if i == 0 { kind } else { FrameKind::Inlined }));
        }
        if frames.is_empty() {
            let name = if filename.is_empty() {
                format!("0x{:x}", location.address)
            } else {
                format!("{filename}+0x{:x}", location.address)
            };
            frames.push(profile.intern(&name, kind));
        }
        locations.insert(location.id, frames);
    }

    let mut stack: Vec<FrameId> = Vec::new();
    for sample in &message.sample {
        let weight = sample.value.get(value_index).copied().unwrap_or(0);
        stack.clear();
        for location_id in sample.location_id.iter().rev() {
            let frames = locations
                .get(location_id)
                .ok_or_else(|| Error::PprofInvalid(format!("a sample names unknown location {location_id}")))?;
            stack.extend_from_slice(frames);
        }
        profile.add_stack_ids(&stack, u64::try_from(weight).unwrap_or(0));
    }
    Ok(profile)
}

#[cfg(test)]
mod tests;
