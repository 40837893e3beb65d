//! Latency heat maps, as in Brendan Gregg's HeatMap: time across (one column per second), latency
//! up (one row per log2 histogram slot), colour for the count of events in each cell, as SVG.
//!
//! Design decision: the kernel keeps one cumulative histogram (iolatency's or runqlat's) and
//! [`record_columns`] turns it into per-second columns by differencing reads, so the heat map costs the
//! kernel nothing beyond the histogram tool itself; [`HeatMap::svg`] is pure string building
//! (no chart library) with one `<rect>` per non-empty cell, each with a tooltip.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// Column width in pixels (narrower for long recordings, at least [`MIN_CELL_WIDTH`]).
const CELL_WIDTH: f64 = 32.0;
const MIN_CELL_WIDTH: f64 = 2.0;
/// The widest the grid gets before columns narrow.
const GRID_WIDTH: f64 = 960.0;
const CELL_HEIGHT: f64 = 18.0;
const LEFT: f64 = 110.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 72.0;
/// The colour scale's bar under the grid.
const LEGEND_WIDTH: f64 = 160.0;
const LEGEND_HEIGHT: f64 = 10.0;
const RIGHT: f64 = 20.0;
/// The narrowest document, so the title fits over a short recording.
const MIN_WIDTH: f64 = 520.0;

/// Per-second histograms ready to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeatMap {
    /// The title line.
    pub title: String,
    /// What the counts are (`I/O`, `wakeups`), for tooltips.
    pub unit: String,
    /// One histogram per second, oldest first; slot `i` of each is row `i`.
    pub columns: Vec<Vec<u64>>,
    /// The label of each slot (its range, e.g. `0.256-0.512 ms`), bottom row first.
    pub row_labels: Vec<String>,
}

/// The colour of a cell holding `count` of at most `max`: white for none, then from pale yellow
/// to dark red as in Gregg's heat maps.
fn colour(count: u64, max: u64) -> String {
    if count == 0 || max == 0 {
        return "rgb(255,255,255)".to_string();
    }
    let t = (count as f64 / max as f64).clamp(0.0, 1.0);
    let channel = |from: f64, to: f64| (from + (to - from) * t).round().clamp(0.0, 255.0) as u8;
    format!("rgb({},{},{})", channel(255.0, 170.0), channel(230.0, 20.0), channel(150.0, 0.0))
}

