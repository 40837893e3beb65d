//! Heat maps, as Atlas draws the `:heatmap` line style: the plot of an axis is cut into cells,
//! one step wide and one value-tick interval high, each cell counts the heat map values that
//! fall in it, and counts become colours of a palette, lighter for fewer.
//!
//! Design decision: the counting follows Atlas's `Heatmap` class step for step (buckets bounded
//! by the axis ticks, values outside the axis dropped, a percentile line's value spread over the
//! cells its bucket range overlaps in proportion to the overlap, the colour index
//! `floor((count - lower) / (upper - lower) * colours)` on the chosen scale, the last colour for
//! the top), so the same data colours the same cells; cells are drawn over white, so a palette
//! of translucent colours (the default gradient) keeps its shades on any background.

use crate::model::{Chart, ColorScale, Rgba, Style};
use crate::scene::{Rect, Shape};
use crate::ticks::{Tick, ValueScale};

/// Atlas's default heat map palette for a line colour: five steps of opacity (51 to 255) of
/// the colour, lightest first. A colour with its own opacity steps by that opacity instead.
pub fn gradient(color: Rgba) -> Vec<Rgba> {
    let delta = if color.a == 0 || color.a == 255 { 255 / 5 } else { color.a };
    let count = usize::from(255 / delta.max(1));
    let mut colors = vec![color; count];
    let mut alpha = 255u8;
    for slot in colors.iter_mut().rev() {
        slot.a = alpha;
        alpha = alpha.saturating_sub(delta);
    }
    colors
}

/// The counts of one axis's heat map, with the palette and bounds that colour them.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// The value boundaries between cell rows (the axis ticks), lowest first; row `i` spans
    /// from boundary `i - 1` (the axis bottom for row 0) to boundary `i` (the top for the last).
    pub boundaries: Vec<f64>,
    /// `counts[x][row]`: the count of step `x`, row `row`.
    pub counts: Vec<Vec<f64>>,
    /// Cell colours, lightest first.
    pub palette: Vec<Rgba>,
    /// Smallest positive count (0 when there is none).
    pub min_count: f64,
    /// Largest count.
    pub max_count: f64,
    /// Count mapped to the first colour: the explicit lower bound, else `min_count`.
    pub lower: f64,
    /// Count mapped to the last colour: the explicit upper bound, else `max_count`.
    pub upper: f64,
    /// The colour scale.
    pub scale: ColorScale,
}

/// Share of the range `lo..hi` that the cell `cell_lo..cell_hi` covers.
fn overlap(lo: f64, hi: f64, cell_lo: f64, cell_hi: f64) -> f64 {
    if cell_hi < lo || cell_lo > hi || hi <= lo {
        return 0.0;
    }
    (hi.min(cell_hi) - lo.max(cell_lo)) / (hi - lo)
}

fn scaled(scale: ColorScale, v: f64) -> f64 {
    let signed = |f: fn(f64) -> f64| {
        if v > 0.0 {
            f(v)
        } else if v < 0.0 {
            -f(-v)
        } else {
            0.0
        }
    };
    match scale {
        ColorScale::Linear => v,
        ColorScale::Logarithmic => signed(|x| (x + 1.0).log10()),
        ColorScale::Power2 => signed(|x| x * x),
        ColorScale::Sqrt => signed(f64::sqrt),
    }
}

impl Heatmap {
    /// Counts the [`Style::Heatmap`] lines of `axis` on the cells its `scale` and `ticks` make;
    /// `None` when the axis has none.
    pub fn count(chart: &Chart, axis: usize, scale: &ValueScale, ticks: &[Tick]) -> Option<Heatmap> {
        let lines: Vec<_> =
            chart.lines.iter().enumerate().filter(|(_, l)| l.axis == axis && l.style == Style::Heatmap).collect();
        let first = lines.first()?.0;
        let boundaries: Vec<f64> = ticks.iter().map(|t| t.value).collect();
        let range_ms = chart.end_ms.saturating_sub(chart.start_ms).max(0);
        let steps = usize::try_from(range_ms / chart.step_ms.max(1)).unwrap_or(0);
        let rows = boundaries.len() + 1;
        let mut counts = vec![vec![0.0; rows]; steps];
        for (_, line) in &lines {
            for (column, value) in counts.iter_mut().zip(&line.values) {
                if value.is_nan() {
                    continue;
                }
                match line.bucket_range {
                    Some((lo, hi)) if *value > 0.0 => spread(column, &boundaries, scale, lo, hi, *value),
                    Some(_) => {}
                    None => {
                        if let Some(cell) = row_of(&boundaries, scale, *value).and_then(|row| column.get_mut(row)) {
                            *cell += 1.0;
                        }
                    }
                }
            }
        }
        let (mut min, mut max) = (f64::MAX, f64::MIN);
        for v in counts.iter().flatten().copied() {
            if v > 0.0 && v < min {
                min = v;
            }
            max = max.max(v);
        }
        let (min_count, max_count) = if max == f64::MIN { (0.0, 0.0) } else { (min.min(max), max) };
        let options = &chart.heatmap;
        let palette = match &options.palette {
            Some(p) if !p.is_empty() => p.clone(),
            _ => gradient(chart.line_color(first)),
        };
        Some(Heatmap {
            boundaries,
            counts,
            palette,
            min_count,
            max_count,
            lower: options.lower.unwrap_or(min_count),
            upper: options.upper.unwrap_or(max_count),
            scale: options.scale,
        })
    }

