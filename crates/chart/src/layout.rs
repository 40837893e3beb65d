//! Layout: where the plot, axes, ticks, title and legend go, and the scene drawn from it.
//!
//! Design decision: as Atlas's default `canvas` layout mode, the chart's width and height are the
//! plot's, and everything else grows the image around it: axes to the left and right, the title
//! above, the time axis and legend below. The left axis has a minimum width so the plots of
//! graphs stacked in a column line up, as Atlas's layout goals ask.

use crate::error::ChartError;
use crate::font::{fit, text_width};
use crate::heatmap::Heatmap;
use crate::model::{Chart, MAX_AXES, Rgba, Style};
use crate::plot::{Series, Stats, data_range, resolve_series, series_shapes};
use crate::scene::{Anchor, Rect, Scene, Shape};
use crate::ticks::{Tick, TimeTick, ValueScale, time_ticks};

/// Margin around the whole image, in pixels.
const PAD: f32 = 8.0;
/// Font size of the title, pixels per em.
pub const TITLE_SIZE: f32 = 14.0;
/// Font size of every other text, pixels per em.
pub const TEXT_SIZE: f32 = 11.0;
/// Height of one row of text.
pub const ROW: f32 = 15.0;
/// Height of the title row.
const TITLE_ROW: f32 = 22.0;
/// Length of a tick mark.
const TICK_LEN: f32 = 4.0;
/// Space between a tick mark and its label.
const TICK_GAP: f32 = 3.0;
/// Narrowest left axis, so plots of graphs in a column align.
const MIN_LEFT_AXIS: f32 = 48.0;
/// Room right of the plot when there is no right axis, for the last time label.
const MIN_RIGHT_MARGIN: f32 = 20.0;
/// Side of a legend color swatch.
const SWATCH: f32 = 10.0;
/// Space between the time axis and the legend.
const LEGEND_GAP: f32 = 8.0;
/// Most legend entries drawn; the rest are counted in one closing row.
pub const MAX_LEGEND_ENTRIES: usize = 64;

const TEXT_COLOR: Rgba = Rgba::BLACK;
const STATS_COLOR: Rgba = Rgba::rgb(0x44, 0x44, 0x44);
const GRID_COLOR: Rgba = Rgba::rgb(0xdd, 0xdd, 0xdd);
const MESSAGE_COLOR: Rgba = Rgba::rgb(0x88, 0x88, 0x88);

/// One Y axis placed beside the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisLayout {
    /// Axis index, 0 on the left.
    pub index: usize,
    /// Its value mapping.
    pub scale: ValueScale,
    /// Its ticks and labels.
    pub ticks: Vec<Tick>,
    /// Its label, if any.
    pub label: Option<String>,
    /// Color of its line, ticks and labels: the first line's on that axis when several axes
    /// are shown, else black.
    pub color: Rgba,
    /// x of the axis line.
    pub x: f32,
    /// Horizontal room it takes.
    pub width: f32,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// Swatch color.
    pub color: Rgba,
    /// Label, cut to fit the image.
    pub label: String,
    /// The statistics row, when shown.
    pub stats: Option<String>,
    /// y of the entry's top.
    pub top: f32,
}

/// Everything placed, computed once for both outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// The plot area.
    pub plot: Rect,
    /// The title, cut to fit.
    pub title: Option<String>,
    /// The Y axes shown: axis 0 always, the others when a line uses them.
    pub axes: Vec<AxisLayout>,
    /// Ticks of the time axis.
    pub time_ticks: Vec<TimeTick>,
    /// Legend entries drawn.
    pub legend: Vec<LegendEntry>,
    /// Lines left out of the legend for room.
    pub legend_hidden: usize,
    /// y of the row counting the hidden lines.
    pub legend_hidden_top: f32,
    /// The lines, resolved and stacked.
    pub series: Vec<Series>,
    /// The heat map of each axis that has one, by axis index.
    pub heatmaps: Vec<(usize, Heatmap)>,
}

