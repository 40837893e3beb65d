//! The graph's text and data outputs (`json`, `std.json`, `csv`, `txt`, `stats.json`) and the
//! [`Chart`] handed to plumb-chart for `png` and `svg`.
//!
//! Design decision: JSON is written by hand rather than through `serde_json::Value`, because
//! Atlas's `format=json` writes NaN bare (`[1.0,NaN]`, not standard JSON, as Atlas documents);
//! `std.json` and `stats.json` are standard JSON and write non-finite numbers as the strings
//! `"NaN"`, `"Infinity"`, `"-Infinity"`. Strings are escaped by `serde_json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::tz::TimeZone;
use plumb_atlas::TimeSeries;
use plumb_chart::{Chart, Line};

use super::params::GraphParams;

/// The evaluated grid and its lines.
pub struct Evaluated {
    /// First grid time, epoch ms.
    pub start_ms: i64,
    /// Step, ms.
    pub step_ms: i64,
    /// One past the last grid time, epoch ms.
    pub end_ms: i64,
    /// The lines, in drawing order, each labelled with its legend.
    pub lines: Vec<TimeSeries>,
    /// How each line is drawn (png and svg); missing entries draw as plain lines.
    pub looks: Vec<Look>,
}

/// How a line is drawn, from its style words.
#[derive(Debug, Clone, Default)]
pub struct Look {
    /// `:color` / `:palette` / `:alpha`; none lets the chart pick.
    pub color: Option<plumb_chart::Rgba>,
    /// `:area`, `:stack`, `:vspan`, `:line`.
    pub style: plumb_chart::Style,
    /// `:lw`.
    pub line_width: f32,
    /// `:axis`.
    pub axis: usize,
    /// For a heat map line of a percentile series, its bucket's value range.
    pub bucket_range: Option<(f64, f64)>,
}

/// The value range of the percentile bucket a `percentile` tag names, as Atlas's heat maps
/// read it: `T00XX` in seconds (the bucket bounds are nanoseconds), `D00XX` as is; bucket `i`
/// spans from bucket `i - 1`'s bound (0 for the first) to its own.
pub fn percentile_bucket_range(tags: &BTreeMap<String, String>) -> Option<(f64, f64)> {
    let tag = tags.get("percentile")?;
    let (scale, hex) = match tag.split_at_checked(1)? {
        ("T", hex) => (1e9, hex),
        ("D", hex) => (1.0, hex),
        _ => return None,
    };
    if hex.len() != 4 {
        return None;
    }
    let index = usize::from_str_radix(hex, 16).ok()?;
    if index > plumb_atlas::bucket_index(i64::MAX) {
        return None;
    }
    let min = if index == 0 { 0 } else { plumb_atlas::bucket_value(index - 1) };
    Some((min as f64 / scale, plumb_atlas::bucket_value(index) as f64 / scale))
}

/// A styled line as the graph outputs take it: the series labelled with its legend, and how to
/// draw it.
pub fn split_style(s: plumb_atlas::StyledSeries) -> (TimeSeries, Look) {
    let mut series = s.series;
    series.label = s.legend;
    let color = plumb_chart::Rgba::parse_hex(&s.color).map(|c| plumb_chart::Rgba { a: s.alpha, ..c });
    let style = match s.kind {
        plumb_atlas::LineKind::Area => plumb_chart::Style::Area,
        plumb_atlas::LineKind::Stack => plumb_chart::Style::Stack,
        plumb_atlas::LineKind::VSpan => plumb_chart::Style::VSpan,
        plumb_atlas::LineKind::HeatMap => plumb_chart::Style::Heatmap,
        plumb_atlas::LineKind::Line => plumb_chart::Style::Line,
    };
    let bucket_range = if style == plumb_chart::Style::Heatmap { percentile_bucket_range(&series.tags) } else { None };
    (series, Look { color, style, line_width: s.line_width, axis: s.axis, bucket_range })
}

impl Evaluated {
    fn rows(&self) -> usize {
        self.lines.first().map_or(0, |l| l.values.len())
    }
}

