//! The PNG writer: a [`Scene`] rasterized with tiny-skia and encoded as PNG.
//!
//! Design decision: text is drawn as filled paths built from the bundled font's glyph outlines,
//! through the same rasterizer as every other shape, so it gets the same anti-aliasing, colors
//! with alpha and rotation as lines and areas, and no second pixel-blending code exists.

use tiny_skia::{FillRule, LineJoin, Mask, Paint, Path, PathBuilder, Pixmap, Stroke, Transform};

use crate::error::ChartError;
use ab_glyph::{OutlineCurve, Point};

use crate::font::{PlacedGlyph, outline, place, px_per_unit};
use crate::model::Rgba;
use crate::scene::{Anchor, Rect, Scene, Shape};

/// `scene` rasterized and encoded as PNG (8-bit RGBA).
pub fn write_png(scene: &Scene) -> Result<Vec<u8>, ChartError> {
    let mut pixmap = Pixmap::new(scene.width, scene.height).ok_or_else(|| ChartError::Encode {
        reason: format!("cannot allocate a {}x{} image", scene.width, scene.height),
    })?;
    pixmap.fill(color(scene.background));
    let mut clip = Mask::new(scene.width, scene.height)
        .ok_or_else(|| ChartError::Encode { reason: "cannot allocate the clip mask".to_owned() })?;
    if let Some(plot) = rect_path(scene.plot) {
        clip.fill_path(&plot, FillRule::Winding, false, Transform::identity());
    }
    for shape in &scene.under {
        draw(&mut pixmap, shape, None);
    }
    for shape in &scene.data {
        draw(&mut pixmap, shape, Some(&clip));
    }
    for shape in &scene.over {
        draw(&mut pixmap, shape, None);
    }
    pixmap.encode_png().map_err(|e| ChartError::Encode { reason: e.to_string() })
}

fn color(c: Rgba) -> tiny_skia::Color {
    tiny_skia::Color::from_rgba8(c.r, c.g, c.b, c.a)
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(color(c));
    paint.anti_alias = true;
    paint
}

fn rect_path(rect: Rect) -> Option<Path> {
    tiny_skia::Rect::from_xywh(rect.x, rect.y, rect.w, rect.h).map(PathBuilder::from_rect)
}

fn polyline_path(runs: &[Vec<(f32, f32)>], close: bool) -> Option<Path> {
    let mut builder = PathBuilder::new();
    for run in runs {
        let mut points = run.iter().filter(|(x, y)| x.is_finite() && y.is_finite());
        let Some((x, y)) = points.next() else { continue };
        builder.move_to(*x, *y);
        for (x, y) in points {
            builder.line_to(*x, *y);
        }
        if close {
            builder.close();
        }
    }
    builder.finish()
}

fn draw(pixmap: &mut Pixmap, shape: &Shape, clip: Option<&Mask>) {
    match shape {
        Shape::Rect { rect, fill } => {
            // Rectangles are on whole pixels; without anti-aliasing tiny-skia fills them
            // exactly (its anti-aliased path debug-asserts on rectangles under a pixel wide).
            if let Some(r) = tiny_skia::Rect::from_xywh(rect.x, rect.y, rect.w, rect.h) {
                let mut paint = paint(*fill);
                paint.anti_alias = false;
                pixmap.fill_rect(r, &paint, Transform::identity(), clip);
            }
        }
        Shape::Stroke { runs, color, width } => {
            if let Some(path) = polyline_path(runs, false) {
                let stroke = Stroke { width: *width, line_join: LineJoin::Round, ..Stroke::default() };
                pixmap.stroke_path(&path, &paint(*color), &stroke, Transform::identity(), clip);
            }
        }
        Shape::Fill { polygons, color } => {
            if let Some(path) = polyline_path(polygons, true) {
                pixmap.fill_path(&path, &paint(*color), FillRule::Winding, Transform::identity(), clip);
            }
        }
        Shape::Text { x, y, text, size, color, anchor, vertical } => {
            let (glyphs, width) = place(text, *size);
            let start = match anchor {
                Anchor::Start => 0.0,
                Anchor::Middle => -width / 2.0,
                Anchor::End => -width,
            };
            let Some(path) = text_path(&glyphs, start, *size) else { return };
            let mut transform = Transform::from_translate(*x, *y);
            if *vertical {
                transform = transform.pre_rotate(-90.0);
            }
            pixmap.fill_path(&path, &paint(*color), FillRule::Winding, transform, clip);
        }
    }
}

/// The outlines of placed glyphs as one path, origin on the baseline at the text's anchor,
/// y down. A curve that does not start where the previous one ended begins a new contour.
fn text_path(glyphs: &[PlacedGlyph], start: f32, size: f32) -> Option<Path> {
    let scale = px_per_unit(size);
    let mut builder = PathBuilder::new();
    for glyph in glyphs {
        let Some(outline) = outline(glyph.id) else { continue };
        let origin = start + glyph.x;
        let map = |p: Point| (origin + p.x * scale, -p.y * scale);
        let mut pen: Option<Point> = None;
        for curve in &outline.curves {
            let (from, to) = match curve {
                OutlineCurve::Line(a, b) | OutlineCurve::Quad(a, _, b) | OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
            };
            if pen != Some(from) {
                if pen.is_some() {
                    builder.close();
                }
                let (x, y) = map(from);
                builder.move_to(x, y);
            }
            match curve {
                OutlineCurve::Line(_, b) => {
                    let (x, y) = map(*b);
                    builder.line_to(x, y);
                }
                OutlineCurve::Quad(_, c, b) => {
                    let ((cx, cy), (x, y)) = (map(*c), map(*b));
                    builder.quad_to(cx, cy, x, y);
                }
                OutlineCurve::Cubic(_, c1, c2, b) => {
                    let ((c1x, c1y), (c2x, c2y), (x, y)) = (map(*c1), map(*c2), map(*b));
                    builder.cubic_to(c1x, c1y, c2x, c2y, x, y);
                }
            }
            pen = Some(to);
        }
        if pen.is_some() {
            builder.close();
        }
    }
    builder.finish()
}
