//! The data inside the plot: stacking, per-axis value ranges, summary statistics, and the
//! shapes of lines, areas, stacks and spans.
//!
//! Design decision: stacking is resolved once into [`Series`] (each point a base and a value)
//! before anything else, so the axis range sees the stacked heights exactly as they are drawn,
//! and the drawing code treats an area as a stack whose base is always zero.

use crate::model::{Chart, Style};
use crate::scene::{Rect, Shape};
use crate::ticks::ValueScale;

/// One line, resolved: its color and, per datapoint, its base and value (`None` is a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Index of the line in the chart.
    pub line: usize,
    /// Its Y axis.
    pub axis: usize,
    /// How it is drawn.
    pub style: Style,
    /// Its resolved color.
    pub color: crate::model::Rgba,
    /// Stroke width.
    pub width: f32,
    /// Per datapoint `(base, value)`; the base is 0 for areas, the sum below for stacks, and
    /// unused for lines and spans.
    pub points: Vec<Option<(f64, f64)>>,
    /// The bucket range of a percentile heat map line (see [`crate::model::Line::bucket_range`]).
    pub bucket_range: Option<(f64, f64)>,
}

/// The lines of `chart` with stacks piled up per axis: positive values on the positive sum of
/// the stacks before, negative ones on the negative sum.
pub fn resolve_series(chart: &Chart) -> Vec<Series> {
    let mut positive: Vec<Vec<f64>> = vec![Vec::new(); crate::model::MAX_AXES];
    let mut negative: Vec<Vec<f64>> = vec![Vec::new(); crate::model::MAX_AXES];
    let mut series = Vec::with_capacity(chart.lines.len());
    let colors = chart.line_colors();
    for (index, line) in chart.lines.iter().enumerate() {
        let points = match line.style {
            Style::Stack => {
                let (Some(pos), Some(neg)) = (positive.get_mut(line.axis), negative.get_mut(line.axis)) else {
                    continue;
                };
                if pos.len() < line.values.len() {
                    pos.resize(line.values.len(), 0.0);
                    neg.resize(line.values.len(), 0.0);
                }
                line.values
                    .iter()
                    .zip(pos.iter_mut().zip(neg.iter_mut()))
                    .map(|(value, (pos, neg))| {
                        if !value.is_finite() {
                            return None;
                        }
                        let sum = if *value >= 0.0 { pos } else { neg };
                        let base = *sum;
                        let top = base + value;
                        if !top.is_finite() {
                            return None;
                        }
                        *sum = top;
                        Some((base, top))
                    })
                    .collect()
            }
            _ => line.values.iter().map(|v| v.is_finite().then_some((0.0, *v))).collect(),
        };
        series.push(Series {
            line: index,
            axis: line.axis,
            style: line.style,
            color: colors.get(index).copied().unwrap_or(crate::model::Rgba::BLACK),
            width: if line.line_width.is_finite() { line.line_width.clamp(0.1, 50.0) } else { 1.0 },
            points,
            bucket_range: if line.style == Style::Heatmap { line.bucket_range } else { None },
        });
    }
    series
}

/// The lowest and highest value drawn on `axis` (bases of filled styles included; spans left
/// out; a percentile heat map line with a non-zero value counts its bucket range instead of its
/// values, as Atlas), or `None` when it has nothing finite; only positive values count on a log
/// axis.
pub fn data_range(series: &[Series], axis: usize, logarithmic: bool) -> Option<(f64, f64)> {
    let mut range: Option<(f64, f64)> = None;
    let mut include = |v: f64| {
        if v.is_finite() && (!logarithmic || v > 0.0) {
            range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
        }
    };
    for s in series.iter().filter(|s| s.axis == axis && s.style != Style::VSpan) {
        if let Some((lo, hi)) = s.bucket_range {
            if s.points.iter().flatten().any(|(_, v)| *v != 0.0) {
                include(lo);
                include(hi);
            }
            continue;
        }
        for (base, value) in s.points.iter().flatten() {
            include(*value);
            if matches!(s.style, Style::Area | Style::Stack) {
                include(*base);
            }
        }
    }
    range
}