/// Lays `chart` out; `chart` must have passed [`Chart::validate`].
pub fn layout(chart: &Chart) -> Layout {
    let series = resolve_series(chart);
    let plot_w = chart.width as f32;
    let plot_h = chart.height as f32;
    let used: Vec<usize> =
        (0..MAX_AXES).filter(|axis| *axis == 0 || chart.lines.iter().any(|line| line.axis == *axis)).collect();
    let multi = used.len() > 1;
    let mut axes: Vec<AxisLayout> = used
        .iter()
        .map(|&index| {
            let settings = chart.axis(index);
            let data = data_range(&series, index, settings.logarithmic);
            let scale = ValueScale::new(data, settings.lower, settings.upper, settings.logarithmic);
            let ticks = scale.ticks(f64::from(plot_h));
            let labels_w = ticks.iter().map(|t| text_width(&t.label, TEXT_SIZE)).fold(0.0, f32::max);
            let label = settings.label.filter(|l| !l.is_empty()).map(|l| fit(&l, TEXT_SIZE, plot_h));
            let mut width = TICK_LEN + TICK_GAP + labels_w + if label.is_some() { ROW + 2.0 } else { 0.0 };
            if index == 0 {
                width = width.max(MIN_LEFT_AXIS);
            }
            let first_line = series.iter().find(|s| s.axis == index).map(|s| s.color);
            let color = if multi { first_line.unwrap_or(TEXT_COLOR) } else { TEXT_COLOR };
            AxisLayout { index, scale, ticks, label, color, x: 0.0, width: width.ceil() }
        })
        .collect();

    let left_w = axes.first().map_or(MIN_LEFT_AXIS, |a| a.width);
    let top = PAD + if chart.title.is_some() { TITLE_ROW } else { 0.0 };
    let plot = Rect { x: (PAD + left_w).ceil(), y: top, w: plot_w, h: plot_h };
    let mut right_x = plot.right();
    for axis in &mut axes {
        if axis.index == 0 {
            axis.x = plot.x - 1.0;
        } else {
            axis.x = right_x;
            right_x += axis.width;
        }
    }
    let right_w = (right_x - plot.right()).max(MIN_RIGHT_MARGIN - PAD) + PAD;
    let width = (plot.right() + right_w).ceil();
    let title = chart.title.as_deref().map(|t| fit(t, TITLE_SIZE, width - 2.0 * PAD));

    let heatmaps: Vec<(usize, Heatmap)> =
        axes.iter().filter_map(|a| Heatmap::count(chart, a.index, &a.scale, &a.ticks).map(|h| (a.index, h))).collect();
    let time_axis_bottom = plot.bottom() + TICK_LEN + TICK_GAP + ROW;
    let mut legend = Vec::new();
    let mut bottom = time_axis_bottom;
    let mut legend_hidden = 0;
    let mut legend_hidden_top = 0.0;
    if chart.show_legend && !chart.lines.is_empty() {
        bottom += LEGEND_GAP;
        let label_room = width - plot.x - SWATCH - 5.0 - PAD;
        // Heat map lines are not listed; each heat map has one entry, in its darkest colour.
        let listed: Vec<usize> =
            (0..chart.lines.len()).filter(|i| chart.lines.get(*i).is_some_and(|l| l.style != Style::Heatmap)).collect();
        let mut entries: Vec<(Rgba, String, String)> = heatmaps
            .iter()
            .map(|(_, h)| {
                let (label, stats) = h.legend_text(chart);
                (h.palette.last().copied().unwrap_or(Rgba::BLACK), label, stats)
            })
            .collect();
        let colors = chart.line_colors();
        entries.extend(listed.iter().filter_map(|&index| {
            let line = chart.lines.get(index)?;
            let color = colors.get(index).copied().unwrap_or(Rgba::BLACK);
            Some((color, line.label.clone(), Stats::of(&line.values).text()))
        }));
        legend_hidden = entries.len().saturating_sub(MAX_LEGEND_ENTRIES);
        for (color, label, stats) in entries.into_iter().take(MAX_LEGEND_ENTRIES) {
            let stats = chart.show_stats.then(|| fit(&stats, TEXT_SIZE, label_room));
            let label = fit(&label, TEXT_SIZE, label_room);
            legend.push(LegendEntry { color, label, stats, top: bottom });
            bottom += if chart.show_stats { 2.0 * ROW } else { ROW };
        }
        if legend_hidden > 0 {
            legend_hidden_top = bottom;
            bottom += ROW;
        }
    }
    let height = (bottom + PAD).ceil();
    let time_ticks = time_ticks(chart.start_ms, chart.end_ms, f64::from(plot_w), &chart.time_zone);
    Layout {
        width: width as u32,
        height: height as u32,
        plot,
        title,
        axes,
        time_ticks,
        legend,
        legend_hidden,
        legend_hidden_top,
        series,
        heatmaps,
    }
}

