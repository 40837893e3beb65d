//! Batches in Atlas's publish format:
//!
//! ```json
//! {"tags": {"nf.app": "web", "nf.node": "i-1"},
//!  "metrics": [{"tags": {"name": "cpu.user", "cpu": "0"}, "timestamp": 1700000000000, "value": 1.5}]}
//! ```
//!
//! Tag keys and values are made to fit Atlas's rules as its clients do: characters outside
//! `[-._A-Za-z0-9^~]` become `_`, and anything past 255 bytes is cut (a process named
//! `kworker/0:1` is published as `kworker_0_1`). Non-finite values are left out: JSON has no NaN.

use std::borrow::Cow;

use plumb_model::{CommonTags, Snapshot};

/// One publish request body and the number of datapoints in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The JSON body.
    pub body: Vec<u8>,
    /// How many datapoints it holds.
    pub datapoints: u64,
}

/// The samples of `snap` as bodies of at most `max_datapoints` datapoints each (at least one
/// datapoint per body; none for an empty snapshot).
pub fn encode(snap: &Snapshot, common: &CommonTags, max_datapoints: usize) -> Vec<Batch> {
    let samples: Vec<_> = snap.samples.iter().filter(|s| s.value.is_finite()).collect();
    samples
        .chunks(max_datapoints.max(1))
        .map(|chunk| {
            let mut body = Vec::with_capacity(64 + chunk.len() * 96);
            body.extend_from_slice(b"{\"tags\":{");
            for (i, (k, v)) in common.iter().enumerate() {
                push_pair(&mut body, i > 0, k, v);
            }
            body.extend_from_slice(b"},\"metrics\":[");
            for (i, s) in chunk.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(b"{\"tags\":{");
                push_pair(&mut body, false, "name", s.name);
                for (k, v) in &s.tags {
                    push_pair(&mut body, true, k, v);
                }
                body.extend_from_slice(format!("}},\"timestamp\":{},\"value\":", snap.timestamp_ms).as_bytes());
                // serde_json writes the shortest text that reads back to the same f64.
                let _ = serde_json::to_writer(&mut body, &s.value);
                body.push(b'}');
            }
            body.extend_from_slice(b"]}");
            Batch { body, datapoints: chunk.len() as u64 }
        })
        .collect()
}

fn push_pair(body: &mut Vec<u8>, comma: bool, k: &str, v: &str) {
    if comma {
        body.push(b',');
    }
    let _ = serde_json::to_writer(&mut *body, &atlas_clean(k));
    body.push(b':');
    let _ = serde_json::to_writer(&mut *body, &atlas_clean(v));
}

/// `s` with characters outside `[-._A-Za-z0-9^~]` made `_`, cut to 255 bytes; empty becomes `_`.
pub fn atlas_clean(s: &str) -> Cow<'_, str> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "-._^~".contains(c);
    if !s.is_empty() && s.len() <= 255 && s.chars().all(ok) {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().map(|c| if ok(c) { c } else { '_' }).take(255).collect();
    if out.is_empty() {
        out.push('_');
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use plumb_model::Sample;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn atlas_shape_split_into_batches() {
        let mut common = CommonTags::new();
        common.insert("nf.app", "web").unwrap();
        let snap = Snapshot {
            timestamp_ms: 1_700_000_000_000,
            interval_secs: Some(1.0),
            samples: vec![
                Sample::new("cpu.user", 1.5),
                Sample::tagged("proc.cpu", "comm", "kworker/0:1 \"x\"", 2.0),
                Sample::new("bad", f64::NAN),
                Sample::tagged("percpu.user", "cpu", "3", 0.1),
            ],
        };
        let batches = encode(&snap, &common, 2);
        assert_eq!(batches.iter().map(|b| b.datapoints).collect::<Vec<_>>(), [2, 1]);
        let first: Value = serde_json::from_slice(&batches[0].body).unwrap();
        assert_eq!(
            first,
            json!({"tags": {"nf.app": "web"}, "metrics": [
                {"tags": {"name": "cpu.user"}, "timestamp": 1_700_000_000_000i64, "value": 1.5},
                {"tags": {"name": "proc.cpu", "comm": "kworker_0_1__x_"}, "timestamp": 1_700_000_000_000i64, "value": 2.0},
            ]})
        );
        let second: Value = serde_json::from_slice(&batches[1].body).unwrap();
        assert_eq!(second["metrics"][0]["value"], json!(0.1));
        assert!(encode(&Snapshot::default(), &common, 10).is_empty());
    }

    #[test]
    fn clean_tags() {
        assert!(matches!(atlas_clean("nf.app"), Cow::Borrowed(_)));
        assert_eq!(atlas_clean(""), "_");
        assert_eq!(atlas_clean(&"é".repeat(300)).len(), 255);
    }
}
