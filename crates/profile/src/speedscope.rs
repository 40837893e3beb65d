//! speedscope's JSON file format (<https://www.speedscope.app/file-format-schema.json>): shared
//! frames and one "sampled" profile whose samples are stacks of frame indices (root first) with
//! a weight each. Written, and read back for `plumb flame diff`/`render`.
//!
//! Design decision: speedscope frames have no kind, so a non-user frame carries its kind in the
//! frame's `file`, as the pseudo-module perf would show (`[kernel.kallsyms]`, `[jit]`, ...); the
//! name stays clean, since speedscope colours and searches by name. One sample is written per
//! distinct stack with its aggregated weight: speedscope's left-heavy and sandwich views are
//! unaffected, and the time-order view shows stacks in a stable order rather than in time.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Frame, FrameId, FrameKind, Profile, ProfileMeta, WeightUnit};
use crate::svg::default_title;

/// The `$schema` every speedscope file names.
pub const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// A speedscope file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// Always [`SCHEMA`].
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Data shared by the profiles.
    pub shared: Shared,
    /// The profiles (plumb writes one).
    pub profiles: Vec<SpeedscopeProfile>,
    /// The file's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which profile to show first.
    #[serde(rename = "activeProfileIndex", default, skip_serializing_if = "Option::is_none")]
    pub active_profile_index: Option<usize>,
    /// The program that wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<String>,
}

/// The frames all profiles index into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    /// The frames.
    pub frames: Vec<SpeedscopeFrame>,
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedscopeFrame {
    /// The function name.
    pub name: String,
    /// Source file or module; plumb puts a non-user kind's pseudo-module here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// One profile of a file. plumb writes and reads the "sampled" type only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedscopeProfile {
    /// "sampled" (or "evented", which plumb does not read).
    #[serde(rename = "type")]
    pub profile_type: String,
    /// The profile's title.
    pub name: String,
    /// Weight unit: "none" for sample counts, "nanoseconds" for time.
    pub unit: String,
    /// The first value (0).
    #[serde(rename = "startValue")]
    pub start_value: f64,
    /// The last value (the total weight).
    #[serde(rename = "endValue")]
    pub end_value: f64,
    /// Stacks of indices into [`Shared::frames`], root first.
    #[serde(default)]
    pub samples: Vec<Vec<usize>>,
    /// One weight per sample.
    #[serde(default)]
    pub weights: Vec<f64>,
}

/// The profile as a speedscope file.
pub fn to_file(profile: &Profile) -> File {
    let frames = profile.frames().iter().map(speedscope_frame).collect();
    let mut samples = Vec::with_capacity(profile.stack_count());
    let mut weights = Vec::with_capacity(profile.stack_count());
    for (ids, weight) in profile.stacks() {
        samples.push(ids.iter().map(|id| id.0 as usize).collect());
        weights.push(weight as f64);
    }
    let title = default_title(profile);
    File {
        schema: SCHEMA.to_owned(),
        shared: Shared { frames },
        profiles: vec![SpeedscopeProfile {
            profile_type: "sampled".to_owned(),
            name: title.clone(),
            unit: match profile.meta.unit {
                WeightUnit::Samples => "none",
                WeightUnit::Nanoseconds => "nanoseconds",
            }
            .to_owned(),
            start_value: 0.0,
            end_value: profile.total() as f64,
            samples,
            weights,
        }],
        name: Some(title),
        active_profile_index: Some(0),
        exporter: Some(format!("plumb {}", env!("CARGO_PKG_VERSION"))),
    }
}

/// Writes the profile as speedscope JSON.
pub fn write_speedscope(profile: &Profile, writer: impl std::io::Write) -> Result<()> {
    serde_json::to_writer(writer, &to_file(profile))?;
    Ok(())
}

/// The profile as speedscope JSON bytes.
pub fn to_speedscope(profile: &Profile) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(&to_file(profile))?)
}