    /// The colour of a cell with `count`; `None` for an empty cell.
    pub fn color(&self, count: f64) -> Option<Rgba> {
        if count <= 0.0 || count.is_nan() {
            return None;
        }
        let n = self.palette.len();
        let bounded = count.max(self.lower).min(self.upper.max(self.lower));
        let (lo, hi, v) = (scaled(self.scale, self.lower), scaled(self.scale, self.upper), scaled(self.scale, bounded));
        let index = if hi > lo { ((v - lo) / (hi - lo) * n as f64).floor() } else { 0.0 };
        let index = if index.is_finite() && index > 0.0 { index as usize } else { 0 };
        self.palette.get(index.min(n.saturating_sub(1))).copied()
    }

    /// The cells as rectangles in `plot`: step `x` spans the step ending at its time, as the
    /// lines' datapoints do; rows follow the axis `scale`.
    pub fn shapes(&self, chart: &Chart, scale: &ValueScale, plot: Rect) -> Vec<Shape> {
        let range_ms = chart.end_ms.saturating_sub(chart.start_ms).max(1) as f64;
        let step_px = chart.step_ms as f64 / range_ms * f64::from(plot.w);
        let y = |v: f64| {
            let fraction = scale.fraction(v).unwrap_or(0.0).clamp(0.0, 1.0);
            f64::from(plot.bottom()) - fraction * f64::from(plot.h)
        };
        let mut shapes = Vec::new();
        for (x, column) in self.counts.iter().enumerate() {
            let right = f64::from(plot.x) + x as f64 * step_px;
            let left = (right - step_px).max(f64::from(plot.x));
            let (left, right) = (left.round(), right.round().min(f64::from(plot.right())));
            if right <= left {
                continue;
            }
            for (row, count) in column.iter().enumerate() {
                let Some(color) = self.color(*count) else { continue };
                let bottom = if row == 0 { f64::from(plot.bottom()) } else { self.boundary_y(row - 1, &y) };
                let top = if row >= self.boundaries.len() { f64::from(plot.y) } else { self.boundary_y(row, &y) };
                let (top, bottom) = (top.round(), bottom.round());
                if bottom <= top {
                    continue;
                }
                let rect = Rect { x: left as f32, y: top as f32, w: (right - left) as f32, h: (bottom - top) as f32 };
                shapes.push(Shape::Rect { rect, fill: Rgba::WHITE });
                shapes.push(Shape::Rect { rect, fill: color });
            }
        }
        shapes
    }

    fn boundary_y(&self, index: usize, y: &impl Fn(f64) -> f64) -> f64 {
        self.boundaries.get(index).map_or(0.0, |v| y(*v))
    }

    /// The legend's text for the heat map: its label and the count range the colours span.
    pub fn legend_text(&self, chart: &Chart) -> (String, String) {
        let label = chart.heatmap.label.clone().unwrap_or_else(|| "heatmap".to_string());
        let f = crate::si::format_value;
        let stats = format!("Cells : {} colours for counts {} to {}", self.palette.len(), f(self.lower), f(self.upper));
        (label, stats)
    }
}

/// The row `value` falls in: below the first boundary row 0, and so on; `None` off the axis.
fn row_of(boundaries: &[f64], scale: &ValueScale, value: f64) -> Option<usize> {
    if value < scale.lower || value > scale.upper {
        return None;
    }
    Some(boundaries.iter().position(|b| value < *b).unwrap_or(boundaries.len()))
}

