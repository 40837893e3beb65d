//! Running the sysstat tools (mpstat, iostat, sar, pidstat) and reading their text reports.

use std::collections::HashMap;
use std::process::Command;

/// The message a test fails with when sysstat is missing: no silent skip.
pub const REQUIRED: &str = "sysstat is required: apt-get install -y sysstat";

/// A command for the sysstat tool `tool`, in the C locale with ISO times (one `HH:MM:SS` token,
/// `.` as the decimal point). Panics with [`REQUIRED`] when the tool is not installed.
pub fn tool(tool: &str) -> Command {
    let path = find(tool).unwrap_or_else(|| panic!("{REQUIRED} ({tool} not found in PATH)"));
    let mut cmd = Command::new(path);
    cmd.env("LC_ALL", "C").env("S_TIME_FORMAT", "ISO").env_remove("LANG").env("S_COLORS", "never");
    cmd
}

fn find(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}

/// One data row of a report, keyed by the column headers; the time column is keyed `time`.
pub type Row = HashMap<String, String>;

/// The data rows of a sysstat text report, in order. A header line is one containing the column
/// `marker` (e.g. `%idle`); the rows after it, up to a blank line, are its data. The banner line
/// and the `Average:` blocks are skipped, so what is left are the interval reports.
pub fn rows(text: &str, marker: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        if tokens.is_empty() {
            header = None;
            continue;
        }
        if tokens.contains(&marker) {
            header = if tokens[0] == "Average:" {
                None
            } else {
                Some(
                    tokens
                        .iter()
                        .enumerate()
                        .map(|(i, t)| if i == 0 && is_time(t) { "time".into() } else { (*t).to_string() })
                        .collect(),
                )
            };
            continue;
        }
        let Some(h) = &header else { continue };
        if tokens[0] == "Average:" {
            continue;
        }
        assert_eq!(tokens.len(), h.len(), "sysstat row does not match its header {h:?}: {line:?}\n{text}");
        out.push(h.iter().cloned().zip(tokens.iter().map(|t| (*t).to_string())).collect());
    }
    out
}

fn is_time(t: &str) -> bool {
    let parts: Vec<&str> = t.split(':').collect();
    parts.len() == 3 && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The numeric column `col` of `row`; panics naming what is missing.
pub fn num(row: &Row, col: &str) -> f64 {
    row.get(col)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no numeric column {col:?} in sysstat row {row:?}"))
}

/// The rows whose column `col` is `value`, e.g. the `lo` rows of `sar -n DEV`.
pub fn select<'a>(rows: &'a [Row], col: &str, value: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.get(col).map(String::as_str) == Some(value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_interval_rows_and_skips_averages() {
        let text = "Linux 6.1 (vm) \t2026-11-26 \t_x86_64_\t(2 CPU)\n\n\
            03:52:26     CPU    %usr   %idle\n\
            03:52:27     all   76.26   12.12\n\
            03:52:28     all   50.25   49.75\n\
            Average:     all   63.22   30.98\n";
        let r = rows(text, "%idle");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["time"], "03:52:28");
        assert_eq!(num(&r[0], "%usr"), 76.26);
    }
}
