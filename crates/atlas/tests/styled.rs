//! [`Interpreter::evaluate_styled`] end to end: legends with tag substitution and edits, sort,
//! order and limit within one expression, colours from `:color`, `:palette` and the default
//! palette, line kinds, and styled expressions displaying back to programs that re-parse equal.
//!
//! Design decision: one in-memory source with three clusters whose values differ in every
//! statistic, so a sort by the wrong statistic or in the wrong order shows up as a wrong legend
//! order.

mod common;

use common::MemorySource;
use plumb_atlas::{EvalContext, Interpreter, LineKind, StyledSeries, render_capped};
use proptest::prelude::*;

fn source() -> MemorySource {
    let mut source = MemorySource::default();
    source.add(&[("name", "sps"), ("nf.cluster", "nccp-a")], 60_000, 60_000, &[1.0, 9.0, 2.0]);
    source.add(&[("name", "sps"), ("nf.cluster", "nccp-b")], 60_000, 60_000, &[5.0, 5.0, 5.0]);
    source.add(&[("name", "sps"), ("nf.cluster", "nccp-c")], 60_000, 60_000, &[3.0, 3.0, 8.0]);
    source
}

fn styled(program: &str) -> Vec<StyledSeries> {
    let context = EvalContext::new(60_000, 180_000, 60_000).unwrap();
    Interpreter::default().evaluate_styled(program, &context, &source()).unwrap()
}

fn legends(lines: &[StyledSeries]) -> Vec<&str> {
    lines.iter().map(|l| l.legend.as_str()).collect()
}

#[test]
fn legends_substitute_tags_and_apply_edits_in_order() {
    let lines = styled("name,sps,:eq,(,nf.cluster,),:by,$nf.cluster+$(name),:legend,^nccp-,n,:s,[+],_,:s");
    assert_eq!(legends(&lines), ["na_sps", "nb_sps", "nc_sps"]);
    let lines = styled("name,sps,:eq,:sum,one_21_3F,:legend,hex,:decode");
    assert_eq!(legends(&lines), ["one!?"]);
    let plain = styled("name,sps,:eq,:sum");
    assert_eq!(legends(&plain), ["sum(name=sps)"], "no legend: the label");
}

#[test]
fn sort_order_and_limit_apply_within_an_expression() {
    let by = "name,sps,:eq,(,nf.cluster,),:by,$nf.cluster,:legend";
    assert_eq!(legends(&styled(&format!("{by},max,:sort"))), ["nccp-b", "nccp-c", "nccp-a"]);
    assert_eq!(legends(&styled(&format!("{by},last,:sort,desc,:order"))), ["nccp-c", "nccp-b", "nccp-a"]);
    assert_eq!(legends(&styled(&format!("{by},avg,:sort,desc,:order,2,:limit"))), ["nccp-b", "nccp-c"]);
    assert_eq!(legends(&styled(&format!("{by},desc,:order"))), ["nccp-c", "nccp-b", "nccp-a"]);
    assert_eq!(legends(&styled(&format!("{by},1,:head"))), ["nccp-a"]);
}

#[test]
fn colors_kinds_and_axes() {
    let lines = styled("name,sps,:eq,(,nf.cluster,),:by,f00,:color,40,:alpha,:stack,3,:lw,1,:axis,name,sps,:eq,:sum");
    assert_eq!(lines.len(), 4);
    for line in &lines[..3] {
        assert_eq!(
            (line.color.as_str(), line.alpha, line.kind, line.line_width, line.axis),
            ("ff0000", 0x40, LineKind::Stack, 3.0, 1)
        );
    }
    let last = &lines[3];
    assert_eq!(
        (last.color.as_str(), last.alpha, last.kind, last.axis),
        ("0075dc", 255, LineKind::Line, 0),
        "first colour of Atlas's armytage palette"
    );
    let palette = styled("name,sps,:eq,(,nf.cluster,),:by,(,123,abcdef,),:palette");
    assert_eq!(palette.iter().map(|l| l.color.as_str()).collect::<Vec<_>>(), ["112233", "abcdef", "112233"]);
    let defaults = styled("name,sps,:eq,(,nf.cluster,),:by,name,sps,:eq,:sum,:vspan");
    assert_eq!(defaults.iter().map(|l| l.color.as_str()).collect::<Vec<_>>(), ["0075dc", "993f00", "9dcc00", "4c005c"]);
    assert_eq!(defaults[3].kind, LineKind::VSpan);
    assert_eq!(defaults[0].series.values, [1.0, 9.0, 2.0]);
}

