//! The chart model: what a caller hands the renderer, with Atlas's defaults and limits.
//!
//! Design decision: the model is plain data with public fields and `Default`, and every check
//! lives in [`Chart::validate`], run once by both renderers before any layout, so a graph endpoint
//! can fill the struct field by field from query parameters and learn about a bad request as one
//! typed error instead of a panic deep inside drawing.

use jiff::tz::TimeZone;

use crate::error::ChartError;

/// Largest plot width or height accepted, in pixels.
pub const MAX_DIMENSION: u32 = 4000;
/// Largest number of lines in one chart.
pub const MAX_LINES: usize = 1024;
/// Largest number of datapoints in one line.
pub const MAX_DATAPOINTS_PER_LINE: usize = 100_000;
/// Number of Y axes: axis 0 on the left, 1 to 4 on the right.
pub const MAX_AXES: usize = 5;

/// Default plot width in pixels, as Atlas's `w`.
pub const DEFAULT_WIDTH: u32 = 700;
/// Default plot height in pixels, as Atlas's `h`.
pub const DEFAULT_HEIGHT: u32 = 300;
/// Default step between datapoints: one minute.
pub const DEFAULT_STEP_MS: i64 = 60_000;
/// Default time range: three hours, Atlas's `s=e-3h`.
pub const DEFAULT_RANGE_MS: i64 = 3 * 3_600_000;

/// A color with straight (not premultiplied) alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    /// Red, 0-255.
    pub r: u8,
    /// Green, 0-255.
    pub g: u8,
    /// Blue, 0-255.
    pub b: u8,
    /// Opacity, 0 (transparent) to 255 (opaque).
    pub a: u8,
}

impl Rgba {
    /// An opaque color from its red, green and blue parts.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r, g, b, a: 255 }
    }

    /// Opaque black.
    pub const BLACK: Rgba = Rgba::rgb(0, 0, 0);
    /// Opaque white.
    pub const WHITE: Rgba = Rgba::rgb(255, 255, 255);

    /// Parses a color as Atlas's `:color` writes it: `rgb`, `rrggbb` or `aarrggbb` in hex, with
    /// an optional leading `#`; `None` for anything else.
    pub fn parse_hex(text: &str) -> Option<Rgba> {
        let hex = text.strip_prefix('#').unwrap_or(text);
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| hex.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
        match hex.len() {
            3 => {
                let nibble = |i: usize| hex.get(i..=i).and_then(|s| u8::from_str_radix(s, 16).ok()).map(|n| n * 17);
                Some(Rgba::rgb(nibble(0)?, nibble(1)?, nibble(2)?))
            }
            6 => Some(Rgba::rgb(byte(0)?, byte(2)?, byte(4)?)),
            8 => Some(Rgba { a: byte(0)?, r: byte(2)?, g: byte(4)?, b: byte(6)? }),
            _ => None,
        }
    }

    /// The color as `#rrggbb`, alpha left out.
    pub fn to_hex_rgb(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// The default palette, used in order for lines without a color and wrapping around: Atlas's
/// `armytage` palette, in Atlas's order (Green-Armytage's colour alphabet less Xanthin and
/// Yellow, too faint on white).
pub const PALETTE: [Rgba; 24] = [
    Rgba::rgb(0x00, 0x75, 0xdc),
    Rgba::rgb(0x99, 0x3f, 0x00),
    Rgba::rgb(0x9d, 0xcc, 0x00),
    Rgba::rgb(0x4c, 0x00, 0x5c),
    Rgba::rgb(0x00, 0x99, 0x8f),
    Rgba::rgb(0xff, 0xa4, 0x05),
    Rgba::rgb(0x5e, 0xf1, 0xf2),
    Rgba::rgb(0xf0, 0xa3, 0xff),
    Rgba::rgb(0x94, 0xff, 0xb5),
    Rgba::rgb(0xff, 0x00, 0x10),
    Rgba::rgb(0x2b, 0xce, 0x48),
    Rgba::rgb(0x74, 0x0a, 0xff),
    Rgba::rgb(0x19, 0x19, 0x19),
    Rgba::rgb(0xff, 0x50, 0x05),
    Rgba::rgb(0x00, 0x5c, 0x31),
    Rgba::rgb(0xff, 0xcc, 0x99),
    Rgba::rgb(0x80, 0x80, 0x80),
    Rgba::rgb(0x8f, 0x7c, 0x00),
    Rgba::rgb(0xc2, 0x00, 0x88),
    Rgba::rgb(0x00, 0x33, 0x80),
    Rgba::rgb(0xff, 0xa8, 0xbb),
    Rgba::rgb(0x42, 0x66, 0x00),
    Rgba::rgb(0x99, 0x00, 0x00),
    Rgba::rgb(0xff, 0xe1, 0x00),
];

/// How a line is drawn, as Atlas's `:line`, `:area`, `:stack`, `:vspan` and `:heatmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// A polyline through the datapoints. The default.
    #[default]
    Line,
    /// The line filled down (or up) to zero.
    Area,
    /// Filled, on top of the stacked lines before it on the same axis; positive values stack
    /// upwards and negative values downwards, separately.
    Stack,
    /// The whole height of the plot shaded over each step whose value is non-zero and not NaN.
    VSpan,
    /// A cell of the axis's heat map counted for each value (see [`crate::heatmap`]); not drawn
    /// as a line and not in the legend.
    Heatmap,
}

