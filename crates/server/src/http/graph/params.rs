//! The query parameters of `GET /api/v1/graph`, checked and given their defaults.
//!
//! Design decision: parameters are read from the raw pairs (not a serde struct) because Atlas
//! names per-axis options with a numeric suffix (`ylabel.1`, `l.2`, `scale.3`), which a fixed
//! struct cannot express; an unknown parameter is ignored, as Atlas ignores it.

use jiff::tz::TimeZone;
use plumb_chart::{Axis, ColorScale, DEFAULT_HEIGHT, DEFAULT_WIDTH, HeatmapOptions, MAX_AXES, Rgba};

use super::time::{default_step, parse_duration, parse_range, parse_zone};

/// The output formats, as `format=` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A PNG image (the default).
    Png,
    /// An SVG document.
    Svg,
    /// Atlas's graph JSON, NaN written bare.
    Json,
    /// Standard JSON, one object per line with its data array.
    StdJson,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Txt,
    /// Summary statistics per line.
    StatsJson,
}

impl Format {
    fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "png" => Format::Png,
            "svg" => Format::Svg,
            "json" => Format::Json,
            "std.json" => Format::StdJson,
            "csv" => Format::Csv,
            "txt" => Format::Txt,
            "stats.json" => Format::StatsJson,
            _ => return None,
        })
    }

    /// The Content-Type of the response.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
            Format::Json | Format::StdJson | Format::StatsJson => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Txt => "text/plain; charset=utf-8",
        }
    }
}

/// A graph request with every default filled in.
#[derive(Debug, Clone)]
pub struct GraphParams {
    /// The program, `q`.
    pub q: String,
    /// Requested start, epoch ms (`s`, default `e-3h`).
    pub start_ms: i64,
    /// Requested end, epoch ms (`e`, default now).
    pub end_ms: i64,
    /// Step in ms (`step`, default from [`default_step`]).
    pub step_ms: i64,
    /// Zone for civil times and time labels (`tz`, default UTC).
    pub zone: TimeZone,
    /// Plot width in pixels (`w`, default 700).
    pub width: u32,
    /// Plot height in pixels (`h`, default 300).
    pub height: u32,
    /// `title`, default none.
    pub title: Option<String>,
    /// Axis settings by index (`ylabel`, `l`, `u`, `scale`, each with an optional `.N`).
    pub axes: Vec<Axis>,
    /// False with `no_legend=1`.
    pub show_legend: bool,
    /// False with `no_legend_stats=1`.
    pub show_stats: bool,
    /// `format`, default png.
    pub format: Format,
    /// `palette`: the line palette (a name, `hash:` and a name, or `(,f00,0f0,)`); default none,
    /// Atlas's `armytage`.
    pub palette: Option<String>,
    /// `palette.N`: the line palette of axis `N`; default none for every axis.
    pub axis_palettes: Vec<Option<String>>,
    /// `heatmap_palette`, `heatmap_l`, `heatmap_u`, `heatmap_scale`, `heatmap_label`; default
    /// `HeatmapOptions::default()`.
    pub heatmap: HeatmapOptions,
}

impl GraphParams {
    /// Reads the pairs of a query string; `now_ms` is what `now` means.
    pub fn parse(pairs: &[(String, String)], now_ms: i64) -> Result<GraphParams, String> {
        let get = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let q = get("q").filter(|q| !q.trim().is_empty()).ok_or("missing parameter q")?.to_string();
        let zone = parse_zone(get("tz").unwrap_or("UTC"))?;
        let (start_ms, end_ms) = parse_range(get("s"), get("e"), now_ms, &zone)?;
        let size = |key: &str, default: u32| -> Result<u32, String> {
            get(key).map_or(Ok(default), |v| v.parse().map_err(|_| format!("{key}={v:?} is not a whole number")))
        };
        let (width, height) = (size("w", DEFAULT_WIDTH)?, size("h", DEFAULT_HEIGHT)?);
        let step_ms = match get("step") {
            Some(step) => parse_duration(step)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| format!("step={step:?} is not a positive duration"))?,
            None => default_step(end_ms - start_ms, width),
        };
        let format = match get("format") {
            Some(f) => Format::parse(f)
                .ok_or_else(|| format!("format={f:?}: expected png, svg, json, std.json, csv, txt or stats.json"))?,
            None => Format::Png,
        };
        let flag = |key: &str| get(key).is_some_and(|v| v == "1" || v == "true");
        let palette = get("palette").map(|p| check_palette("palette", p)).transpose()?;
        Ok(GraphParams {
            q,
            start_ms,
            end_ms,
            step_ms,
            zone,
            width,
            height,
            title: get("title").map(str::to_string),
            axes: parse_axes(pairs)?,
            show_legend: !flag("no_legend"),
            show_stats: !flag("no_legend_stats"),
            format,
            palette,
            axis_palettes: parse_axis_palettes(pairs)?,
            heatmap: parse_heatmap(&get)?,
        })
    }
}