fn styled_with(program: &str, palette: Option<&str>, heatmap_palette: bool) -> Vec<StyledSeries> {
    let context = EvalContext::new(60_000, 180_000, 60_000).unwrap();
    Interpreter::default().evaluate_styled_with(program, &context, &source(), palette, &[], heatmap_palette).unwrap()
}

fn colors(lines: &[StyledSeries]) -> Vec<(&str, u8)> {
    lines.iter().map(|l| (l.color.as_str(), l.alpha)).collect()
}

#[test]
fn palettes_follow_atlas_grapher() {
    let by = "name,sps,:eq,(,nf.cluster,),:by,$nf.cluster,:legend";
    let reds = styled_with(by, Some("reds"), false);
    assert_eq!(colors(&reds), [("67000d", 255), ("a50f15", 255), ("cb181d", 255)], "palette= walks reds");
    let hashed = styled(&format!("{by},hash:reds,:palette"));
    // Java's String.hashCode of nccp-a, -b, -c is -1051273674, -73, -72: indexes 3, 2, 1 of 7.
    assert_eq!(colors(&hashed), [("ef3b2c", 255), ("cb181d", 255), ("a50f15", 255)]);
    let graph_hashed = styled_with(by, Some("hash:reds"), false);
    assert_eq!(colors(&graph_hashed), colors(&hashed));
    // Colours are handed out in legend order, then `:sort` reorders the coloured lines.
    let sorted = styled(&format!("{by},max,:sort"));
    assert_eq!(legends(&sorted), ["nccp-b", "nccp-c", "nccp-a"]);
    assert_eq!(colors(&sorted), [("993f00", 255), ("9dcc00", 255), ("0075dc", 255)]);
    // An expression's own palette starts afresh and leaves the graph's where it was.
    let own = styled(&format!("{by},reds,:palette,name,sps,:eq,:sum"));
    assert_eq!(colors(&own)[3], ("0075dc", 255));
    assert_eq!(colors(&own)[0], ("67000d", 255));
    // Lines on axis 1 take their colours after those of axis 0, whatever the order written.
    let axes = styled("name,sps,:eq,:max,1,:axis,name,sps,:eq,:sum");
    assert_eq!(colors(&axes), [("993f00", 255), ("0075dc", 255)]);
}

#[test]
fn heatmaps_share_one_colour_per_axis() {
    let first = styled("name,sps,:eq,(,nf.cluster,),:by,:heatmap,name,sps,:eq,:sum");
    assert_eq!(colors(&first), [("0075dc", 255), ("0075dc", 255), ("0075dc", 255), ("993f00", 255)]);
    assert!(first[..3].iter().all(|l| l.kind == LineKind::HeatMap));
    let second = styled("name,sps,:eq,:sum,name,sps,:eq,(,nf.cluster,),:by,:heatmap");
    assert_eq!(colors(&second)[0], ("0075dc", 255));
    assert_eq!(colors(&second)[3], ("993f00", 255));
    let own_palette = styled_with("name,sps,:eq,(,nf.cluster,),:by,:heatmap,name,sps,:eq,:sum", None, true);
    assert_eq!(colors(&own_palette)[3], ("0075dc", 255), "heatmap_palette= leaves the line palette alone");
    let interpreter = Interpreter::default();
    let shown = render_capped(&interpreter.execute("name,requestLatency,:eq,:percentiles-heatmap").unwrap(), 1000);
    assert_eq!(shown, "name,requestLatency,:eq,:sum,(,percentile,),:by,heatmap,:ls");
}