/// Validates `chart`, lays it out and lists the shapes to draw.
pub fn scene(chart: &Chart) -> Result<Scene, ChartError> {
    chart.validate()?;
    let layout = layout(chart);
    let plot = layout.plot;
    let mut under = Vec::new();
    let mut over = Vec::new();
    let time_x = |ms: i64| {
        let range = chart.end_ms.saturating_sub(chart.start_ms).max(1) as f64;
        (f64::from(plot.x) + (ms.saturating_sub(chart.start_ms)) as f64 / range * f64::from(plot.w)).round() as f32
    };
    let value_y = |scale: &ValueScale, value: f64| {
        let fraction = scale.fraction(value).unwrap_or(0.0) as f32;
        (plot.bottom() - fraction * plot.h).round().clamp(plot.y, plot.bottom())
    };

    for tick in &layout.time_ticks {
        let x = time_x(tick.ms).min(plot.right() - 1.0);
        under.push(rect(x, plot.y, 1.0, plot.h, GRID_COLOR));
        over.push(rect(x, plot.bottom(), 1.0, TICK_LEN, TEXT_COLOR));
        let baseline = plot.bottom() + TICK_LEN + TICK_GAP + TEXT_SIZE;
        over.push(text(x + 0.5, baseline, &tick.label, TEXT_SIZE, TEXT_COLOR, Anchor::Middle));
    }
    over.push(rect(plot.x - 1.0, plot.bottom(), plot.w + 1.0, 1.0, TEXT_COLOR));

    for axis in &layout.axes {
        let left = axis.index == 0;
        over.push(rect(axis.x, plot.y, 1.0, plot.h + 1.0, axis.color));
        for tick in &axis.ticks {
            let y = value_y(&axis.scale, tick.value);
            if left {
                under.push(rect(plot.x, y, plot.w, 1.0, GRID_COLOR));
            }
            let (mark_x, label_x, anchor) = if left {
                (axis.x - TICK_LEN, axis.x - TICK_LEN - TICK_GAP, Anchor::End)
            } else {
                (axis.x + 1.0, axis.x + 1.0 + TICK_LEN + TICK_GAP, Anchor::Start)
            };
            over.push(rect(mark_x, y, TICK_LEN, 1.0, axis.color));
            over.push(text(label_x, y + 0.5 + TEXT_SIZE * 0.36, &tick.label, TEXT_SIZE, axis.color, anchor));
        }
        if let Some(label) = &axis.label {
            let baseline_x = if left { PAD + TEXT_SIZE } else { axis.x + axis.width - 4.0 };
            let mut label = text(baseline_x, plot.y + plot.h / 2.0, label, TEXT_SIZE, axis.color, Anchor::Middle);
            if let Shape::Text { vertical, .. } = &mut label {
                *vertical = true;
            }
            over.push(label);
        }
    }

    if let Some(title) = &layout.title {
        let baseline = PAD + TITLE_SIZE;
        over.push(text(layout.width as f32 / 2.0, baseline, title, TITLE_SIZE, TEXT_COLOR, Anchor::Middle));
    }
    if chart.lines.is_empty() {
        let (x, y) = (plot.x + plot.w / 2.0, plot.y + plot.h / 2.0 + TITLE_SIZE * 0.36);
        over.push(text(x, y, "No data", TITLE_SIZE, MESSAGE_COLOR, Anchor::Middle));
    }
    legend_shapes(&layout, &mut over);

    let scales: Vec<ValueScale> = (0..MAX_AXES)
        .map(|index| {
            let axis = layout.axes.iter().find(|a| a.index == index);
            axis.map_or(ValueScale::new(None, None, None, false), |a| a.scale)
        })
        .collect();
    let mut data = Vec::new();
    for (axis, heatmap) in &layout.heatmaps {
        if let Some(scale) = scales.get(*axis) {
            data.extend(heatmap.shapes(chart, scale, plot));
        }
    }
    data.extend(series_shapes(chart, &layout.series, &scales, plot));
    Ok(Scene { width: layout.width, height: layout.height, background: Rgba::WHITE, plot, under, data, over })
}

fn legend_shapes(layout: &Layout, over: &mut Vec<Shape>) {
    let x = layout.plot.x;
    let text_x = x + SWATCH + 5.0;
    for entry in &layout.legend {
        over.push(rect(x, entry.top + (ROW - SWATCH) / 2.0, SWATCH, SWATCH, entry.color));
        over.push(text(text_x, entry.top + ROW - 4.0, &entry.label, TEXT_SIZE, TEXT_COLOR, Anchor::Start));
        if let Some(stats) = &entry.stats {
            over.push(text(text_x, entry.top + 2.0 * ROW - 4.0, stats, TEXT_SIZE, STATS_COLOR, Anchor::Start));
        }
    }
    if layout.legend_hidden > 0 {
        let message = format!("… and {} more lines", layout.legend_hidden);
        over.push(text(text_x, layout.legend_hidden_top + ROW - 4.0, &message, TEXT_SIZE, STATS_COLOR, Anchor::Start));
    }
}

