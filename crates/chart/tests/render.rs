//! End-to-end tests of the two outputs: decoded PNGs, parsed-by-eye SVG, random charts.
//!
//! Design decision: the PNG is checked by decoding it with the `png` crate and looking at
//! pixels (size, a line's exact color present, no foreign colors), not by comparing bytes with a
//! stored image, so a change in anti-aliasing or the font rasterizer does not fail the tests
//! while a missing line or a wrong size does. Example images are written to a temp directory
//! (`$TMPDIR/plumb-chart-examples`) for a person to look at, never into the repository.

use plumb_chart::{Axis, Chart, ChartError, Line, PALETTE, Rgba, Style, render_png, render_svg};
use proptest::prelude::*;

/// 2012-01-01T09:00Z, the end of Atlas's documentation examples.
const END_MS: i64 = 1_325_408_400_000;
const MINUTE: i64 = 60_000;

fn wave(count: usize, scale: f64, phase: f64) -> Vec<f64> {
    (0..count).map(|i| scale * (1.2 + (i as f64 / 15.0 + phase).sin())).collect()
}

fn three_hours(lines: Vec<Line>) -> Chart {
    Chart { start_ms: END_MS - 180 * MINUTE, end_ms: END_MS, step_ms: MINUTE, lines, ..Chart::default() }
}

struct Decoded {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Decoded {
    fn has_color(&self, color: Rgba) -> bool {
        self.rgba.chunks_exact(4).any(|p| p == [color.r, color.g, color.b, 255])
    }
}

fn decode(bytes: &[u8]) -> Decoded {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buffer.truncate(info.buffer_size());
    Decoded { width: info.width, height: info.height, rgba: buffer }
}

fn example_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("plumb-chart-examples");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample_chart() -> Chart {
    let mut requests = wave(181, 1500.0, 0.0);
    requests[40] = f64::NAN;
    requests[41] = f64::NAN;
    three_hours(vec![
        Line { label: "requests/s (cluster a)".into(), values: requests, line_width: 2.0, ..Line::default() },
        Line { label: "requests/s (cluster b)".into(), values: wave(181, 900.0, 1.5), ..Line::default() },
        Line {
            label: "latency".into(),
            values: wave(181, 0.25, 3.0),
            axis: 1,
            color: Some(Rgba::rgb(0x80, 0x00, 0x80)),
            ..Line::default()
        },
        Line {
            label: "deploy".into(),
            values: (0..181).map(|i| if (100..115).contains(&i) { 1.0 } else { 0.0 }).collect(),
            style: Style::VSpan,
            color: Some(Rgba { r: 0xff, g: 0xa0, b: 0x00, a: 0x40 }),
            ..Line::default()
        },
    ])
}

#[test]
fn png_has_the_announced_size_and_the_line_colors() {
    let mut chart = sample_chart();
    chart.title = Some("Requests <per> second & latency".into());
    chart.axes = vec![
        Axis { label: Some("requests/s".into()), ..Axis::default() },
        Axis { label: Some("seconds".into()), ..Axis::default() },
    ];
    let layout = plumb_chart::layout::layout(&chart);
    let bytes = render_png(&chart).unwrap();
    std::fs::write(example_dir().join("multi-axis.png"), &bytes).unwrap();
    let image = decode(&bytes);
    assert_eq!((image.width, image.height), (layout.width, layout.height));
    assert!(image.width > 700 && image.height > 300);
    assert!(image.has_color(PALETTE[0]), "the first line's red is drawn");
    assert!(image.has_color(PALETTE[1]), "the second line's green is drawn");
    assert!(image.has_color(Rgba::rgb(0x80, 0x00, 0x80)), "the explicit purple is drawn");
    assert!(!image.has_color(PALETTE[2]), "no third palette color is used");
    let corner = &image.rgba[..4];
    assert_eq!(corner, [255, 255, 255, 255], "white background");
}

#[test]
fn svg_has_title_labels_and_a_path_per_line() {
    let mut chart = sample_chart();
    chart.title = Some("Requests <per> second & latency".into());
    let svg = render_svg(&chart).unwrap();
    std::fs::write(example_dir().join("multi-axis.svg"), &svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">Requests &lt;per&gt; second &amp; latency</text>"));
    for label in ["requests/s (cluster a)", "requests/s (cluster b)", "latency", "deploy"] {
        assert!(svg.contains(&format!(">{label}</text>")), "legend label {label}");
    }
    for time in ["06:00", "07:30", "09:00"] {
        assert!(svg.contains(&format!(">{time}</text>")), "time label {time}");
    }
    assert!(svg.contains(">Max : "), "stats rows");
    let strokes = svg.matches("<path d=\"M").count();
    assert_eq!(strokes, 3, "one path per line, the span is rectangles");
    assert!(svg.contains(&format!("stroke=\"{}\"", PALETTE[0].to_hex_rgb())));
    assert!(svg.contains("stroke=\"#800080\""));
    assert!(svg.contains("fill=\"#ffa000\" fill-opacity=\"0.25\""), "the span keeps its alpha");
    assert!(svg.contains("clip-path=\"url(#plot)\""));
}

