//! Aligned live tables in the style of the sysstat tools.
//!
//! A single one-row group (`plumb stat cpu`) prints a header, then one line per interval, and
//! repeats the header every [`HEADER_EVERY`] lines as vmstat and iostat do on a terminal. Any
//! other choice (several groups, or a group with a row per device) prints a block per group
//! and interval, each under its own header, as `sar -d` does. [`TableWriter::averages`] gives
//! the closing `Average:` lines.

use std::fmt::Write;

use plumb_collect::Group;
use plumb_model::Snapshot;

use crate::layout::{Column, Layout, TagColumn, layout};
use crate::rows::{Row, group_rows, is_multi_row};

/// Lines between repeated headers in single-line mode.
pub const HEADER_EVERY: usize = 20;

const TIME_WIDTH: usize = 8;

/// Renders successive snapshots of the chosen groups as text.
pub struct TableWriter {
    layouts: Vec<Layout>,
    single_line: bool,
    lines_since_header: Option<usize>,
    /// Per group: rows seen so far with the sum of each column and the number of intervals.
    sums: Vec<Vec<RowSum>>,
}

struct RowSum {
    tags: Vec<(&'static str, String)>,
    sums: Vec<Option<f64>>,
    count: usize,
}

impl TableWriter {
    /// A writer for `groups`, in the order given.
    pub fn new(groups: &[Group]) -> Self {
        let layouts: Vec<Layout> = groups.iter().map(|g| layout(*g)).collect();
        let single_line = groups.len() == 1 && !is_multi_row(groups[0]);
        TableWriter {
            sums: layouts.iter().map(|_| Vec::new()).collect(),
            layouts,
            single_line,
            lines_since_header: None,
        }
    }

    /// The text for one interval; `time` labels its lines (`HH:MM:SS`).
    pub fn render(&mut self, snap: &Snapshot, time: &str) -> String {
        let mut out = String::new();
        for gi in 0..self.layouts.len() {
            let lay = self.layouts[gi];
            let rows = group_rows(snap, lay.group);
            self.accumulate(gi, &rows);
            if self.single_line {
                let due = self.lines_since_header.is_none_or(|n| n >= HEADER_EVERY);
                if due {
                    if self.lines_since_header.is_some() {
                        out.push('\n');
                    }
                    header(&mut out, &lay, time);
                    self.lines_since_header = Some(0);
                }
                for row in &rows {
                    line(&mut out, &lay, time, |t| tag_value(row, t), |c| row.get(c.metric));
                }
                self.lines_since_header = self.lines_since_header.map(|n| n + 1);
            } else {
                header(&mut out, &lay, time);
                for row in &rows {
                    line(&mut out, &lay, time, |t| tag_value(row, t), |c| row.get(c.metric));
                }
                out.push('\n');
            }
        }
        out
    }

    /// The `Average:` lines over every interval rendered so far (empty if none).
    pub fn averages(&self) -> String {
        let mut out = String::new();
        let label = "Average:";
        for (lay, sums) in self.layouts.iter().zip(&self.sums) {
            if sums.is_empty() {
                continue;
            }
            if !self.single_line || out.is_empty() {
                header(&mut out, lay, label);
            }
            for rs in sums {
                let tag = |t: &TagColumn| match t.tag {
                    None => "all".to_string(),
                    Some(k) => rs.tags.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone()).unwrap_or_default(),
                };
                line(&mut out, lay, label, tag, |c| {
                    let i = lay.columns.iter().position(|x| x.metric == c.metric)?;
                    rs.sums[i].map(|s| s / rs.count as f64)
                });
            }
            if !self.single_line {
                out.push('\n');
            }
        }
        out
    }