#[test]
fn offset_lists_copy_the_expression_per_offset() {
    let program = "name,sps,:eq,:sum,(,0h,1d,),:offset,$(atlas.offset),:legend";
    let interpreter = Interpreter::default();
    let stack = interpreter.execute(program).unwrap();
    assert_eq!(render_capped(&stack, 1000), "name,sps,:eq,:sum,$(atlas.offset),:legend,(,0h,1d,),:offset");
    let lines = styled(program);
    assert_eq!(legends(&lines), ["0w", "1d"]);
    assert_eq!(lines[0].series.values, [9.0, 17.0, 15.0]);
    assert!(lines[1].series.values.iter().all(|v| v.is_nan()), "a day earlier there is no data");
    assert_eq!(colors(&lines), [("0075dc", 255), ("000000", 0xc0)], "shifted lines take Atlas's bw palette");
    let labels = styled("name,sps,:eq,:sum,(,1h,),:offset,f00,:color");
    assert_eq!((legends(&labels), colors(&labels)), (vec!["sum(name=sps) (offset=1h)"], vec![("ff0000", 255)]));
    assert_eq!(styled("name,sps,:eq,:sum,(,),:offset").len(), 1, "an empty list changes nothing");
    assert!(interpreter.execute("name,sps,:eq,:sum,(,1x,),:offset").is_err());
}

#[test]
fn style_filter_keeps_the_lines_whose_condition_holds() {
    let program = "name,sps,:eq,(,nf.cluster,),:by,$nf.cluster,:legend,:stat-max,6,:gt,:filter";
    let lines = styled(program);
    assert_eq!(legends(&lines), ["nccp-a", "nccp-c"], "max 9 and 8 pass, 5 does not");
    let shown = render_capped(&Interpreter::default().execute(program).unwrap(), 1000);
    assert!(shown.ends_with(",$nf.cluster,:legend"), "the legend stays: {shown}");
    let plain = styled("name,sps,:eq,(,nf.cluster,),:by,:stat-max,6,:gt,:filter");
    assert_eq!(plain.len(), 2, "the filter vocabulary's :filter on a plain expression");
}

#[test]
fn evaluate_drops_the_style_and_bad_values_fail_at_the_word() {
    let context = EvalContext::new(60_000, 180_000, 60_000).unwrap();
    let interpreter = Interpreter::default();
    let lines = interpreter.evaluate("name,sps,:eq,:sum,x,:legend,f00,:color", &context, &source()).unwrap();
    assert_eq!(lines[0].values, [9.0, 17.0, 15.0]);
    for bad in
        ["red,:color", "4x,:alpha", "5,:axis", "sideways,:ls", "median,:sort", "up,:order", "nope,:palette", "[,x,:s"]
    {
        let program = format!("name,sps,:eq,:sum,{bad}");
        let err = interpreter.execute(&program).unwrap_err();
        assert!(err.token.starts_with(':'), "{program}: {err}");
    }
}

proptest! {
    /// Any chain of style words displays as a program that runs back to the same stack.
    #[test]
    fn styled_expressions_display_back(words in proptest::collection::vec(0usize..12, 0..8)) {
        let options = [
            "a$(b)\\u002cc,:legend", "f00,:color", "80ff0000,:color", "40,:alpha", "reds,:palette",
            "(,123,456,),:palette", "area,:ls", "2,:lw", "max,:sort", "desc,:order", "3,:limit", "x(.),$1,:s",
        ];
        let mut program = "name,sps,:eq,(,nf.cluster,),:by".to_string();
        for w in words {
            program.push(',');
            program.push_str(options[w]);
        }
        let interpreter = Interpreter::default();
        let stack = interpreter.execute(&program).unwrap();
        let shown = render_capped(&stack, 100_000);
        let again = interpreter.execute(&shown).unwrap();
        prop_assert_eq!(&stack, &again, "{} displayed as {}", program, shown);
    }
}