/// The summary Atlas shows under a legend entry, over the finite values of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Largest value, NaN if none.
    pub max: f64,
    /// Smallest value, NaN if none.
    pub min: f64,
    /// Mean of the finite values, NaN if none.
    pub avg: f64,
    /// The last finite value, NaN if none.
    pub last: f64,
}

impl Stats {
    /// The statistics of `values`, skipping NaN and infinities.
    pub fn of(values: &[f64]) -> Stats {
        let (mut max, mut min, mut sum, mut count, mut last) = (f64::NAN, f64::NAN, 0.0, 0usize, f64::NAN);
        for value in values.iter().copied().filter(|v| v.is_finite()) {
            max = if max.is_nan() { value } else { max.max(value) };
            min = if min.is_nan() { value } else { min.min(value) };
            sum += value;
            count += 1;
            last = value;
        }
        let avg = if count == 0 { f64::NAN } else { sum / count as f64 };
        Stats { max, min, avg, last }
    }

    /// The legend row: `Max : 1.5k  Min : 0  Avg : 700  Last : 1.2k`.
    pub fn text(&self) -> String {
        use crate::si::format_value as f;
        format!("Max : {}  Min : {}  Avg : {}  Last : {}", f(self.max), f(self.min), f(self.avg), f(self.last))
    }
}

/// Converts datapoint indexes and values to pixels inside the plot.
struct Mapper<'a> {
    plot: Rect,
    scale: &'a ValueScale,
    /// Pixels per datapoint step.
    step_px: f64,
    /// Datapoints worth drawing: those up to one step past the end.
    count: usize,
}

impl Mapper<'_> {
    fn x(&self, index: usize) -> f32 {
        (f64::from(self.plot.x) + index as f64 * self.step_px) as f32
    }

    fn y(&self, value: f64) -> Option<f32> {
        let fraction = self.scale.fraction(value)?;
        Some((f64::from(self.plot.bottom()) - fraction * f64::from(self.plot.h)) as f32)
    }

    /// y of a filled shape's base; on a log axis a base at or below zero is the bottom edge.
    fn base_y(&self, base: f64) -> f32 {
        self.y(base).unwrap_or_else(|| self.plot.bottom())
    }
}

/// The shapes of every series, in line order, for the scales of their axes.
pub fn series_shapes(chart: &Chart, series: &[Series], scales: &[ValueScale], plot: Rect) -> Vec<Shape> {
    let range_ms = chart.end_ms.saturating_sub(chart.start_ms).max(1) as f64;
    let step_px = chart.step_ms as f64 / range_ms * f64::from(plot.w);
    let steps_in_range = (range_ms / chart.step_ms as f64).ceil();
    let mut shapes = Vec::new();
    for s in series {
        let Some(scale) = scales.get(s.axis) else { continue };
        let count = s.points.len().min(steps_in_range as usize + 2);
        let mapper = Mapper { plot, scale, step_px, count };
        match s.style {
            Style::Line => line_shapes(s, &mapper, &mut shapes),
            Style::Area | Style::Stack => fill_shapes(s, &mapper, &mut shapes),
            Style::VSpan => span_shapes(s, &mapper, &mut shapes),
            Style::Heatmap => {}
        }
    }
    shapes
}

/// The runs of consecutive indexes below `count` for which `keep` holds, as `start..end`.
fn runs(count: usize, keep: impl Fn(usize) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for i in 0..count {
        match (keep(i), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..count);
    }
    runs
}

