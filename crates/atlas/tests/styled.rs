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
        ("ff0000", 255, LineKind::Line, 0),
        "first default colour"
    );
    let palette = styled("name,sps,:eq,(,nf.cluster,),:by,(,123,abcdef,),:palette");
    assert_eq!(palette.iter().map(|l| l.color.as_str()).collect::<Vec<_>>(), ["112233", "abcdef", "112233"]);
    let defaults = styled("name,sps,:eq,(,nf.cluster,),:by,name,sps,:eq,:sum,:vspan");
    assert_eq!(defaults.iter().map(|l| l.color.as_str()).collect::<Vec<_>>(), ["ff0000", "00ff00", "0000ff", "ff00ff"]);
    assert_eq!(defaults[3].kind, LineKind::VSpan);
    assert_eq!(defaults[0].series.values, [1.0, 9.0, 2.0]);
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
