//! Atlas's colour palettes: the named lists lines take their colours from (`armytage`, the
//! default, `reds`, `blues`, ...), a palette written as a list (`(,f00,00ff00,)`), and the
//! `hash:` mode that picks a colour from the legend text.
//!
//! Design decision: the colour values are Atlas's own (its `palettes/*_palette.txt` resources,
//! one colour per line, kept beside this file in `palettes/` and compiled in with
//! `include_str!`), so a plumb graph colours its lines exactly as Atlas does; a palette is a
//! cursor over those colours ([`PaletteCursor`]) that either walks them in order, wrapping
//! around, or hashes a label as Java's `String.hashCode` does, as Atlas's `Grapher` does.

use super::parse_color;

/// A palette colour: six lowercase hex digits and an opacity.
pub type PaletteColor = (String, u8);

/// The names of Atlas's palettes, each accepted by `palette=` and `:palette`.
pub const PALETTE_NAMES: &[&str] = &[
    "armytage",
    "blues",
    "bw",
    "dark24",
    "epic",
    "greens",
    "highcharts",
    "light24",
    "lightgray",
    "oranges",
    "purples",
    "reds",
];

/// The palette lines take when none is set (Atlas's light theme `palette.primary`).
pub const DEFAULT_PALETTE_NAME: &str = "armytage";

/// The palette for lines of a shifted expression (`:offset`) when none is set (Atlas's light
/// theme `palette.offset`).
pub const OFFSET_PALETTE_NAME: &str = "bw";

/// Prefix of a palette that picks colours by hashing the legend.
const HASH_PREFIX: &str = "hash:";

fn palette_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "armytage" => include_str!("palettes/armytage.txt"),
        "blues" => include_str!("palettes/blues.txt"),
        "bw" => include_str!("palettes/bw.txt"),
        "dark24" => include_str!("palettes/dark24.txt"),
        "epic" => include_str!("palettes/epic.txt"),
        "greens" => include_str!("palettes/greens.txt"),
        "highcharts" => include_str!("palettes/highcharts.txt"),
        "light24" => include_str!("palettes/light24.txt"),
        "lightgray" => include_str!("palettes/lightgray.txt"),
        "oranges" => include_str!("palettes/oranges.txt"),
        "purples" => include_str!("palettes/purples.txt"),
        "reds" => include_str!("palettes/reds.txt"),
        _ => return None,
    })
}

/// The colours of Atlas's palette `name`, in Atlas's order; `None` for an unknown name.
pub fn named_palette(name: &str) -> Option<Vec<PaletteColor>> {
    let text = palette_text(name)?;
    let colors: Vec<PaletteColor> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| parse_color(l).map(|(rgb, alpha)| (rgb, alpha.unwrap_or(255))))
        .collect();
    (!colors.is_empty()).then_some(colors)
}

/// The colours of a palette list written `(,a,b,)`, or `None` when it is not one.
pub fn palette_list(value: &str) -> Option<Vec<&str>> {
    let inner = value.strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(str::trim).filter(|c| !c.is_empty()).collect())
}

/// The colours of a palette as `palette=` or `:palette` give it: a name, `hash:` and a name, or
/// a list of colours; `None` when a name is unknown or a colour is not hex.
fn palette_colors(description: &str) -> Option<Vec<PaletteColor>> {
    let description = description.strip_prefix(HASH_PREFIX).unwrap_or(description);
    match palette_list(description) {
        Some(list) => {
            let colors: Option<Vec<PaletteColor>> =
                list.iter().map(|c| parse_color(c).map(|(rgb, alpha)| (rgb, alpha.unwrap_or(255)))).collect();
            colors.filter(|c| !c.is_empty())
        }
        None => named_palette(description),
    }
}

/// Whether `description` names a palette (`reds`, `hash:reds`, `(,f00,0f0,)`).
pub fn is_palette(description: &str) -> bool {
    palette_colors(description).is_some()
}

/// Java's `String.hashCode` over the UTF-16 code units, as Atlas's hashed palettes use.
pub fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// Hands out the colours of one palette: in order (wrapping around), or by legend hash.
#[derive(Debug, Clone)]
pub struct PaletteCursor {
    colors: Vec<PaletteColor>,
    hashed: bool,
    next: usize,
}

impl PaletteCursor {
    /// A cursor over `description` (see [`is_palette`]); `None` when it names no palette.
    pub fn new(description: &str) -> Option<PaletteCursor> {
        let colors = palette_colors(description)?;
        Some(PaletteCursor { colors, hashed: description.starts_with(HASH_PREFIX), next: 0 })
    }

    /// A cursor handing out one colour forever.
    pub fn single(color: PaletteColor) -> PaletteCursor {
        PaletteCursor { colors: vec![color], hashed: false, next: 0 }
    }

    /// The colour for a line with legend `label`: the next one in order, or the one its hash
    /// picks (`|hash| mod n`) in `hash:` mode.
    pub fn color_for(&mut self, label: &str) -> PaletteColor {
        let len = self.colors.len().max(1);
        let index = if self.hashed {
            java_string_hash(label).unsigned_abs() as usize % len
        } else {
            let index = self.next % len;
            self.next = (index + 1) % len;
            index
        };
        self.colors.get(index).cloned().unwrap_or_else(|| ("000000".to_string(), 255))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palettes_hold_atlas_values() {
        let armytage = named_palette("armytage").unwrap();
        assert_eq!(armytage.len(), 24);
        assert_eq!(armytage[0], ("0075dc".to_string(), 255));
        assert_eq!(armytage[23], ("ffe100".to_string(), 255));
        assert_eq!(named_palette("reds").unwrap()[0].0, "67000d");
        assert_eq!(named_palette("bw").unwrap()[1], ("cccccc".to_string(), 0xc0));
        for name in PALETTE_NAMES {
            assert!(named_palette(name).is_some_and(|p| p.len() >= 7), "{name}");
        }
        assert!(named_palette("plaid").is_none());
    }

    #[test]
    fn cursors_walk_in_order_or_hash_the_label() {
        let mut reds = PaletteCursor::new("reds").unwrap();
        let walked: Vec<String> = (0..8).map(|_| reds.color_for("x").0).collect();
        assert_eq!(walked[0], "67000d");
        assert_eq!(walked[7], "67000d", "wraps after seven");
        assert_eq!(java_string_hash("sps"), 114_102);
        assert_eq!(java_string_hash(""), 0);
        let mut hashed = PaletteCursor::new("hash:reds").unwrap();
        let first = hashed.color_for("sps");
        assert_eq!(first, hashed.color_for("sps"), "the same label, the same colour");
        assert_eq!(first.0, named_palette("reds").unwrap()[114_102 % 7].0);
        let mut list = PaletteCursor::new("(,f00,00ff00,)").unwrap();
        assert_eq!((list.color_for("a").0, list.color_for("b").0), ("ff0000".into(), "00ff00".into()));
        assert!(PaletteCursor::new("(,zz,)").is_none());
        assert!(PaletteCursor::new("()").is_none());
    }
}