fn line_shapes(s: &Series, m: &Mapper<'_>, shapes: &mut Vec<Shape>) {
    let y_at = |i: usize| s.points.get(i).copied().flatten().and_then(|(_, v)| m.y(v));
    let mut polylines = Vec::new();
    for run in runs(m.count, |i| y_at(i).is_some()) {
        let mut points: Vec<(f32, f32)> = run.clone().filter_map(|i| Some((m.x(i), y_at(i)?))).collect();
        // A lone datapoint between gaps is drawn across its step, else it would not show.
        if let [(_, y)] = points[..] {
            points.push((m.x(run.start + 1), y));
        }
        polylines.push(decimate(points));
    }
    if !polylines.is_empty() {
        shapes.push(Shape::Stroke { runs: polylines, color: s.color, width: s.width });
    }
}

fn fill_shapes(s: &Series, m: &Mapper<'_>, shapes: &mut Vec<Shape>) {
    let edges = |i: usize| {
        let (base, value) = s.points.get(i).copied().flatten()?;
        Some((m.y(value).unwrap_or_else(|| m.base_y(value)), m.base_y(base)))
    };
    let mut polygons = Vec::new();
    for run in runs(m.count, |i| edges(i).is_some()) {
        let mut top: Vec<(f32, f32)> = Vec::with_capacity(run.len() * 2 + 2);
        let mut bottom: Vec<(f32, f32)> = Vec::with_capacity(run.len() + 1);
        for i in run.clone() {
            if let Some((value_y, base_y)) = edges(i) {
                top.push((m.x(i), value_y));
                bottom.push((m.x(i), base_y));
            }
        }
        if let ([(_, value_y)], [(_, base_y)]) = (&top[..], &bottom[..]) {
            let (value_y, base_y, x) = (*value_y, *base_y, m.x(run.start + 1));
            top.push((x, value_y));
            bottom.push((x, base_y));
        }
        let mut polygon = decimate(top);
        polygon.extend(decimate(bottom).into_iter().rev());
        polygons.push(polygon);
    }
    if !polygons.is_empty() {
        shapes.push(Shape::Fill { polygons, color: s.color });
    }
}

/// A polyline (x increasing) thinned to at most four vertices per pixel column: the first,
/// the highest, the lowest and the last (the M4 method), which draws the same pixels while
/// keeping a chart of 100,000-point lines as small as one of the plot's width.
fn decimate(points: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    if points.len() <= 4 {
        return points;
    }
    let mut out = Vec::with_capacity(points.len().min(4096));
    let mut column: Vec<(f32, f32)> = Vec::new();
    let flush = |column: &mut Vec<(f32, f32)>, out: &mut Vec<(f32, f32)>| {
        if column.len() <= 4 {
            out.append(column);
            return;
        }
        let by_y = |a: &&(f32, f32), b: &&(f32, f32)| a.1.total_cmp(&b.1);
        let (Some(first), Some(last)) = (column.first().copied(), column.last().copied()) else { return };
        let top = column.iter().min_by(by_y).copied().unwrap_or(first);
        let bottom = column.iter().max_by(by_y).copied().unwrap_or(first);
        let mut keep = [first, top, bottom, last];
        keep.sort_by(|a, b| a.0.total_cmp(&b.0));
        for point in keep {
            if out.last() != Some(&point) {
                out.push(point);
            }
        }
        column.clear();
    };
    for point in points {
        if column.first().is_some_and(|first| first.0.floor() != point.0.floor()) {
            flush(&mut column, &mut out);
        }
        column.push(point);
    }
    flush(&mut column, &mut out);
    out
}