/// The colour scale at height `y`: a bar shading from one event per cell to `max`, the colour
/// being linear in the count (as [`colour`]), so two gradient stops draw it exactly.
fn legend(svg: &mut String, y: f64, max: u64, unit: &str) {
    let _ = writeln!(
        svg,
        r#"<defs><linearGradient id="heat-scale"><stop offset="0" stop-color="{}"/><stop offset="1" stop-color="{}"/></linearGradient></defs>"#,
        colour(1, max),
        colour(max, max)
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="end">{} per cell: 1</text>"#,
        LEFT - 6.0,
        y + LEGEND_HEIGHT - 1.0,
        escape(unit)
    );
    let _ = writeln!(
        svg,
        r#"<rect class="legend" x="{LEFT}" y="{y}" width="{LEGEND_WIDTH}" height="{LEGEND_HEIGHT}" fill="url(#heat-scale)" stroke="rgb(200,200,200)"/>"#
    );
    let _ = writeln!(svg, r#"<text x="{}" y="{}">{max}</text>"#, LEFT + LEGEND_WIDTH + 6.0, y + LEGEND_HEIGHT - 1.0);
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl HeatMap {
    /// The slots with any count in any column (lowest to highest), or `None` when all are empty.
    fn rows_shown(&self) -> Option<(usize, usize)> {
        let used = |slot: usize| self.columns.iter().any(|c| c.get(slot).copied().unwrap_or(0) > 0);
        let slots = self.columns.iter().map(Vec::len).max().unwrap_or(0);
        let low = (0..slots).find(|s| used(*s))?;
        let high = (0..slots).rev().find(|s| used(*s))?;
        Some((low, high))
    }

    /// The heat map as a standalone SVG document.
    pub fn svg(&self) -> String {
        let (low, high) = self.rows_shown().unwrap_or((0, 0));
        let rows = high - low + 1;
        let columns = self.columns.len().max(1);
        let cell_width = (GRID_WIDTH / columns as f64).clamp(MIN_CELL_WIDTH, CELL_WIDTH);
        let grid_width = cell_width * columns as f64;
        let grid_height = CELL_HEIGHT * rows as f64;
        let (width, height) = ((LEFT + grid_width + RIGHT).max(MIN_WIDTH), TOP + grid_height + BOTTOM);
        let max = self.columns.iter().flatten().copied().max().unwrap_or(0);
        let total: u64 = self.columns.iter().flatten().fold(0u64, |sum, n| sum.saturating_add(*n));

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Verdana, sans-serif" font-size="11">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="rgb(248,248,248)"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
            width / 2.0,
            escape(&self.title)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="38" text-anchor="middle" fill="rgb(90,90,90)">{total} {} in {} s; darkest cell: {max}</text>"#,
            width / 2.0,
            escape(&self.unit),
            self.columns.len()
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{LEFT}" y="{TOP}" width="{grid_width}" height="{grid_height}" fill="white" stroke="rgb(200,200,200)"/>"#
        );
        for (row, slot) in (low..=high).enumerate() {
            let y = TOP + grid_height - CELL_HEIGHT * (row as f64 + 1.0);
            let label = self.row_labels.get(slot).map_or(String::new(), |l| escape(l));
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#,
                LEFT - 6.0,
                y + CELL_HEIGHT * 0.7
            );
            for (second, column) in self.columns.iter().enumerate() {
                let count = column.get(slot).copied().unwrap_or(0);
                if count == 0 {
                    continue;
                }
                let x = LEFT + cell_width * second as f64;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x}" y="{y}" width="{cell_width}" height="{CELL_HEIGHT}" fill="{}" data-count="{count}"><title>{second}-{} s, {label}: {count} {}</title></rect>"#,
                    colour(count, max),
                    second + 1,
                    escape(&self.unit)
                );
            }
        }
        let step = (self.columns.len() / 10).max(1);
        for second in (0..=self.columns.len()).step_by(step) {
            let x = LEFT + cell_width * second as f64;
            let _ =
                writeln!(svg, r#"<text x="{x}" y="{}" text-anchor="middle">{second}</text>"#, TOP + grid_height + 16.0);
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">time (s)</text>"#,
            LEFT + grid_width / 2.0,
            TOP + grid_height + 36.0
        );
        if max > 0 {
            legend(&mut svg, TOP + grid_height + 50.0, max, &self.unit);
        }
        svg.push_str("</svg>\n");
        svg
    }
}

impl HeatMap {
    /// The per-second histogram matrix as JSON: `seconds`, the shown rows' `buckets` (from the
    /// lowest to the highest slot with any count, each `{low_us, high_us}`, `high_us` exclusive
    /// and null for an open last slot, as `bounds_us(slot)` gives them), `counts` (one array
    /// per second, one count per bucket), `total` and `lost`.
    pub fn json(&self, bounds_us: impl Fn(usize) -> (u64, Option<u64>), lost: u64) -> serde_json::Value {
        let slots: Vec<usize> = self.rows_shown().map_or_else(Vec::new, |(low, high)| (low..=high).collect());
        let buckets: Vec<serde_json::Value> = slots
            .iter()
            .map(|slot| {
                let (low, high) = bounds_us(*slot);
                serde_json::json!({"low_us": low, "high_us": high})
            })
            .collect();
        let counts: Vec<Vec<u64>> =
            self.columns.iter().map(|c| slots.iter().map(|s| c.get(*s).copied().unwrap_or(0)).collect()).collect();
        let total = self.columns.iter().flatten().fold(0u64, |sum, n| sum.saturating_add(*n));
        serde_json::json!({
            "title": self.title,
            "unit": self.unit,
            "seconds": self.columns.len(),
            "buckets": buckets,
            "counts": counts,
            "total": total,
            "lost": lost,
        })
    }
}