/// How counts become colours in a heat map, as Atlas's `heatmap_scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorScale {
    /// Counts spread evenly over the palette. The default.
    #[default]
    Linear,
    /// `log10(count + 1)` spread evenly (`log`).
    Logarithmic,
    /// Counts squared (`pow2`).
    Power2,
    /// Square roots of counts (`sqrt`).
    Sqrt,
}

/// The heat map settings of a chart, as Atlas's `heatmap_*` graph parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatmapOptions {
    /// Cell colours, lightest (fewest counts) first. Default is none: a gradient of the first
    /// heat map line's color (five steps of opacity), as Atlas.
    pub palette: Option<Vec<Rgba>>,
    /// Counts at or below this take the first colour. Default is none: the smallest count.
    pub lower: Option<f64>,
    /// Counts at or above this take the last colour. Default is none: the largest count.
    pub upper: Option<f64>,
    /// How counts map to colours. Default is linear.
    pub scale: ColorScale,
    /// Legend text of the heat map. Default is none: `heatmap`.
    pub label: Option<String>,
}

/// One Y axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    /// Text written along the axis. Default is none.
    pub label: Option<String>,
    /// Fixed lower bound. Default is none: chosen from the data (zero included for areas and
    /// stacks).
    pub lower: Option<f64>,
    /// Fixed upper bound. Default is none: chosen from the data.
    pub upper: Option<f64>,
    /// Logarithmic (base 10) scale; values at or below zero are not drawn. Default is linear.
    pub logarithmic: bool,
}

/// One time series to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text. Default is empty.
    pub label: String,
    /// The values; value `i` is at `start_ms + i * step_ms`. NaN and infinities are gaps.
    /// Default is empty.
    pub values: Vec<f64>,
    /// How to draw it. Default is [`Style::Line`].
    pub style: Style,
    /// Its color. Default is none: the next color of [`PALETTE`].
    pub color: Option<Rgba>,
    /// Stroke width in pixels for [`Style::Line`]. Default is 1.
    pub line_width: f32,
    /// Index of its Y axis, 0 (left) to 4. Default is 0.
    pub axis: usize,
    /// For a [`Style::Heatmap`] line of a percentile series, the value range of its bucket:
    /// each value is then a count spread over the cells the range covers, as Atlas's percentile
    /// heat maps. Default is none: each value counts once in the cell it falls in.
    pub bucket_range: Option<(f64, f64)>,
}

impl Default for Line {
    fn default() -> Line {
        Line {
            label: String::new(),
            values: Vec::new(),
            style: Style::Line,
            color: None,
            line_width: 1.0,
            axis: 0,
            bucket_range: None,
        }
    }
}

