//! plumb-chart: Atlas-style graphs of time series, drawn as SVG or PNG.
//!
//! This crate only draws. A caller (the `/api/v1/graph` endpoint, once the stack language has
//! evaluated an expression) fills a [`Chart`]: plot size, time range and step, time zone, Y axes,
//! and [`Line`]s of values with a [`Style`] (line, area, stack, vertical span or heat map), color,
//! width and axis; then calls [`render_svg`] or [`render_png`]. Heat map lines are counted into
//! cells of their axis and coloured by count ([`heatmap`], Atlas's `:heatmap`). The picture follows Atlas's: white
//! background, title on top, a plot with grid lines, value ticks at 1-2-5 steps with SI labels
//! (`1.5k`, `500m`) on up to five axes (0 on the left, 1 to 4 on the right, each scaled on its
//! own), round time ticks (`12:00`, dates at midnight when the range spans days) in the chart's
//! zone, NaN drawn as gaps, and a legend with a swatch, the label and
//! `Max : x  Min : x  Avg : x  Last : x` under each line. Lines without a color take the next
//! color of [`PALETTE`], Atlas's `armytage` palette in Atlas's order.
//!
//! The work runs in one direction through four stages, each a module: [`model`] (the request,
//! with limits checked by [`Chart::validate`]: plot sizes 1-4000, at most 1024 lines of 100,000
//! points, a positive step and a non-empty range), [`layout`] (stacks resolved, axis scales and
//! ticks chosen, every position and text measured), [`scene`] (the resulting flat list of
//! rectangles, strokes, fills and texts) and the two writers, [`svg`] and [`png`].
//!
//! Design decision: both outputs are drawn from the same [`scene::Scene`], computed once, so an
//! SVG and a PNG of one chart agree to the pixel on where everything is; the writers have no
//! layout of their own. The text measurements behind that layout come from DejaVu Sans, bundled
//! in the crate (`assets/`, with its license) and compiled in with `include_bytes!`: rendering
//! never reads a font, or anything else, from the system, and gives the same bytes everywhere.
//!
//! No input panics: NaN and infinities are gaps, all-equal or missing data still gets a range
//! and ticks, and oversized requests are refused with a [`ChartError`] before any allocation.

pub mod error;
pub mod font;
pub mod heatmap;
pub mod layout;
pub mod model;
pub mod plot;
pub mod png;
pub mod scene;
pub mod si;
pub mod svg;
pub mod ticks;

pub use error::ChartError;
pub use model::{
    Axis, Chart, ColorScale, DEFAULT_HEIGHT, DEFAULT_RANGE_MS, DEFAULT_STEP_MS, DEFAULT_WIDTH, HeatmapOptions, Line,
    MAX_AXES, MAX_DATAPOINTS_PER_LINE, MAX_DIMENSION, MAX_LINES, PALETTE, Rgba, Style,
};

/// `chart` as a standalone SVG document; fails only when the chart is out of limits.
pub fn render_svg(chart: &Chart) -> Result<String, ChartError> {
    Ok(svg::write_svg(&layout::scene(chart)?))
}

/// `chart` as a PNG image (8-bit RGBA); fails when the chart is out of limits or encoding fails.
pub fn render_png(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    png::write_png(&layout::scene(chart)?)
}
