//! Running `plumb stat --json` and reading its lines.

use std::process::Command;

use serde_json::Value;

/// `plumb stat --json GROUPS... 1 COUNT`.
pub fn stat_json(groups: &[&str], count: u32) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumb"));
    cmd.arg("stat").arg("--json").args(groups).arg("1").arg(count.to_string());
    cmd
}

/// One JSON object per non-empty line; panics on a line that is not an object.
pub fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => panic!("plumb stat --json printed a non-object line: {other}"),
            Err(e) => panic!("plumb stat --json printed a line that is not JSON ({e}): {l}"),
        })
        .collect()
}

/// The line's `interval_secs`: the seconds its rates cover.
pub fn interval_secs(line: &Value) -> f64 {
    line.get("interval_secs")
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("line without a numeric interval_secs: {line}"))
}

/// The numeric member `name` of `obj`; panics naming what is missing.
pub fn num(obj: &Value, name: &str) -> f64 {
    obj.get(name).and_then(Value::as_f64).unwrap_or_else(|| panic!("no numeric {name:?} in {obj}"))
}

/// The object of an untagged group, e.g. `cpu` or `tcp`.
pub fn group<'a>(line: &'a Value, group: &str) -> &'a Value {
    match line.get(group) {
        Some(v @ Value::Object(_)) => v,
        _ => panic!("line without a {group:?} object: {line}"),
    }
}

/// The row of a tagged group (`disk`, `net`, `proc`, ...) whose tag `key` is `value`.
pub fn row<'a>(line: &'a Value, group: &str, key: &str, value: &str) -> Option<&'a Value> {
    let rows =
        line.get(group).and_then(Value::as_array).unwrap_or_else(|| panic!("line without a {group:?} array: {line}"));
    rows.iter().find(|r| r.get(key).and_then(Value::as_str) == Some(value))
}

/// The sum over `lines` of a rate times the line's interval: the count over the whole window.
/// `rate` returns the per-second value of one line.
pub fn total(lines: &[Value], rate: impl Fn(&Value) -> f64) -> f64 {
    lines.iter().map(|l| rate(l) * interval_secs(l)).sum()
}