/// `value` if it names a palette as Atlas takes it, else a message naming `key`.
fn check_palette(key: &str, value: &str) -> Result<String, String> {
    match heatmap_colors(value) {
        Ok(_) => Ok(value.to_string()),
        Err(_) => Err(format!(
            "{key}={value:?}: expected an Atlas palette name (armytage, reds, ...), maybe after hash:, or a list (,f00,00ff00,)"
        )),
    }
}

/// `palette.N` for the axes 0 to 4.
fn parse_axis_palettes(pairs: &[(String, String)]) -> Result<Vec<Option<String>>, String> {
    let mut palettes: Vec<Option<String>> = Vec::new();
    for (key, value) in pairs {
        let Some(index) = key.strip_prefix("palette.") else { continue };
        let index = index
            .parse::<usize>()
            .ok()
            .filter(|i| *i < MAX_AXES)
            .ok_or_else(|| format!("{key}: axis must be 0 to 4"))?;
        if palettes.len() <= index {
            palettes.resize(index + 1, None);
        }
        if let Some(slot) = palettes.get_mut(index) {
            *slot = Some(check_palette(key, value)?);
        }
    }
    Ok(palettes)
}

/// The colours of a palette as Atlas's parameters give it (a name, `hash:` and a name, or a
/// list), in the order given; for a `heatmap_palette` the first is for the fewest counts.
fn heatmap_colors(value: &str) -> Result<Vec<Rgba>, String> {
    let name = value.strip_prefix("hash:").unwrap_or(value);
    let list: Option<Vec<String>> = match name.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
        Some(inner) => Some(inner.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()),
        None => plumb_atlas::named_palette(name)
            .map(|colors| colors.into_iter().map(|(rgb, alpha)| format!("{alpha:02x}{rgb}")).collect()),
    };
    let colors: Option<Vec<Rgba>> = list.and_then(|l| l.iter().map(|c| Rgba::parse_hex(c)).collect());
    colors.filter(|c| !c.is_empty()).ok_or_else(|| format!("heatmap_palette={value:?} is not a palette"))
}

/// Atlas's heat map parameters.
fn parse_heatmap<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<HeatmapOptions, String> {
    let bound = |key: &str| -> Result<Option<f64>, String> {
        get(key)
            .map(|v| {
                v.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{key}={v:?} is not a number"))
            })
            .transpose()
    };
    let (lower, upper) = (bound("heatmap_l")?, bound("heatmap_u")?);
    if let (Some(l), Some(u)) = (lower, upper)
        && l >= u
    {
        return Err(format!("heatmap_l={l} must be below heatmap_u={u}"));
    }
    let scale = match get("heatmap_scale") {
        None | Some("linear") => ColorScale::Linear,
        // Atlas's log-linear is logarithmic by decade and linear within one; for counts the
        // difference is slight, so it draws as log.
        Some("log" | "log-linear") => ColorScale::Logarithmic,
        Some("pow2") => ColorScale::Power2,
        Some("sqrt") => ColorScale::Sqrt,
        Some(other) => return Err(format!("heatmap_scale={other:?}: expected linear, log, log-linear, pow2 or sqrt")),
    };
    Ok(HeatmapOptions {
        palette: get("heatmap_palette").map(heatmap_colors).transpose()?,
        lower,
        upper,
        scale,
        label: get("heatmap_label").map(str::to_string),
    })
}