/// Adds `count` to the rows of `column` in proportion to how much of `lo..hi` each covers.
fn spread(column: &mut [f64], boundaries: &[f64], scale: &ValueScale, lo: f64, hi: f64, count: f64) {
    let mut cell_lo = scale.lower;
    for (row, cell) in column.iter_mut().enumerate() {
        let cell_hi = boundaries.get(row).copied().unwrap_or(scale.upper);
        *cell += count * overlap(lo, hi, cell_lo, cell_hi);
        if cell_hi > hi {
            return;
        }
        cell_lo = cell_hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HeatmapOptions, Line};

    fn ticks(values: &[f64]) -> Vec<Tick> {
        values.iter().map(|v| Tick { value: *v, label: v.to_string() }).collect()
    }

    #[test]
    fn gradient_steps_opacity_lightest_first() {
        let g = gradient(Rgba::rgb(1, 2, 3));
        assert_eq!(g.iter().map(|c| c.a).collect::<Vec<_>>(), [51, 102, 153, 204, 255]);
        assert!(g.iter().all(|c| (c.r, c.g, c.b) == (1, 2, 3)));
        assert_eq!(gradient(Rgba { a: 0x80, ..Rgba::BLACK }).len(), 1);
    }

    fn chart(lines: Vec<Line>) -> Chart {
        Chart { start_ms: 0, end_ms: 3 * 60_000, step_ms: 60_000, lines, ..Chart::default() }
    }

    #[test]
    fn values_count_once_in_their_cell_and_colours_follow_counts() {
        let line = |values: &[f64]| Line { values: values.to_vec(), style: Style::Heatmap, ..Line::default() };
        let c = chart(vec![line(&[1.0, 5.0, f64::NAN]), line(&[1.5, 9.0, 20.0]), line(&[3.0, 1.0, 2.0])]);
        let scale = ValueScale { lower: 0.0, upper: 10.0, logarithmic: false };
        let h = Heatmap::count(&c, 0, &scale, &ticks(&[2.0, 4.0, 6.0, 8.0])).unwrap();
        assert_eq!(h.counts[0], [2.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(h.counts[1], [1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(h.counts[2], [0.0, 1.0, 0.0, 0.0, 0.0], "20 is off the axis");
        assert_eq!((h.min_count, h.max_count), (1.0, 2.0));
        assert_eq!(h.palette, gradient(PALETTE_0));
        assert_eq!(h.color(0.0), None);
        assert_eq!(h.color(1.0).map(|c| c.a), Some(51));
        assert_eq!(h.color(2.0).map(|c| c.a), Some(255), "the top count takes the last colour");
        assert!(Heatmap::count(&c, 1, &scale, &[]).is_none());
    }

    const PALETTE_0: Rgba = crate::model::PALETTE[0];

    #[test]
    fn percentile_lines_spread_over_their_bucket_range() {
        let line = Line {
            values: vec![4.0, 0.0, 2.0],
            style: Style::Heatmap,
            bucket_range: Some((1.0, 3.0)),
            ..Line::default()
        };
        let c = chart(vec![line]);
        let scale = ValueScale { lower: 0.0, upper: 4.0, logarithmic: false };
        let h = Heatmap::count(&c, 0, &scale, &ticks(&[2.0])).unwrap();
        assert_eq!(h.counts[0], [2.0, 2.0]);
        assert_eq!(h.counts[1], [0.0, 0.0], "zero spreads nothing");
        assert_eq!(h.counts[2], [1.0, 1.0]);
    }

    #[test]
    fn bounds_and_scales_pick_colours() {
        let line = Line { values: vec![1.0; 3], style: Style::Heatmap, ..Line::default() };
        let palette: Vec<Rgba> = (0..4).map(|i| Rgba::rgb(i, 0, 0)).collect();
        let options = HeatmapOptions {
            palette: Some(palette),
            lower: Some(0.0),
            upper: Some(100.0),
            ..HeatmapOptions::default()
        };
        let c = Chart { heatmap: options, ..chart(vec![line]) };
        let scale = ValueScale { lower: 0.0, upper: 4.0, logarithmic: false };
        let mut h = Heatmap::count(&c, 0, &scale, &ticks(&[2.0])).unwrap();
        assert_eq!(h.color(30.0), Some(Rgba::rgb(1, 0, 0)));
        assert_eq!(h.color(1000.0), Some(Rgba::rgb(3, 0, 0)), "above the bound: the last colour");
        h.scale = ColorScale::Sqrt;
        assert_eq!(h.color(30.0), Some(Rgba::rgb(2, 0, 0)));
        h.scale = ColorScale::Logarithmic;
        assert_eq!(h.color(9.0), Some(Rgba::rgb(1, 0, 0)));
        h.scale = ColorScale::Power2;
        assert_eq!(h.color(60.0), Some(Rgba::rgb(1, 0, 0)));
    }
}