/// Reads the cumulative histogram `read` once a second for `seconds` seconds (or until `stop`,
/// keeping the second under way) and returns each second's counts, the differences of reads.
pub fn record_columns(
    mut read: impl FnMut() -> Result<Vec<u64>, Error>,
    seconds: u64,
    stop: &AtomicBool,
) -> Result<Vec<Vec<u64>>, Error> {
    let mut previous = read()?;
    let mut columns = Vec::new();
    let start = Instant::now();
    for second in 1..=seconds {
        let end = start + Duration::from_secs(second);
        while Instant::now() < end && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10).min(end.saturating_duration_since(Instant::now())));
        }
        let now = read()?;
        columns.push(
            now.iter().enumerate().map(|(i, n)| n.saturating_sub(previous.get(i).copied().unwrap_or(0))).collect(),
        );
        previous = now;
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample() -> HeatMap {
        HeatMap {
            title: "Block I/O latency <vda>".to_string(),
            unit: "I/O".to_string(),
            columns: vec![vec![0, 0, 4, 1], vec![0, 0, 0, 8], vec![0, 0, 2, 0]],
            row_labels: (0..4).map(|i| format!("slot {i}")).collect(),
        }
    }

    #[test]
    fn draws_one_cell_per_nonempty_count_with_its_tooltip() {
        let svg = sample().svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("data-count=").count(), 4);
        assert!(svg.contains(r#"fill="rgb(170,20,0)" data-count="8"><title>1-2 s, slot 3: 8 I/O</title>"#), "{svg}");
        assert!(svg.contains("Block I/O latency &lt;vda&gt;"));
        assert!(svg.contains("15 I/O in 3 s; darkest cell: 8"));
        assert!(svg.contains(r#"<stop offset="1" stop-color="rgb(170,20,0)"/>"#), "legend's dark end");
        assert!(svg.contains(&format!(r#"<stop offset="0" stop-color="{}"/>"#, colour(1, 8))), "legend's pale end");
        assert!(svg.contains("I/O per cell: 1</text>") && svg.contains(">8</text>"), "legend's labels");
        // Rows shown: slots 2 and 3 only.
        assert!(svg.contains(">slot 2<") && svg.contains(">slot 3<") && !svg.contains(">slot 1<"));
    }

    #[test]
    fn an_empty_recording_still_draws_a_frame() {
        let svg = HeatMap { columns: vec![vec![0; 4]; 2], ..sample() }.svg();
        assert_eq!(svg.matches("data-count=").count(), 0);
        assert!(svg.contains("0 I/O in 2 s"));
        assert!(!svg.contains("class=\"legend\""), "a legend for nothing");
    }

    #[test]
    fn json_is_the_matrix_of_shown_rows_per_second() {
        let bounds = |slot: usize| (10 * slot as u64, (slot < 3).then_some(10 * slot as u64 + 10));
        let j = sample().json(bounds, 2);
        assert_eq!(
            j,
            serde_json::json!({
                "title": "Block I/O latency <vda>",
                "unit": "I/O",
                "seconds": 3,
                "buckets": [{"low_us": 20, "high_us": 30}, {"low_us": 30, "high_us": null}],
                "counts": [[4, 1], [0, 8], [2, 0]],
                "total": 15,
                "lost": 2,
            })
        );
        let empty = HeatMap { columns: vec![vec![0; 4]], ..sample() }.json(bounds, 0);
        assert_eq!(empty["buckets"], serde_json::json!([]));
        assert_eq!(empty["counts"], serde_json::json!([[]]));
    }

    #[test]
    fn colours_run_from_white_to_dark_red() {
        assert_eq!(colour(0, 10), "rgb(255,255,255)");
        assert_eq!(colour(10, 10), "rgb(170,20,0)");
        assert_eq!(colour(1, 0), "rgb(255,255,255)");
    }

    #[test]
    fn recording_differences_the_reads_and_stops_at_the_flag() {
        let reads = [vec![1, 1], vec![3, 1], vec![3, 6]];
        let mut next = reads.iter().cloned();
        let stop = AtomicBool::new(true);
        let columns = record_columns(|| Ok(next.next().unwrap_or_default()), 5, &stop).unwrap();
        assert_eq!(columns, vec![vec![2, 0]]);
    }

    proptest! {
        #[test]
        fn every_nonzero_count_becomes_one_cell(
            columns in proptest::collection::vec(proptest::collection::vec(0u64..5, 6), 0..8)
        ) {
            let cells = columns.iter().flatten().filter(|n| **n > 0).count();
            let map = HeatMap { columns, ..sample() };
            prop_assert_eq!(map.svg().matches("data-count=").count(), cells);
            let j = map.json(|slot| (slot as u64, Some(slot as u64 + 1)), 0);
            let summed: u64 = j["counts"].as_array().unwrap().iter().flat_map(|c| c.as_array().unwrap().iter()).map(|n| n.as_u64().unwrap()).sum();
            prop_assert_eq!(Some(summed), j["total"].as_u64());
        }
    }
}