/// Reads speedscope JSON: the active profile if it is sampled, else the first sampled one.
/// Fractional weights are rounded down.
pub fn read_speedscope(bytes: &[u8]) -> Result<Profile> {
    let file: File = serde_json::from_slice(bytes)?;
    let active = file.active_profile_index.and_then(|i| file.profiles.get(i)).filter(|p| p.profile_type == "sampled");
    let sampled = active
        .or_else(|| file.profiles.iter().find(|p| p.profile_type == "sampled"))
        .ok_or_else(|| Error::SpeedscopeInvalid("the file holds no sampled profile".to_owned()))?;
    if sampled.weights.len() != sampled.samples.len() {
        return Err(Error::SpeedscopeInvalid(format!(
            "{} samples but {} weights",
            sampled.samples.len(),
            sampled.weights.len()
        )));
    }
    let unit = if sampled.unit == "nanoseconds" { WeightUnit::Nanoseconds } else { WeightUnit::Samples };
    let mut profile = Profile::new(ProfileMeta { unit, ..ProfileMeta::default() });
    let ids: Vec<FrameId> = file
        .shared
        .frames
        .iter()
        .map(|f| {
            let kind = f.file.as_deref().map_or(FrameKind::User, FrameKind::from_module);
            profile.intern(&f.name, kind)
        })
        .collect();
    let mut stack = Vec::new();
    for (sample, &weight) in sampled.samples.iter().zip(&sampled.weights) {
        stack.clear();
        for &index in sample {
            let id = ids
                .get(index)
                .ok_or_else(|| Error::SpeedscopeInvalid(format!("a sample names frame {index} of {}", ids.len())))?;
            stack.push(*id);
        }
        let weight = if weight.is_finite() && weight > 0.0 { weight as u64 } else { 0 };
        profile.add_stack_ids(&stack, weight);
    }
    Ok(profile)
}

/// The speedscope frame of a model frame.
fn speedscope_frame(frame: &Frame) -> SpeedscopeFrame {
    SpeedscopeFrame { name: frame.name.clone(), file: frame.kind.pseudo_module().map(str::to_owned) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn sample_profile() -> Profile {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("main"), Frame::user("work"), Frame::kernel("page_fault")], 30);
        profile.add_stack(&[Frame::user("main"), Frame::new("jitted", FrameKind::Jit)], 70);
        profile.meta.event = Some("cpu-clock".into());
        profile
    }

    #[test]
    fn json_has_speedscope_structure() {
        let json: Value = serde_json::from_slice(&to_speedscope(&sample_profile()).unwrap()).unwrap();
        assert_eq!(json["$schema"], SCHEMA);
        let frames = json["shared"]["frames"].as_array().unwrap();
        let names: Vec<&str> = frames.iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["main", "work", "page_fault", "jitted"]);
        assert_eq!(frames[2]["file"], "[kernel.kallsyms]");
        assert!(frames[0].get("file").is_none());
        let profile = &json["profiles"][0];
        assert_eq!(profile["type"], "sampled");
        assert_eq!(profile["unit"], "none");
        assert_eq!(profile["endValue"], 100.0);
        assert_eq!(profile["samples"], serde_json::json!([[0, 1, 2], [0, 3]]));
        assert_eq!(profile["weights"], serde_json::json!([30.0, 70.0]));
        assert_eq!(json["activeProfileIndex"], 0);
    }

    #[test]
    fn reads_back_and_rejects_bad_indices() {
        let profile = sample_profile();
        let read = read_speedscope(&to_speedscope(&profile).unwrap()).unwrap();
        assert_eq!(read.to_named_stacks(), profile.to_named_stacks());
        let bad = br#"{"$schema":"x","shared":{"frames":[{"name":"a"}]},"profiles":[{"type":"sampled","name":"p","unit":"none","startValue":0,"endValue":1,"samples":[[0,5]],"weights":[1]}]}"#;
        assert!(matches!(read_speedscope(bad), Err(Error::SpeedscopeInvalid(_))));
        let evented = br#"{"$schema":"x","shared":{"frames":[]},"profiles":[{"type":"evented","name":"p","unit":"none","startValue":0,"endValue":1}]}"#;
        assert!(matches!(read_speedscope(evented), Err(Error::SpeedscopeInvalid(_))));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_speedscope(&bytes);
        }
    }
}