#[test]
fn areas_and_stacks_render_in_both_formats() {
    let chart = Chart {
        title: Some("Stacked".into()),
        time_zone: jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(-8 * 3600).unwrap()),
        show_stats: false,
        ..three_hours(vec![
            Line { label: "a".into(), values: wave(181, 10.0, 0.0), style: Style::Stack, ..Line::default() },
            Line { label: "b".into(), values: wave(181, 20.0, 1.0), style: Style::Stack, ..Line::default() },
            Line { label: "c".into(), values: wave(181, -5.0, 2.0), style: Style::Area, ..Line::default() },
        ])
    };
    let bytes = render_png(&chart).unwrap();
    std::fs::write(example_dir().join("stack.png"), &bytes).unwrap();
    let image = decode(&bytes);
    for color in &PALETTE[..3] {
        assert!(image.has_color(*color), "{color:?} filled");
    }
    let svg = render_svg(&chart).unwrap();
    assert_eq!(svg.matches("<path d=\"M").count(), 3);
    assert!(svg.contains(">22:00</text>"), "labels in UTC-8");
}

#[test]
fn heatmaps_fill_cells_in_both_formats_and_take_one_legend_entry() {
    // Twenty lines near 100 and two near 300: the cells around 100 hold the largest count and
    // take the darkest (opaque) colour of the gradient of the first palette colour.
    let mut lines: Vec<Line> = (0..20)
        .map(|i| Line {
            label: format!("node {i}"),
            values: wave(181, 50.0, f64::from(i) * 0.01),
            style: Style::Heatmap,
            ..Line::default()
        })
        .collect();
    lines.push(Line { label: "high".into(), values: vec![300.0; 181], style: Style::Heatmap, ..Line::default() });
    lines.push(Line { label: "plain".into(), values: vec![200.0; 181], ..Line::default() });
    let chart = Chart {
        heatmap: plumb_chart::HeatmapOptions { label: Some("SPS heat".into()), ..Default::default() },
        ..three_hours(lines)
    };
    let bytes = render_png(&chart).unwrap();
    std::fs::write(example_dir().join("heatmap.png"), &bytes).unwrap();
    let image = decode(&bytes);
    assert!(image.has_color(PALETTE[0]), "the fullest cells are opaque palette[0]");
    assert!(image.has_color(PALETTE[1]), "the plain line takes the next colour");
    let svg = render_svg(&chart).unwrap();
    assert!(svg.contains(">SPS heat</text>"), "one entry for the heat map");
    assert!(!svg.contains(">node 3</text>"), "heat map lines are not listed");
    assert!(svg.contains(">plain</text>"));
    assert!(svg.contains(&format!("fill=\"{}\" fill-opacity=\"0.2\"", PALETTE[0].to_hex_rgb())), "lightest cells");
    let layout = plumb_chart::layout::layout(&chart);
    let (_, heatmap) = &layout.heatmaps[0];
    assert_eq!(heatmap.counts.len(), 180);
    assert_eq!(heatmap.counts.iter().map(|c| c.iter().sum::<f64>()).sum::<f64>(), 21.0 * 180.0);
}