/// A number as Atlas's JSON writes it: finite as JSON, NaN and infinities bare.
fn bare_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        serde_json::to_string(&v).unwrap_or_else(|_| "NaN".into())
    }
}

/// A JSON document written into one buffer: no string per number, no joins. Writing to a
/// `Vec` cannot fail, so the writers' results are dropped.
struct JsonOut(Vec<u8>);

impl JsonOut {
    fn with_capacity(bytes: usize) -> Self {
        JsonOut(Vec::with_capacity(bytes))
    }

    fn raw(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    fn int(&mut self, v: i64) {
        let _ = std::io::Write::write_fmt(&mut self.0, format_args!("{v}"));
    }

    fn string(&mut self, text: &str) {
        let _ = serde_json::to_writer(&mut self.0, text);
    }

    /// A number as [`bare_number`] (`quoted` false) or [`std_number`] (`quoted` true) writes it.
    fn number(&mut self, v: f64, quoted: bool) {
        if v.is_finite() {
            let _ = serde_json::to_writer(&mut self.0, &v);
            return;
        }
        let word = if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        if quoted {
            self.0.push(b'"');
            self.raw(word);
            self.0.push(b'"');
        } else {
            self.raw(word);
        }
    }

    fn tags(&mut self, tags: &BTreeMap<String, String>) {
        self.0.push(b'{');
        for (i, (k, v)) in tags.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            self.string(k);
            self.0.push(b':');
            self.string(v);
        }
        self.0.push(b'}');
    }

    /// `[item,item,...]`, each item written by `write`.
    fn list<T>(&mut self, items: impl IntoIterator<Item = T>, mut write: impl FnMut(&mut Self, T)) {
        self.0.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            write(self, item);
        }
        self.0.push(b']');
    }
}

/// A first guess of an answer's size: about 24 bytes per value and 128 per line.
fn capacity(data: &Evaluated) -> usize {
    data.lines.iter().map(|l| 128 + 24 * l.values.len()).sum::<usize>() + 128
}

/// Atlas's graph JSON: start, step, legend, metrics (tags), values (a row per time), notices.
pub fn json(data: &Evaluated) -> Vec<u8> {
    let mut out = JsonOut::with_capacity(capacity(data));
    out.raw("{\"start\":");
    out.int(data.start_ms);
    out.raw(",\"step\":");
    out.int(data.step_ms);
    out.raw(",\"legend\":");
    out.list(&data.lines, |out, l| out.string(&l.label));
    out.raw(",\"metrics\":");
    out.list(&data.lines, |out, l| out.tags(&l.tags));
    out.raw(",\"values\":");
    out.list(0..data.rows(), |out, row| {
        out.list(&data.lines, |out, l| out.number(l.values.get(row).copied().unwrap_or(f64::NAN), false));
    });
    out.raw(",\"notices\":[]}");
    out.0
}

/// Standard JSON: each line with its tags, label and data array.
pub fn std_json(data: &Evaluated) -> Vec<u8> {
    let mut out = JsonOut::with_capacity(capacity(data));
    out.raw("{\"start\":");
    out.int(data.start_ms);
    out.raw(",\"step\":");
    out.int(data.step_ms);
    out.raw(",\"metrics\":");
    out.list(&data.lines, |out, l| {
        out.raw("{\"tags\":");
        out.tags(&l.tags);
        out.raw(",\"label\":");
        out.string(&l.label);
        out.raw(",\"data\":{\"type\":\"array\",\"values\":");
        out.list(&l.values, |out, v| out.number(*v, true));
        out.raw("}}");
    });
    out.0.push(b'}');
    out.0
}

