//! The scene: a flat list of shapes in pixel coordinates that both outputs draw.
//!
//! Design decision: layout ends in this display list, and the SVG and PNG writers know nothing
//! else: they turn each [`Shape`] into markup or pixels. Positions, sizes, colors and texts are
//! decided once, so the two formats cannot disagree about where anything is. Shapes come in
//! three layers (under the data, the data clipped to the plot, over the data) because the one
//! thing the writers must do alike beyond drawing shapes is clipping.

use crate::model::Rgba;

/// An axis-aligned rectangle in pixels, y growing downwards.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl Rect {
    /// The right edge.
    pub fn right(&self) -> f32 {
        self.x + self.w
    }

    /// The bottom edge.
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }
}

/// Where a text's x coordinate sits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// x is the start of the text.
    Start,
    /// x is the middle of the text.
    Middle,
    /// x is the end of the text.
    End,
}

/// One thing to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled rectangle on whole pixels, at least one pixel wide and high.
    Rect {
        /// Where.
        rect: Rect,
        /// Fill color.
        fill: Rgba,
    },
    /// Open polylines (one line's runs between gaps), stroked with round joins.
    Stroke {
        /// The runs, each its vertices in order.
        runs: Vec<Vec<(f32, f32)>>,
        /// Stroke color.
        color: Rgba,
        /// Stroke width in pixels.
        width: f32,
    },
    /// Closed polygons (one area's or stack's runs between gaps), filled.
    Fill {
        /// The polygons, each its vertices in order.
        polygons: Vec<Vec<(f32, f32)>>,
        /// Fill color.
        color: Rgba,
    },
    /// One line of text in the bundled font.
    Text {
        /// Anchor point's x.
        x: f32,
        /// Baseline's y (for vertical text, the x of the baseline after rotation is `x`).
        y: f32,
        /// The text.
        text: String,
        /// Font size, pixels per em.
        size: f32,
        /// Fill color.
        color: Rgba,
        /// Which point of the text `x` names.
        anchor: Anchor,
        /// Rotated a quarter turn counter-clockwise about (x, y), reading upwards.
        vertical: bool,
    },
}

/// Everything to draw, in order, and the image size.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Background color filling the image.
    pub background: Rgba,
    /// The plot area, which clips the `data` layer.
    pub plot: Rect,
    /// Drawn first: grid lines.
    pub under: Vec<Shape>,
    /// Drawn second, clipped to `plot`: the lines, areas, stacks and spans.
    pub data: Vec<Shape>,
    /// Drawn last: axes, tick labels, title, legend, messages.
    pub over: Vec<Shape>,
}