#[test]
fn no_data_renders_a_message() {
    let chart = three_hours(Vec::new());
    let bytes = render_png(&chart).unwrap();
    std::fs::write(example_dir().join("no-data.png"), &bytes).unwrap();
    let image = decode(&bytes);
    assert_eq!((image.width, image.height), {
        let layout = plumb_chart::layout::layout(&chart);
        (layout.width, layout.height)
    });
    assert!(render_svg(&chart).unwrap().contains(">No data</text>"));
}

#[test]
fn all_nan_and_constant_lines_render() {
    let chart = three_hours(vec![
        Line { label: "gaps".into(), values: vec![f64::NAN; 181], ..Line::default() },
        Line { label: "flat".into(), values: vec![42.0; 181], ..Line::default() },
    ]);
    let svg = render_svg(&chart).unwrap();
    assert!(svg.contains(">Max : NaN  Min : NaN  Avg : NaN  Last : NaN</text>"));
    assert!(svg.contains(">Max : 42.0  Min : 42.0  Avg : 42.0  Last : 42.0</text>"));
    assert!(svg.contains(">40</text>"), "ticks around the constant");
    let image = decode(&render_png(&chart).unwrap());
    assert!(image.has_color(PALETTE[1]));
}

#[test]
fn out_of_limit_charts_are_refused() {
    let wide = Chart { width: 4001, ..Chart::default() };
    assert!(matches!(render_png(&wide), Err(ChartError::InvalidSize { dimension: "width", .. })));
    assert!(matches!(render_svg(&wide), Err(ChartError::InvalidSize { .. })));
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1.0e6f64..1.0e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => proptest::num::f64::ANY,
    ]
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![Just(Style::Line), Just(Style::Area), Just(Style::Stack), Just(Style::VSpan), Just(Style::Heatmap)]
}

fn line() -> impl Strategy<Value = Line> {
    let bucket = proptest::option::of((value(), value()));
    (proptest::collection::vec(value(), 0..120), style(), 0usize..5, "\\PC{0,30}", 0.0f32..5.0, bucket).prop_map(
        |(values, style, axis, label, line_width, bucket_range)| Line {
            label,
            values,
            style,
            axis,
            line_width,
            color: None,
            bucket_range,
        },
    )
}

fn chart() -> impl Strategy<Value = Chart> {
    (
        1u32..900,
        1u32..500,
        -1_000_000_000_000i64..4_000_000_000_000,
        1i64..30 * 86_400_000,
        1i64..3_600_000,
        proptest::collection::vec(line(), 0..6),
        proptest::option::of("\\PC{0,40}"),
        any::<(bool, bool, bool)>(),
        proptest::option::of(value()),
        proptest::option::of(value()),
    )
        .prop_map(|(width, height, start_ms, range, step_ms, lines, title, flags, lower, upper)| Chart {
            title,
            width,
            height,
            start_ms,
            end_ms: start_ms + range,
            step_ms,
            axes: vec![Axis { label: Some("y".into()), lower, upper, logarithmic: flags.2 }],
            lines,
            show_legend: flags.0,
            show_stats: flags.1,
            ..Chart::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_charts_render_at_the_announced_size(chart in chart()) {
        let layout = plumb_chart::layout::layout(&chart);
        let image = decode(&render_png(&chart).unwrap());
        prop_assert_eq!((image.width, image.height), (layout.width, layout.height));
        prop_assert!(image.width >= chart.width && image.height >= chart.height);
        let svg = render_svg(&chart).unwrap();
        let announced = format!("width=\"{}\" height=\"{}\"", layout.width, layout.height);
        prop_assert!(svg.contains(&announced));
        prop_assert!(!svg.contains("NaN\"") && !svg.contains("inf\""));
    }
}