/// A whole graph, as Atlas's `/api/v1/graph` parameters describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title above the plot. Default is none.
    pub title: Option<String>,
    /// Plot area width in pixels (the image is wider). Default is [`DEFAULT_WIDTH`].
    pub width: u32,
    /// Plot area height in pixels (the image is taller). Default is [`DEFAULT_HEIGHT`].
    pub height: u32,
    /// Start of the time axis, Unix milliseconds. Default is 0.
    pub start_ms: i64,
    /// End of the time axis, Unix milliseconds, after `start_ms`. Default is
    /// [`DEFAULT_RANGE_MS`].
    pub end_ms: i64,
    /// Time between datapoints in milliseconds. Default is [`DEFAULT_STEP_MS`].
    pub step_ms: i64,
    /// Zone in which the time axis is labelled. Default is UTC; never the system's zone.
    pub time_zone: TimeZone,
    /// Settings of the Y axes by index; an index with no entry uses `Axis::default()`. Default
    /// is empty.
    pub axes: Vec<Axis>,
    /// The lines, drawn in order (later lines on top). Default is empty: the plot says "No data".
    pub lines: Vec<Line>,
    /// Draw the legend under the plot. Default is true.
    pub show_legend: bool,
    /// Draw the Max/Min/Avg/Last row under each legend entry. Default is true.
    pub show_stats: bool,
    /// Heat map settings, used when a line has [`Style::Heatmap`]. Default is
    /// `HeatmapOptions::default()`.
    pub heatmap: HeatmapOptions,
}

impl Default for Chart {
    fn default() -> Chart {
        Chart {
            title: None,
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
            start_ms: 0,
            end_ms: DEFAULT_RANGE_MS,
            step_ms: DEFAULT_STEP_MS,
            time_zone: TimeZone::UTC,
            axes: Vec::new(),
            lines: Vec::new(),
            show_legend: true,
            show_stats: true,
            heatmap: HeatmapOptions::default(),
        }
    }
}

impl Chart {
    /// Checks the sizes, time range and lines against the limits; both renderers call it first.
    pub fn validate(&self) -> Result<(), ChartError> {
        for (dimension, value) in [("width", self.width), ("height", self.height)] {
            if value == 0 || value > MAX_DIMENSION {
                return Err(ChartError::InvalidSize { dimension, value, max: MAX_DIMENSION });
            }
        }
        if self.step_ms <= 0 {
            return Err(ChartError::InvalidStep { step_ms: self.step_ms });
        }
        let in_range = |ms: i64| jiff::Timestamp::from_millisecond(ms).is_ok();
        if self.end_ms <= self.start_ms || !in_range(self.start_ms) || !in_range(self.end_ms) {
            return Err(ChartError::InvalidTimeRange { start_ms: self.start_ms, end_ms: self.end_ms });
        }
        let (lower, upper) = (self.heatmap.lower, self.heatmap.upper);
        let bad = |v: Option<f64>| v.is_some_and(|v| !v.is_finite());
        if bad(lower) || bad(upper) || matches!((lower, upper), (Some(l), Some(u)) if l >= u) {
            return Err(ChartError::InvalidHeatmapBounds {
                lower: lower.unwrap_or(f64::NAN).to_string(),
                upper: upper.unwrap_or(f64::NAN).to_string(),
            });
        }
        if self.lines.len() > MAX_LINES {
            return Err(ChartError::TooManyLines { count: self.lines.len(), max: MAX_LINES });
        }
        for (index, line) in self.lines.iter().enumerate() {
            if line.values.len() > MAX_DATAPOINTS_PER_LINE {
                return Err(ChartError::TooManyDatapoints {
                    line: index,
                    count: line.values.len(),
                    max: MAX_DATAPOINTS_PER_LINE,
                });
            }
            if line.axis >= MAX_AXES {
                return Err(ChartError::AxisOutOfRange { line: index, axis: line.axis, max: MAX_AXES - 1 });
            }
        }
        Ok(())
    }

    /// The settings of axis `index`: its entry in `axes`, or the default.
    pub fn axis(&self, index: usize) -> Axis {
        self.axes.get(index).cloned().unwrap_or_default()
    }

    /// The color line `index` is drawn in (see [`Chart::line_colors`]); black past the end.
    pub fn line_color(&self, index: usize) -> Rgba {
        self.line_colors().get(index).copied().unwrap_or(Rgba::BLACK)
    }