/// Count of non-NaN values, their average, total, maximum, minimum, and the last non-NaN value.
pub fn line_stats(values: &[f64]) -> [(&'static str, f64); 6] {
    let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let total: f64 = present.iter().sum();
    let count = present.len();
    let (max, min) = present.iter().fold((f64::NAN, f64::NAN), |(max, min), &v| (v.max(max), v.min(min)));
    let avg = if count == 0 { f64::NAN } else { total / count as f64 };
    let total = if count == 0 { f64::NAN } else { total };
    let last = present.last().copied().unwrap_or(f64::NAN);
    [("count", count as f64), ("avg", avg), ("total", total), ("max", max), ("min", min), ("last", last)]
}

/// Per line: its legend, tags and statistics.
pub fn stats_json(data: &Evaluated) -> Vec<u8> {
    let mut out = JsonOut::with_capacity(256 * (data.lines.len() + 1));
    out.raw("{\"start\":");
    out.int(data.start_ms);
    out.raw(",\"end\":");
    out.int(data.end_ms);
    out.raw(",\"step\":");
    out.int(data.step_ms);
    out.raw(",\"legend\":");
    out.list(&data.lines, |out, l| out.string(&l.label));
    out.raw(",\"metrics\":");
    out.list(&data.lines, |out, l| out.tags(&l.tags));
    out.raw(",\"stats\":");
    out.list(&data.lines, |out, l| {
        out.0.push(b'{');
        for (i, (name, v)) in line_stats(&l.values).into_iter().enumerate() {
            if i > 0 {
                out.0.push(b',');
            }
            out.string(name);
            out.0.push(b':');
            out.number(v, true);
        }
        out.0.push(b'}');
    });
    out.0.push(b'}');
    out.0
}

/// `csv` (`separator` `,`) or `txt` (`\t`): a quoted header of `timestamp` and the labels, then
/// a row per time with the ISO time in `zone` and each value to six decimals.
pub fn delimited(data: &Evaluated, separator: char, zone: &TimeZone) -> String {
    let mut out = String::from("\"timestamp\"");
    for line in &data.lines {
        let _ = write!(out, "{separator}\"{}\"", line.label.replace('"', "\"\""));
    }
    out.push('\n');
    for row in 0..data.rows() {
        let t = data.start_ms.saturating_add(data.step_ms.saturating_mul(row as i64));
        out.push_str(&iso_time(t, zone));
        for line in &data.lines {
            let v = line.values.get(row).copied().unwrap_or(f64::NAN);
            let _ = if v.is_finite() {
                write!(out, "{separator}{v:.6}")
            } else {
                write!(out, "{separator}{}", bare_number(v))
            };
        }
        out.push('\n');
    }
    out
}

/// `2012-01-01T08:56:00Z` in UTC, `2012-01-01T03:56:00-05:00` elsewhere.
fn iso_time(ms: i64, zone: &TimeZone) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else { return ms.to_string() };
    if zone == &TimeZone::UTC {
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    ts.to_zoned_datetime(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The chart plumb-chart draws for `png` and `svg`.
pub fn chart(data: Evaluated, params: &GraphParams) -> Chart {
    Chart {
        title: params.title.clone(),
        width: params.width,
        height: params.height,
        start_ms: data.start_ms,
        end_ms: data.end_ms,
        step_ms: data.step_ms,
        time_zone: params.zone.clone(),
        axes: params.axes.clone(),
        lines: data
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let look = data.looks.get(i).cloned().unwrap_or_default();
                let line_width = if look.line_width > 0.0 { look.line_width } else { 1.0 };
                Line {
                    label: l.label,
                    values: l.values,
                    style: look.style,
                    color: look.color,
                    line_width,
                    axis: look.axis,
                    bucket_range: look.bucket_range,
                }
            })
            .collect(),
        show_legend: params.show_legend,
        show_stats: params.show_stats,
        heatmap: params.heatmap.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Evaluated {
        let tags = BTreeMap::from([("name".to_string(), "x".to_string())]);
        Evaluated {
            start_ms: 60_000,
            step_ms: 60_000,
            end_ms: 240_000,
            lines: vec![
                TimeSeries { tags: tags.clone(), label: "sum(name=x)".into(), values: vec![1.0, f64::NAN, 2.5] },
                TimeSeries { tags: BTreeMap::new(), label: "a \"b\"".into(), values: vec![0.0, 3.0, f64::INFINITY] },
            ],
            looks: Vec::new(),
        }
    }

    #[test]
    fn style_words_reach_the_chart_and_the_legend_labels_every_format() {
        use plumb_atlas::{EvalContext, Interpreter, Query, RawSeries, Source};
        struct One;
        impl Source for One {
            fn fetch(&self, _: &Query, _: i64, _: i64) -> Result<Vec<RawSeries>, String> {
                let tags =
                    BTreeMap::from([("name".to_string(), "cpu".to_string()), ("node".to_string(), "i-1".to_string())]);
                Ok(vec![RawSeries { tags, timestamps: vec![60_000, 120_000], values: vec![1.0, 2.0] }])
            }
        }
        let ctx = EvalContext::new(60_000, 180_000, 60_000).unwrap();
        let program = "name,cpu,:eq,(,node,),:by,$node,:legend,f00,:color,80,:alpha,3,:lw,:stack,1,:axis";
        let styled = Interpreter::default().evaluate_styled(program, &ctx, &One).unwrap();
        let (lines, looks): (Vec<_>, Vec<_>) = styled.into_iter().map(split_style).unzip();
        assert_eq!(lines[0].label, "i-1");
        let data = Evaluated { start_ms: 60_000, step_ms: 60_000, end_ms: 180_000, lines, looks };
        let text = String::from_utf8(json(&data)).unwrap();
        assert!(text.contains("\"legend\":[\"i-1\"]"), "{text}");
        let params = GraphParams::parse(&[("q".to_string(), ":true".to_string())], 200_000).unwrap();
        let line = chart(data, &params).lines.remove(0);
        assert_eq!(line.color, Some(plumb_chart::Rgba { r: 255, g: 0, b: 0, a: 0x80 }));
        assert_eq!((line.style, line.line_width, line.axis), (plumb_chart::Style::Stack, 3.0, 1));
    }

    #[test]
    fn percentile_tags_name_their_bucket_range() {
        let tags = |v: &str| BTreeMap::from([("percentile".to_string(), v.to_string())]);
        assert_eq!(percentile_bucket_range(&tags("D0000")), Some((0.0, 1.0)));
        assert_eq!(percentile_bucket_range(&tags("D0004")), Some((4.0, 5.0)));
        let (lo, hi) = percentile_bucket_range(&tags("T0042")).unwrap();
        let want = (plumb_atlas::bucket_value(0x41) as f64 / 1e9, plumb_atlas::bucket_value(0x42) as f64 / 1e9);
        assert_eq!((lo, hi), want);
        for bad in ["X0001", "T1", "TFFFF", "", "T00G1", "é001"] {
            assert_eq!(percentile_bucket_range(&tags(bad)), None, "{bad}");
        }
        assert_eq!(percentile_bucket_range(&BTreeMap::new()), None);
    }

    #[test]
    fn heatmaps_reach_the_chart() {
        use plumb_atlas::{EvalContext, Interpreter, Query, RawSeries, Source};
        struct Buckets;
        impl Source for Buckets {
            fn fetch(&self, _: &Query, _: i64, _: i64) -> Result<Vec<RawSeries>, String> {
                Ok(["T0010", "T0011"]
                    .iter()
                    .map(|p| RawSeries {
                        tags: BTreeMap::from([
                            ("name".to_string(), "lat".to_string()),
                            ("percentile".to_string(), p.to_string()),
                        ]),
                        timestamps: vec![60_000, 120_000],
                        values: vec![1.0, 2.0],
                    })
                    .collect())
            }
        }
        let ctx = EvalContext::new(60_000, 180_000, 60_000).unwrap();
        let styled =
            Interpreter::default().evaluate_styled("name,lat,:eq,:percentiles-heatmap", &ctx, &Buckets).unwrap();
        let (lines, looks): (Vec<_>, Vec<_>) = styled.into_iter().map(split_style).unzip();
        assert_eq!(looks.len(), 2);
        assert!(looks.iter().all(|l| l.style == plumb_chart::Style::Heatmap && l.bucket_range.is_some()));
        assert_eq!(looks[0].color, looks[1].color, "one colour for the heat map");
        let pairs = [("q".to_string(), ":true".to_string()), ("heatmap_label".to_string(), "lat".to_string())];
        let params = GraphParams::parse(&pairs, 200_000).unwrap();
        let data = Evaluated { start_ms: 60_000, step_ms: 60_000, end_ms: 180_000, lines, looks };
        let chart = chart(data, &params);
        assert_eq!(chart.heatmap.label.as_deref(), Some("lat"));
        assert!(plumb_chart::render_svg(&chart).unwrap().contains(">lat</text>"));
    }

    #[test]
    fn atlas_json_writes_nan_bare() {
        assert_eq!(
            String::from_utf8(json(&sample())).unwrap(),
            r#"{"start":60000,"step":60000,"legend":["sum(name=x)","a \"b\""],"metrics":[{"name":"x"},{}],"values":[[1.0,0.0],[NaN,3.0],[2.5,Infinity]],"notices":[]}"#
        );
    }

    #[test]
    fn std_json_is_standard() {
        let text = std_json(&sample());
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            r#"{"start":60000,"step":60000,"metrics":[{"tags":{"name":"x"},"label":"sum(name=x)","data":{"type":"array","values":[1.0,"NaN",2.5]}},{"tags":{},"label":"a \"b\"","data":{"type":"array","values":[0.0,3.0,"Infinity"]}}]}"#
        );
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["metrics"][0]["data"]["values"], serde_json::json!([1.0, "NaN", 2.5]));
        assert_eq!(v["metrics"][0]["label"], "sum(name=x)");
        assert_eq!(v["metrics"][1]["data"]["values"][2], "Infinity");
    }

    #[test]
    fn stats_skip_nan() {
        let v: serde_json::Value = serde_json::from_slice(&stats_json(&sample())).unwrap();
        assert_eq!(
            v["stats"][0],
            serde_json::json!({"count": 2.0, "avg": 1.75, "total": 3.5, "max": 2.5, "min": 1.0, "last": 2.5})
        );
        let empty = line_stats(&[f64::NAN]);
        assert_eq!(empty[0], ("count", 0.0));
        assert!(empty[1].1.is_nan() && empty[5].1.is_nan());
    }

    #[test]
    fn csv_and_txt() {
        assert_eq!(
            delimited(&sample(), ',', &TimeZone::UTC),
            "\"timestamp\",\"sum(name=x)\",\"a \"\"b\"\"\"\n\
             1970-01-01T00:01:00Z,1.000000,0.000000\n\
             1970-01-01T00:02:00Z,NaN,3.000000\n\
             1970-01-01T00:03:00Z,2.500000,Infinity\n"
        );
        let txt = delimited(&sample(), '\t', &TimeZone::fixed(jiff::tz::offset(-5)));
        assert!(txt.contains("1969-12-31T19:01:00-05:00\t1.000000\t0.000000\n"), "{txt}");
    }

    proptest::proptest! {
        /// Any tags, labels and values give standard JSON that reads back to the same lines.
        #[test]
        fn std_json_reads_back(
            tags in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..4),
            label in ".{0,10}",
            values in proptest::collection::vec(proptest::num::f64::ANY, 0..20),
        ) {
            let line = TimeSeries { tags: tags.clone(), label: label.clone(), values: values.clone() };
            let data = Evaluated { start_ms: -5, step_ms: 7, end_ms: 9, lines: vec![line], looks: Vec::new() };
            let v: serde_json::Value = serde_json::from_slice(&std_json(&data)).unwrap();
            proptest::prop_assert_eq!(&v["start"], &serde_json::json!(-5));
            let metric = &v["metrics"][0];
            proptest::prop_assert_eq!(&metric["tags"], &serde_json::to_value(&tags).unwrap());
            proptest::prop_assert_eq!(&metric["label"], &serde_json::json!(label));
            let got = metric["data"]["values"].as_array().unwrap();
            proptest::prop_assert_eq!(got.len(), values.len());
            for (g, want) in got.iter().zip(&values) {
                match g.as_str() {
                    Some(word) => proptest::prop_assert_eq!(word, if want.is_nan() { "NaN" } else if *want > 0.0 { "Infinity" } else { "-Infinity" }),
                    None => proptest::prop_assert_eq!(g.as_f64(), Some(*want)),
                }
            }
            let atlas = String::from_utf8(json(&data)).unwrap();
            proptest::prop_assert!(atlas.starts_with("{\"start\":-5,\"step\":7,\"legend\":["), "{}", atlas);
        }
    }
}