    fn accumulate(&mut self, gi: usize, rows: &[Row<'_>]) {
        let lay = self.layouts[gi];
        for row in rows {
            let tags: Vec<(&'static str, String)> = row.tags.iter().map(|(k, v)| (*k, v.to_string())).collect();
            let sums = &mut self.sums[gi];
            let idx = match sums.iter().position(|s| s.tags == tags) {
                Some(i) => i,
                None => {
                    sums.push(RowSum { tags, sums: vec![None; lay.columns.len()], count: 0 });
                    sums.len() - 1
                }
            };
            let rs = &mut sums[idx];
            rs.count += 1;
            for (slot, col) in rs.sums.iter_mut().zip(lay.columns) {
                if let Some(v) = row.get(col.metric) {
                    *slot = Some(slot.unwrap_or(0.0) + v);
                }
            }
        }
    }
}

fn tag_value(row: &Row<'_>, t: &TagColumn) -> String {
    match t.tag {
        None => "all".to_string(),
        Some(k) => row.tag(k).unwrap_or("-").to_string(),
    }
}

fn width(c: &Column) -> usize {
    c.header.len().max(8)
}

fn header(out: &mut String, lay: &Layout, time: &str) {
    let _ = write!(out, "{time:<TIME_WIDTH$}");
    for t in lay.lead {
        let _ = write!(out, " {:<w$}", t.header, w = t.width);
    }
    for c in lay.columns {
        let _ = write!(out, " {:>w$}", c.header, w = width(c));
    }
    for t in lay.trail {
        let _ = write!(out, " {}", t.header);
    }
    out.push('\n');
}

fn line(
    out: &mut String,
    lay: &Layout,
    time: &str,
    tag: impl Fn(&TagColumn) -> String,
    value: impl Fn(&Column) -> Option<f64>,
) {
    let _ = write!(out, "{time:<TIME_WIDTH$}");
    for t in lay.lead {
        let _ = write!(out, " {:<w$}", tag(t), w = t.width);
    }
    for c in lay.columns {
        match value(c) {
            Some(v) => {
                let _ = write!(out, " {:>w$.d$}", v * c.scale, w = width(c), d = c.decimals);
            }
            None => {
                let _ = write!(out, " {:>w$}", "-", w = width(c));
            }
        }
    }
    for t in lay.trail {
        let _ = write!(out, " {}", tag(t));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Sample;

    fn cpu_snap(user: f64) -> Snapshot {
        Snapshot {
            samples: vec![Sample::new("cpu.user", user), Sample::new("cpu.idle", 100.0 - user)],
            ..Default::default()
        }
    }

    #[test]
    fn single_line_mode_repeats_the_header() {
        let mut w = TableWriter::new(&[Group::Cpu]);
        let mut text = String::new();
        for i in 0..(HEADER_EVERY + 1) {
            text.push_str(&w.render(&cpu_snap(i as f64), "12:00:00"));
        }
        assert_eq!(text.matches("%usr").count(), 2, "{text}");
        let first_row = text.lines().nth(1).unwrap();
        assert!(first_row.starts_with("12:00:00 all"), "{first_row}");
        assert!(first_row.contains("0.00"));
        assert!(first_row.contains(" -"), "missing metrics show a dash: {first_row}");
        let avg = w.averages();
        assert!(avg.contains("Average: all"), "{avg}");
        assert!(avg.contains("10.00"), "mean of 0..=20 is 10: {avg}");
    }

    #[test]
    fn multi_row_groups_print_a_block_per_interval() {
        let mut w = TableWriter::new(&[Group::Disk]);
        let snap = Snapshot {
            samples: vec![
                Sample { name: "disk.reads", tags: vec![("dev", "vda".into()), ("kind", "disk".into())], value: 5.0 },
                Sample {
                    name: "disk.reads",
                    tags: vec![("dev", "vda1".into()), ("kind", "partition".into())],
                    value: 2.0,
                },
            ],
            ..Default::default()
        };
        let a = w.render(&snap, "12:00:01");
        let b = w.render(&snap, "12:00:02");
        assert_eq!(a.matches("Device").count(), 1);
        assert_eq!(b.matches("Device").count(), 1);
        assert!(a.contains("12:00:01 vda1"));
        // columns line up: the header and rows have the same width up to the last column
        let lens: Vec<usize> = a.lines().filter(|l| !l.is_empty()).map(str::len).collect();
        assert!(lens.windows(2).all(|p| p[0] == p[1]), "{a}");
    }
}
