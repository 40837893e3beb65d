//! The report as one JSON object: the same rows and cells as the table, with numeric values, the
//! metric each came from, its unit, and its threshold.
//!
//! Design decision: every cell has the same members whether measured or not (`value` and
//! `threshold` are `null` when absent, `reason` says why), so a consumer never has to guess
//! whether a missing key means "fine" or "unknown".

use serde_json::{Map, Value, json};

use crate::checklist::{How, Kind, Limit};
use crate::evaluate::{Cell, Report};
use crate::format;

/// The JSON object for `report`; `time` is its RFC 3339 time, given by the caller.
///
/// Shape: `{timestamp_ms, time, interval_secs, cpus, flagged, resources: [{resource, type,
/// utilization, saturation, errors}]}`, each cell `{metric, unit, value, threshold: {op, limit,
/// rule} | null, flagged, reason}`.
pub fn report_json(report: &Report, time: &str) -> Value {
    let resources: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            m.insert("resource".into(), json!(row.resource));
            m.insert("type".into(), json!(row.resource_type.as_str()));
            for (kind, cell) in Kind::ALL.iter().zip(&row.cells) {
                m.insert(kind.as_str().into(), cell_json(cell));
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "timestamp_ms": report.timestamp_ms,
        "time": time,
        "interval_secs": report.interval_secs,
        "cpus": report.cpus,
        "flagged": report.flagged().count(),
        "resources": resources,
    })
}

fn cell_json(c: &Cell) -> Value {
    let (unit, threshold) = match c.check.how {
        How::Measured { unit, threshold } => (Some(unit), threshold),
        How::Unmeasured => (None, None),
    };
    let threshold = match (threshold, unit) {
        (Some(t), Some(u)) => json!({
            "op": t.op.symbol(),
            "limit": c.limit.or(match t.limit { Limit::Fixed(l) => Some(l), Limit::CpuCount => None }),
            "rule": crate::checklist::threshold_text(&t, u),
        }),
        _ => Value::Null,
    };
    let reason = match (&c.note, c.value, threshold.is_null()) {
        (Some(n), _, _) => json!(n),
        (None, Some(_), true) => json!(c.check.why),
        _ => Value::Null,
    };
    json!({
        "metric": c.check.metric,
        "unit": unit.map(|u| u.as_str()),
        "value": c.value,
        "display": c.value.map(|v| format::value(v, unit.unwrap_or(plumb_model::Unit::Number))),
        "threshold": threshold,
        "flagged": c.flagged,
        "reason": reason,
    })
}