    /// The color of every line: its own, else the palette's next color, counting only the
    /// lines without a color before it. The heat map lines of an axis share one color, the
    /// first one's, and take one palette color between them, as in Atlas.
    pub fn line_colors(&self) -> Vec<Rgba> {
        let mut heat: [Option<Rgba>; MAX_AXES] = [None; MAX_AXES];
        let mut next = 0usize;
        let mut take = || {
            let color = PALETTE.get(next % PALETTE.len()).copied().unwrap_or(Rgba::BLACK);
            next += 1;
            color
        };
        self.lines
            .iter()
            .map(|line| match (line.color, line.style, heat.get_mut(line.axis)) {
                (Some(color), Style::Heatmap, Some(slot)) => *slot.get_or_insert(color),
                (Some(color), _, _) => color,
                (None, Style::Heatmap, Some(slot)) => *slot.get_or_insert_with(&mut take),
                (None, _, _) => take(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_hex_reads_atlas_color_forms() {
        assert_eq!(Rgba::parse_hex("f00"), Some(Rgba::rgb(255, 0, 0)));
        assert_eq!(Rgba::parse_hex("#00ff80"), Some(Rgba::rgb(0, 255, 128)));
        assert_eq!(Rgba::parse_hex("40ff0000"), Some(Rgba { r: 255, g: 0, b: 0, a: 0x40 }));
        assert_eq!(Rgba::parse_hex("ff00"), None);
        assert_eq!(Rgba::parse_hex("gg0000"), None);
        assert_eq!(Rgba::parse_hex("é00"), None);
        assert_eq!(Rgba::rgb(1, 2, 255).to_hex_rgb(), "#0102ff");
    }

    #[test]
    fn palette_colors_are_distinct_and_assigned_in_order() {
        let mut seen = std::collections::HashSet::new();
        assert!(PALETTE.iter().all(|c| seen.insert(*c)));
        let chart = Chart {
            lines: vec![Line::default(), Line { color: Some(Rgba::BLACK), ..Line::default() }, Line::default()],
            ..Chart::default()
        };
        assert_eq!(chart.line_color(0), PALETTE[0]);
        assert_eq!(chart.line_color(1), Rgba::BLACK);
        assert_eq!(chart.line_color(2), PALETTE[1]);
        assert_eq!((PALETTE[0].to_hex_rgb(), PALETTE[23].to_hex_rgb()), ("#0075dc".into(), "#ffe100".into()));
    }

    #[test]
    fn validate_refuses_what_is_out_of_limits() {
        assert_eq!(Chart::default().validate(), Ok(()));
        let zero = Chart { width: 0, ..Chart::default() };
        assert_eq!(zero.validate(), Err(ChartError::InvalidSize { dimension: "width", value: 0, max: 4000 }));
        let tall = Chart { height: 4001, ..Chart::default() };
        assert!(matches!(tall.validate(), Err(ChartError::InvalidSize { dimension: "height", .. })));
        let lines = Chart { lines: vec![Line::default(); MAX_LINES + 1], ..Chart::default() };
        assert_eq!(lines.validate(), Err(ChartError::TooManyLines { count: 1025, max: 1024 }));
        let points = Line { values: vec![0.0; MAX_DATAPOINTS_PER_LINE + 1], ..Line::default() };
        let long = Chart { lines: vec![points], ..Chart::default() };
        assert!(matches!(long.validate(), Err(ChartError::TooManyDatapoints { line: 0, .. })));
        let backwards = Chart { start_ms: 10, end_ms: 10, ..Chart::default() };
        assert!(matches!(backwards.validate(), Err(ChartError::InvalidTimeRange { .. })));
        let huge = Chart { end_ms: i64::MAX, ..Chart::default() };
        assert!(matches!(huge.validate(), Err(ChartError::InvalidTimeRange { .. })));
        let step = Chart { step_ms: 0, ..Chart::default() };
        assert_eq!(step.validate(), Err(ChartError::InvalidStep { step_ms: 0 }));
        let heat = HeatmapOptions { lower: Some(2.0), upper: Some(1.0), ..HeatmapOptions::default() };
        let bounds = Chart { heatmap: heat, ..Chart::default() };
        assert!(matches!(bounds.validate(), Err(ChartError::InvalidHeatmapBounds { .. })));
        let axis = Chart { lines: vec![Line { axis: 5, ..Line::default() }], ..Chart::default() };
        assert_eq!(axis.validate(), Err(ChartError::AxisOutOfRange { line: 0, axis: 5, max: 4 }));
    }

    proptest! {
        #[test]
        fn parse_hex_never_panics_and_round_trips(text in "\\PC{0,10}", r: u8, g: u8, b: u8) {
            let _ = Rgba::parse_hex(&text);
            let color = Rgba::rgb(r, g, b);
            prop_assert_eq!(Rgba::parse_hex(&color.to_hex_rgb()), Some(color));
        }
    }
}
