//! The SVG writer: a [`Scene`] as a standalone SVG document.
//!
//! Design decision: text stays text (`<text>` in the bundled font's family, escaped, with the
//! anchor the layout chose) rather than glyph outlines, so the SVG is small, searchable and
//! selectable; positions come from the same measurements as the PNG, so a viewer that has
//! DejaVu Sans shows the same picture.

use std::fmt::Write;

use crate::font::FONT_FAMILY;
use crate::model::Rgba;
use crate::scene::{Anchor, Rect, Scene, Shape};

/// `scene` as an SVG document.
pub fn write_svg(scene: &Scene) -> String {
    let mut out = String::with_capacity(4096 + scene.data.len() * 256);
    let (w, h) = (scene.width, scene.height);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{}">"#,
        escape(FONT_FAMILY)
    );
    let background = Rect { x: 0.0, y: 0.0, w: w as f32, h: h as f32 };
    write_shape(&mut out, &Shape::Rect { rect: background, fill: scene.background });
    let p = scene.plot;
    let _ = writeln!(
        out,
        r#"<defs><clipPath id="plot"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath></defs>"#,
        num(p.x),
        num(p.y),
        num(p.w),
        num(p.h)
    );
    for (layer, clip) in [(&scene.under, ""), (&scene.data, r#" clip-path="url(#plot)""#), (&scene.over, "")] {
        let _ = writeln!(out, "<g{clip}>");
        for shape in layer {
            write_shape(&mut out, shape);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn write_shape(out: &mut String, shape: &Shape) {
    match shape {
        Shape::Rect { rect, fill } => {
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"{}/>"#,
                num(rect.x),
                num(rect.y),
                num(rect.w.max(0.0)),
                num(rect.h.max(0.0)),
                fill.to_hex_rgb(),
                opacity("fill-opacity", *fill)
            );
        }
        Shape::Stroke { runs, color, width } => {
            let _ = writeln!(
                out,
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round"{}/>"#,
                path_data(runs, false),
                color.to_hex_rgb(),
                num(*width),
                opacity("stroke-opacity", *color)
            );
        }
        Shape::Fill { polygons, color } => {
            let _ = writeln!(
                out,
                r#"<path d="{}" fill="{}"{}/>"#,
                path_data(polygons, true),
                color.to_hex_rgb(),
                opacity("fill-opacity", *color)
            );
        }
        Shape::Text { x, y, text, size, color, anchor, vertical } => {
            let anchor = match anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let rotate =
                if *vertical { format!(r#" transform="rotate(-90 {} {})""#, num(*x), num(*y)) } else { String::new() };
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" font-size="{}" fill="{}" text-anchor="{anchor}" xml:space="preserve"{rotate}{}>{}</text>"#,
                num(*x),
                num(*y),
                num(*size),
                color.to_hex_rgb(),
                opacity("fill-opacity", *color),
                escape(text)
            );
        }
    }
}

fn path_data(runs: &[Vec<(f32, f32)>], close: bool) -> String {
    let mut d = String::new();
    for run in runs {
        for (i, (x, y)) in run.iter().enumerate() {
            let _ = write!(d, "{}{} {}", if i == 0 { 'M' } else { 'L' }, num(*x), num(*y));
        }
        if close && !run.is_empty() {
            d.push('Z');
        }
    }
    d
}

fn opacity(attribute: &str, color: Rgba) -> String {
    if color.a == 255 { String::new() } else { format!(r#" {attribute}="{}""#, num(f32::from(color.a) / 255.0)) }
}

/// A coordinate with at most two decimals and no trailing zeros; 0 for non-finite values.
fn num(value: f32) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() { "0".to_owned() } else { text.to_owned() }
}

/// `text` safe inside XML character data and attribute values: markup characters escaped,
/// characters XML 1.0 forbids dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_markup_and_forbidden_characters() {
        assert_eq!(escape(r#"a<b & "c" 'd'>"#), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(escape("bell\u{7}\ttab"), "bell tab");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(10.0), "10");
        assert_eq!(num(10.5), "10.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f32::NAN), "0");
    }

    #[test]
    fn paths_join_runs() {
        let runs = vec![vec![(0.0, 1.0), (2.0, 3.0)], vec![(4.0, 5.0)]];
        assert_eq!(path_data(&runs, false), "M0 1L2 3M4 5");
        assert_eq!(path_data(&runs, true), "M0 1L2 3ZM4 5Z");
    }
}