fn span_shapes(s: &Series, m: &Mapper<'_>, shapes: &mut Vec<Shape>) {
    let on = |i: usize| s.points.get(i).copied().flatten().is_some_and(|(_, v)| v != 0.0);
    for run in runs(m.count, on) {
        // Spans sit on whole pixels, at least one wide, like every rectangle of the scene.
        let left = m.x(run.start).round();
        let right = m.x(run.end).round().max(left + 1.0);
        let rect = Rect { x: left, y: m.plot.y, w: right - left, h: m.plot.h };
        shapes.push(Shape::Rect { rect, fill: s.color });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Line;

    fn chart(lines: Vec<Line>) -> Chart {
        Chart { start_ms: 0, end_ms: 4 * 60_000, step_ms: 60_000, lines, ..Chart::default() }
    }

    fn line(values: &[f64], style: Style) -> Line {
        Line { values: values.to_vec(), style, ..Line::default() }
    }

    #[test]
    fn stacks_pile_positive_and_negative_values_apart() {
        let c = chart(vec![
            line(&[1.0, -1.0, 2.0], Style::Stack),
            line(&[5.0, 5.0, 5.0], Style::Line),
            line(&[3.0, -2.0, f64::NAN], Style::Stack),
        ]);
        let series = resolve_series(&c);
        assert_eq!(series[2].points, [Some((1.0, 4.0)), Some((-1.0, -3.0)), None]);
        assert_eq!(data_range(&series, 0, false), Some((-3.0, 5.0)));
        assert_eq!(data_range(&series, 1, false), None);
    }

    #[test]
    fn stats_skip_gaps() {
        let stats = Stats::of(&[f64::NAN, 1.0, 3000.0, f64::INFINITY, 2.0, f64::NAN]);
        assert_eq!(stats, Stats { max: 3000.0, min: 1.0, avg: 1001.0, last: 2.0 });
        assert_eq!(stats.text(), "Max : 3.0k  Min : 1.0  Avg : 1.0k  Last : 2.0");
        assert_eq!(Stats::of(&[]).text(), "Max : NaN  Min : NaN  Avg : NaN  Last : NaN");
    }

    #[test]
    fn gaps_split_lines_and_spans_cover_their_steps() {
        let c =
            chart(vec![line(&[1.0, 2.0, f64::NAN, 4.0, 0.0], Style::Line), line(&[0.0, 1.0, 1.0, 0.0], Style::VSpan)]);
        let series = resolve_series(&c);
        let scale = ValueScale::new(Some((0.0, 4.0)), None, None, false);
        let plot = Rect { x: 10.0, y: 0.0, w: 400.0, h: 100.0 };
        let shapes = series_shapes(&c, &series, &[scale], plot);
        let red = c.line_color(0);
        let green = c.line_color(1);
        assert_eq!(
            shapes,
            [
                Shape::Stroke {
                    runs: vec![vec![(10.0, 75.0), (110.0, 50.0)], vec![(310.0, 0.0), (410.0, 100.0)]],
                    color: red,
                    width: 1.0
                },
                Shape::Rect { rect: Rect { x: 110.0, y: 0.0, w: 200.0, h: 100.0 }, fill: green },
            ]
        );
    }

    #[test]
    fn decimation_keeps_each_columns_extremes_in_order() {
        let points: Vec<(f32, f32)> = (0..10).map(|i| (10.0 + i as f32 * 0.1, [5.0, 1.0, 9.0][i % 3])).collect();
        assert_eq!(decimate(points), [(10.0, 5.0), (10.1, 1.0), (10.8, 9.0), (10.9, 5.0)]);
        let short = vec![(0.0, 1.0), (0.5, 2.0), (3.0, 3.0)];
        assert_eq!(decimate(short.clone()), short);
        let long: Vec<(f32, f32)> = (0..100_000).map(|i| (i as f32 / 1000.0, (i % 7) as f32)).collect();
        assert!(decimate(long).len() <= 4 * 100);
    }

    #[test]
    fn a_lone_area_point_fills_its_step() {
        let c = chart(vec![line(&[f64::NAN, 2.0, f64::NAN], Style::Area)]);
        let series = resolve_series(&c);
        let scale = ValueScale::new(Some((0.0, 4.0)), None, None, false);
        let plot = Rect { x: 0.0, y: 0.0, w: 400.0, h: 100.0 };
        let shapes = series_shapes(&c, &series, &[scale], plot);
        let expected = vec![(100.0, 50.0), (200.0, 50.0), (200.0, 100.0), (100.0, 100.0)];
        assert_eq!(shapes, [Shape::Fill { polygons: vec![expected], color: c.line_color(0) }]);
    }
}