/// A rectangle snapped to whole pixels, so it is drawn crisp and never thinner than a pixel.
fn rect(x: f32, y: f32, w: f32, h: f32, fill: Rgba) -> Shape {
    let (left, top) = (x.round(), y.round());
    let (right, bottom) = ((x + w).round().max(left + 1.0), (y + h).round().max(top + 1.0));
    Shape::Rect { rect: Rect { x: left, y: top, w: right - left, h: bottom - top }, fill }
}

fn text(x: f32, y: f32, text: &str, size: f32, color: Rgba, anchor: Anchor) -> Shape {
    Shape::Text { x, y, text: text.to_owned(), size, color, anchor, vertical: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Line, Style};

    fn lines(count: usize) -> Vec<Line> {
        (0..count).map(|i| Line { label: format!("line {i}"), values: vec![i as f64; 10], ..Line::default() }).collect()
    }

    #[test]
    fn the_plot_keeps_the_asked_size_and_the_image_grows_around_it() {
        let chart = Chart { lines: lines(1), ..Chart::default() };
        let l = layout(&chart);
        assert_eq!((l.plot.w, l.plot.h), (700.0, 300.0));
        assert_eq!(l.plot.x, PAD + MIN_LEFT_AXIS);
        assert_eq!(l.plot.y, PAD);
        assert!(l.width as f32 >= l.plot.right() + MIN_RIGHT_MARGIN);
        let titled = layout(&Chart { title: Some("CPU".into()), ..chart });
        assert_eq!(titled.plot.y, PAD + TITLE_ROW);
        assert_eq!(titled.height, l.height + TITLE_ROW as u32);
    }

    #[test]
    fn legend_entries_and_stats_rows_add_height() {
        let base = Chart { show_stats: false, ..Chart::default() };
        let none = layout(&base).height;
        let one = layout(&Chart { lines: lines(1), ..base.clone() }).height;
        let three = layout(&Chart { lines: lines(3), ..base.clone() }).height;
        assert_eq!(one - none, (LEGEND_GAP + ROW) as u32);
        assert_eq!(three - one, 2 * ROW as u32);
        let with_stats = layout(&Chart { lines: lines(3), show_stats: true, ..base.clone() }).height;
        assert_eq!(with_stats - three, 3 * ROW as u32);
        let hidden = layout(&Chart { lines: lines(3), show_legend: false, ..base }).height;
        assert_eq!(hidden, none);
    }

    #[test]
    fn a_long_legend_is_cut_with_a_count() {
        let chart = Chart { lines: lines(MAX_LEGEND_ENTRIES + 6), show_stats: false, ..Chart::default() };
        let l = layout(&chart);
        assert_eq!(l.legend.len(), MAX_LEGEND_ENTRIES);
        assert_eq!(l.legend_hidden, 6);
    }

    #[test]
    fn right_axes_widen_the_image_and_take_their_first_line_color() {
        let mut two = lines(2);
        two[1].axis = 2;
        let one_axis = layout(&Chart { lines: lines(2), ..Chart::default() });
        let chart = Chart { lines: two, ..Chart::default() };
        let l = layout(&chart);
        assert_eq!(l.axes.iter().map(|a| a.index).collect::<Vec<_>>(), [0, 2]);
        assert!(l.width > one_axis.width);
        assert_eq!(l.axes[0].color, chart.line_color(0));
        assert_eq!(l.axes[1].color, chart.line_color(1));
        assert_eq!(l.axes[1].x, l.plot.right());
        assert_eq!(one_axis.axes[0].color, Rgba::BLACK);
    }

    #[test]
    fn stacks_set_the_axis_range_from_their_sums() {
        let stacked = |v: f64| Line { values: vec![v; 4], style: Style::Stack, ..Line::default() };
        let chart = Chart { lines: vec![stacked(2.0), stacked(3.0)], ..Chart::default() };
        let l = layout(&chart);
        assert_eq!((l.axes[0].scale.lower, l.axes[0].scale.upper), (0.0, 5.0));
    }

    #[test]
    fn empty_chart_says_no_data() {
        let Ok(scene) = scene(&Chart::default()) else { panic!("default chart renders") };
        let said = scene.over.iter().any(|s| matches!(s, Shape::Text { text, .. } if text == "No data"));
        assert!(said);
        assert!(scene.data.is_empty());
    }
}
