//! One JSON object per interval.

use plumb_collect::Group;
use plumb_model::Snapshot;
use serde_json::{Map, Value, json};

use crate::rows::{group_rows, is_multi_row};

/// The JSON object for one interval: `timestamp_ms`, `time` (RFC 3339, given by the caller),
/// `interval_secs`, `host`, then one member per group. A one-row group is an object of metric
/// name to value; a group with a row per device, interface, CPU or process is an array of such
/// objects, each also holding its tag values (`dev`, `kind`, `iface`, `cpu`, `pid`, `comm`).
pub fn snapshot_json(snap: &Snapshot, groups: &[Group], time: &str, host: &str) -> Value {
    let mut obj = Map::new();
    obj.insert("timestamp_ms".into(), json!(snap.timestamp_ms));
    obj.insert("time".into(), json!(time));
    obj.insert("interval_secs".into(), json!(snap.interval_secs));
    obj.insert("host".into(), json!(host));
    for &g in groups {
        let rows = group_rows(snap, g);
        let to_obj = |row: &crate::rows::Row<'_>| {
            let mut m = Map::new();
            for (k, v) in &row.tags {
                m.insert((*k).to_string(), json!(v));
            }
            for (name, v) in &row.values {
                m.insert((*name).to_string(), json!(v));
            }
            Value::Object(m)
        };
        let value = if is_multi_row(g) {
            Value::Array(rows.iter().map(to_obj).collect())
        } else {
            rows.first().map(to_obj).unwrap_or_else(|| Value::Object(Map::new()))
        };
        obj.insert(g.as_str().to_string(), value);
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Sample;

    #[test]
    fn shape_is_stable() {
        let snap = Snapshot {
            timestamp_ms: 1_000,
            interval_secs: Some(1.0),
            samples: vec![
                Sample::new("cpu.user", 12.5),
                Sample { name: "disk.reads", tags: vec![("dev", "vda".into()), ("kind", "disk".into())], value: 5.0 },
            ],
        };
        let v = snapshot_json(&snap, &[Group::Cpu, Group::Disk], "1970-01-01T00:00:01Z", "h");
        assert_eq!(v["cpu"]["cpu.user"], json!(12.5));
        assert_eq!(v["disk"][0]["dev"], json!("vda"));
        assert_eq!(v["disk"][0]["kind"], json!("disk"));
        assert_eq!(v["disk"][0]["disk.reads"], json!(5.0));
        assert_eq!(v["interval_secs"], json!(1.0));
        assert!(v.get("net").is_none(), "only requested groups appear");
    }
}
