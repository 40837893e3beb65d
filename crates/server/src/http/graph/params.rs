//! The query parameters of `GET /api/v1/graph`, checked and given their defaults.
//!
//! Design decision: parameters are read from the raw pairs (not a serde struct) because Atlas
//! names per-axis options with a numeric suffix (`ylabel.1`, `l.2`, `scale.3`), which a fixed
//! struct cannot express; an unknown parameter is ignored, as Atlas ignores it.

use jiff::tz::TimeZone;
use plumb_chart::{Axis, DEFAULT_HEIGHT, DEFAULT_WIDTH, MAX_AXES};

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
        })
    }
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
    }
}
