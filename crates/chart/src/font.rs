//! The bundled font (DejaVu Sans), text measurement and glyph placement.
//!
//! Design decision: the font file is compiled into the crate with `include_bytes!` and parsed
//! once; nothing reads fonts from the system, so a chart renders the same on every machine and
//! the layout (which measures text here) agrees with the PNG (which draws these outlines). The
//! SVG names the same family, so a viewer with DejaVu Sans shows the same widths.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, Outline};

/// DejaVu Sans, copied from the fonts-dejavu-core package (license in assets/LICENSE-DejaVu.txt).
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The CSS font family the SVG output names.
pub const FONT_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

/// Width of a character, in ems, assumed if the bundled font ever failed to parse.
const FALLBACK_ADVANCE_EM: f32 = 0.6;

fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok()).as_ref()
}

/// Pixels per font unit at `size` pixels per em (the CSS `font-size`).
pub fn px_per_unit(size: f32) -> f32 {
    match font().and_then(|f| f.units_per_em()) {
        Some(units) if units > 0.0 => size / units,
        _ => size / 2048.0,
    }
}

/// A glyph set on the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedGlyph {
    /// Which glyph of the bundled font.
    pub id: GlyphId,
    /// Its origin's distance from the start of the text, in pixels.
    pub x: f32,
}

/// The glyphs of `text` at `size` pixels per em with advances and kerning, and the total width.
pub fn place(text: &str, size: f32) -> (Vec<PlacedGlyph>, f32) {
    let Some(font) = font() else {
        return (Vec::new(), text.chars().count() as f32 * size * FALLBACK_ADVANCE_EM);
    };
    let scale = px_per_unit(size);
    let mut glyphs = Vec::with_capacity(text.len());
    let mut x = 0.0;
    let mut previous: Option<GlyphId> = None;
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        if let Some(previous) = previous {
            x += font.kern_unscaled(previous, id) * scale;
        }
        glyphs.push(PlacedGlyph { id, x });
        x += font.h_advance_unscaled(id) * scale;
        previous = Some(id);
    }
    (glyphs, x)
}

/// The outline of a glyph in font units (y up), if it has one (a space has none).
pub fn outline(id: GlyphId) -> Option<Outline> {
    font().and_then(|f| f.outline(id))
}

/// The width of `text` in pixels at `size` pixels per em.
pub fn text_width(text: &str, size: f32) -> f32 {
    place(text, size).1
}

/// `text`, cut and ended with "…" if needed so it is at most `max_width` pixels wide; empty if
/// not even the ellipsis fits. Linear in the length of `text`.
pub fn fit(text: &str, size: f32, max_width: f32) -> String {
    let (glyphs, width) = place(text, size);
    if width <= max_width {
        return text.to_owned();
    }
    let room = max_width - text_width("…", size);
    // Glyph k starts where the first k characters end.
    let fitting = glyphs.iter().take_while(|glyph| glyph.x <= room).count();
    if fitting == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(fitting - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_parses_and_measures() {
        assert!(font().is_some());
        let width = text_width("12:00", 11.0);
        // DejaVu Sans digits advance 0.636 em, the colon 0.337 em.
        assert!((width - (4.0 * 0.636 + 0.337) * 11.0).abs() < 0.2, "width {width}");
        assert_eq!(text_width("", 11.0), 0.0);
        assert!(outline(font().map_or(GlyphId(0), |f| f.glyph_id('A'))).is_some());
    }

    #[test]
    fn fit_cuts_long_text_with_an_ellipsis() {
        assert_eq!(fit("short", 11.0, 1000.0), "short");
        let cut = fit("a rather long legend label", 11.0, 60.0);
        assert!(cut.ends_with('…') && cut.len() < 26, "{cut}");
        assert!(text_width(&cut, 11.0) <= 60.0);
        assert_eq!(fit("anything", 11.0, 1.0), "");
        assert_eq!(fit("anything", 11.0, 12.0), "…");
        let long = "x".repeat(200_000);
        assert!(text_width(&fit(&long, 11.0, 300.0), 11.0) <= 300.0);
    }
}