/// `ylabel`, `l`, `u` and `scale`, bare for axis 0 or suffixed `.N` for axis N.
fn parse_axes(pairs: &[(String, String)]) -> Result<Vec<Axis>, String> {
    let mut axes: Vec<Axis> = Vec::new();
    for (key, value) in pairs {
        let (name, index) = match key.split_once('.') {
            Some((name, n)) => (name, n.parse::<usize>().map_err(|_| format!("{key}: axis must be 0 to 4"))?),
            None => (key.as_str(), 0),
        };
        if !["ylabel", "l", "u", "scale"].contains(&name) {
            continue;
        }
        if index >= MAX_AXES {
            return Err(format!("{key}: axis must be 0 to {}", MAX_AXES - 1));
        }
        if axes.len() <= index {
            axes.resize(index + 1, Axis::default());
        }
        let Some(axis) = axes.get_mut(index) else { continue };
        let bound = || value.parse::<f64>().map_err(|_| format!("{key}={value:?} is not a number"));
        match name {
            "ylabel" => axis.label = Some(value.clone()),
            "l" => axis.lower = Some(bound()?),
            "u" => axis.upper = Some(bound()?),
            _ => {
                axis.logarithmic = match value.as_str() {
                    "log" => true,
                    "linear" => false,
                    other => return Err(format!("{key}={other:?}: expected linear or log")),
                }
            }
        }
    }
    Ok(axes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const NOW: i64 = 1_392_901_200_000;

    #[test]
    fn defaults() {
        let p = GraphParams::parse(&pairs(&[("q", "name,x,:eq")]), NOW).unwrap();
        assert_eq!((p.start_ms, p.end_ms, p.step_ms), (NOW - 10_800_000, NOW, 60_000));
        assert_eq!((p.width, p.height, p.format), (700, 300, Format::Png));
        assert!(p.show_legend && p.show_stats && p.title.is_none() && p.axes.is_empty());
        assert!(p.palette.is_none() && p.axis_palettes.is_empty() && p.heatmap == HeatmapOptions::default());
    }

    #[test]
    fn palettes_and_heatmap_options() {
        let p = GraphParams::parse(
            &pairs(&[
                ("q", "a,b,:eq"),
                ("palette", "hash:reds"),
                ("palette.2", "(,f00,00ff00,)"),
                ("heatmap_palette", "(,8cd1b9,46adbc,)"),
                ("heatmap_l", "1.2"),
                ("heatmap_u", "1.3"),
                ("heatmap_scale", "sqrt"),
                ("heatmap_label", "SPS"),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!(p.palette.as_deref(), Some("hash:reds"));
        assert_eq!(p.axis_palettes, [None, None, Some("(,f00,00ff00,)".to_string())]);
        assert_eq!(p.heatmap.palette, Some(vec![Rgba::rgb(0x8c, 0xd1, 0xb9), Rgba::rgb(0x46, 0xad, 0xbc)]));
        assert_eq!((p.heatmap.lower, p.heatmap.upper), (Some(1.2), Some(1.3)));
        assert_eq!((p.heatmap.scale, p.heatmap.label.as_deref()), (ColorScale::Sqrt, Some("SPS")));
        let reds = GraphParams::parse(&pairs(&[("q", "a"), ("heatmap_palette", "reds")]), NOW).unwrap();
        assert_eq!(reds.heatmap.palette.map(|p| p[0]), Some(Rgba::rgb(0x67, 0x00, 0x0d)));
        let bw = GraphParams::parse(&pairs(&[("q", "a"), ("heatmap_palette", "bw")]), NOW).unwrap();
        assert_eq!(bw.heatmap.palette.map(|p| p[1]), Some(Rgba { r: 0xcc, g: 0xcc, b: 0xcc, a: 0xc0 }));
    }

    #[test]
    fn every_option() {
        let p = GraphParams::parse(
            &pairs(&[
                ("q", "a,b,:eq"),
                ("s", "e-1h"),
                ("e", "2014-02-20T13:00"),
                ("step", "5m"),
                ("w", "400"),
                ("h", "200"),
                ("title", "T"),
                ("ylabel", "left"),
                ("ylabel.1", "right"),
                ("l.1", "0"),
                ("u", "10.5"),
                ("scale.2", "log"),
                ("no_legend", "1"),
                ("no_legend_stats", "1"),
                ("format", "stats.json"),
            ]),
            0,
        )
        .unwrap();
        assert_eq!((p.start_ms, p.end_ms, p.step_ms), (NOW - 3_600_000, NOW, 300_000));
        assert_eq!((p.width, p.height, p.title.as_deref()), (400, 200, Some("T")));
        assert_eq!(p.axes.len(), 3);
        assert_eq!((p.axes[0].label.as_deref(), p.axes[0].upper), (Some("left"), Some(10.5)));
        assert_eq!((p.axes[1].label.as_deref(), p.axes[1].lower), (Some("right"), Some(0.0)));
        assert!(p.axes[2].logarithmic && !p.axes[0].logarithmic);
        assert!(!p.show_legend && !p.show_stats);
        assert_eq!(p.format, Format::StatsJson);
    }

    #[test]
    fn refusals_name_the_parameter() {
        let err = |list: &[(&str, &str)]| GraphParams::parse(&pairs(list), NOW).unwrap_err();
        assert!(err(&[]).contains("q"));
        assert!(err(&[("q", "a"), ("w", "wide")]).contains("w="));
        assert!(err(&[("q", "a"), ("step", "0m")]).contains("step="));
        assert!(err(&[("q", "a"), ("format", "gif")]).contains("format="));
        assert!(err(&[("q", "a"), ("l.7", "1")]).contains("l.7"));
        assert!(err(&[("q", "a"), ("scale", "cubic")]).contains("scale"));
        assert!(err(&[("q", "a"), ("tz", "Nowhere/Land")]).contains("Nowhere/Land"));
        assert!(err(&[("q", "a"), ("palette", "plaid")]).contains("palette="));
        assert!(err(&[("q", "a"), ("palette.9", "reds")]).contains("palette.9"));
        assert!(err(&[("q", "a"), ("heatmap_palette", "(,zz,)")]).contains("heatmap_palette"));
        assert!(err(&[("q", "a"), ("heatmap_l", "2"), ("heatmap_u", "1")]).contains("heatmap_l"));
        assert!(err(&[("q", "a"), ("heatmap_scale", "cubic")]).contains("heatmap_scale"));
    }
}
