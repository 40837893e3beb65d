//! The report as an aligned text table, then the reasons for each n/a and the list of flagged
//! values with their thresholds.
//!
//! Design decision: a cell is a value and the metric it came from, in two sub-columns so values
//! align on the right and names on the left; a `!` after the value flags it. Reasons for n/a are
//! footnotes (`[2]`), numbered once per distinct reason, so a 96-CPU machine does not repeat the
//! same sentence 96 times and the table stays narrow.

use std::fmt::Write;

use crate::checklist::{How, Limit, threshold_text};
use crate::evaluate::{Cell, Report};
use crate::format;

const HEADERS: [&str; 5] = ["RESOURCE", "TYPE", "UTILIZATION", "SATURATION", "ERRORS"];

/// The table for `report`, headed by `time` (e.g. `HH:MM:SS`).
pub fn render(report: &Report, time: &str) -> String {
    let mut notes: Vec<String> = Vec::new();
    let mut note_number = |note: &str| match notes.iter().position(|n| n == note) {
        Some(i) => i + 1,
        None => {
            notes.push(note.to_string());
            notes.len()
        }
    };
    // Each cell as (value with flag, metric or footnote mark).
    let rows: Vec<[(String, String); 3]> = report
        .rows
        .iter()
        .map(|row| {
            row.cells.each_ref().map(|c| match c.value {
                Some(v) => {
                    let unit = c.unit().unwrap_or(plumb_model::Unit::Number);
                    let flag = if c.flagged { "!" } else { " " };
                    // A value without a threshold points at the reason there is none.
                    let no_threshold = matches!(c.check.how, How::Measured { threshold: None, .. });
                    let note = c.note.as_deref().or(no_threshold.then_some(c.check.why));
                    let mark = note.map(|n| format!(" [{}]", note_number(n))).unwrap_or_default();
                    (format!("{}{flag}", format::value(v, unit)), format!("{}{mark}", c.check.metric))
                }
                None => {
                    let n = note_number(c.note.as_deref().unwrap_or("not measured"));
                    ("n/a ".to_string(), format!("[{n}] {}", c.check.metric))
                }
            })
        })
        .collect();

    let width =
        |f: &dyn Fn(usize) -> usize, header: &str| (0..report.rows.len()).map(f).max().unwrap_or(0).max(header.len());
    let res_w = width(&|i| report.rows[i].resource.len(), HEADERS[0]);
    let type_w = width(&|i| report.rows[i].resource_type.as_str().len(), HEADERS[1]);
    let value_w: [usize; 3] = [0, 1, 2].map(|k| rows.iter().map(|r| r[k].0.len()).max().unwrap_or(0));
    let metric_w: [usize; 3] = [0, 1, 2].map(|k| rows.iter().map(|r| r[k].1.len()).max().unwrap_or(0));
    let cell_w: [usize; 3] = [0, 1, 2].map(|k| (value_w[k] + 1 + metric_w[k]).max(HEADERS[k + 2].len()));

    let mut out = String::new();
    let interval = report.interval_secs.map(|s| format!("{s:.2} s")).unwrap_or_else(|| "no interval".into());
    let cpus = report.cpus.map(|n| format!("{n} CPUs")).unwrap_or_else(|| "CPU count unknown".into());
    let _ = writeln!(out, "{time}  USE method over {interval}, {cpus}");
    let mut line = format!("{:<res_w$}  {:<type_w$}", HEADERS[0], HEADERS[1]);
    for k in 0..3 {
        let _ = write!(line, "  {:<w$}", HEADERS[k + 2], w = cell_w[k]);
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for (row, cells) in report.rows.iter().zip(&rows) {
        let mut line = format!("{:<res_w$}  {:<type_w$}", row.resource, row.resource_type.as_str());
        for (k, (value, metric)) in cells.iter().enumerate() {
            let cell = format!("{value:>vw$} {metric}", vw = value_w[k]);
            let _ = write!(line, "  {cell:<w$}", w = cell_w[k]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for (i, n) in notes.iter().enumerate() {
        let _ = writeln!(out, "[{}] {n}", i + 1);
    }
    let flagged: Vec<String> = report.flagged().map(|(row, c)| flag_line(&row.resource, c)).collect();
    if flagged.is_empty() {
        let _ = writeln!(out, "no value crossed its threshold");
    } else {
        let _ = writeln!(out, "! {} past threshold:", flagged.len());
        for f in flagged {
            let _ = writeln!(out, "  {f}");
        }
    }
    out
}

/// `cpu utilization 100.0% (cpu.busy) >= 90%`, with the limit resolved for this machine.
fn flag_line(resource: &str, c: &Cell) -> String {
    let unit = c.unit().unwrap_or(plumb_model::Unit::Number);
    let value = c.value.map(|v| format::value(v, unit)).unwrap_or_default();
    let limit = match (c.check.how, c.limit) {
        (How::Measured { threshold: Some(t), .. }, Some(l)) => {
            let rule = threshold_text(&t, unit);
            match t.limit {
                Limit::CpuCount => format!("{rule} ({l})"),
                Limit::Fixed(_) => rule,
            }
        }
        _ => String::new(),
    };
    format!("{resource} {} {value} ({}) {limit}", c.check.kind.as_str(), c.check.metric)
}
