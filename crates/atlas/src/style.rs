//! Presentation: an expression with style settings (`:legend`, `:color`, `:ls`, `:sort`, ...),
//! what the `style` words build, and [`Interpreter::evaluate_styled`], which turns a program
//! into chart-ready [`StyledSeries`].
//!
//! Design decision: as Atlas's `StyleExpr`, a [`StyledExpr`] is the expression plus a sorted map
//! of setting name to the value as written, so it displays back as `expr,value,:name,...` and
//! re-parses equal; values are checked when the word runs (a bad colour fails at `:color`), and
//! only interpreted at evaluation. Legend edits (`:s`, `:decode`) are kept apart in order because
//! they apply one after the other. Sorting, ordering and limiting apply to the lines of one
//! styled expression, as in Atlas, never across expressions.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, RENDERED_STACK_CHARS, Reason};
use crate::eval::{EvalContext, Evaluator, Source, TimeSeries};
use crate::expr::Expr;
use crate::interpreter::Interpreter;
use crate::item::{Item, render_capped, type_summary};
use crate::lexer::escape_into;
use crate::limits::Limit;
use crate::time::{format_duration, parse_duration};

mod palette;

use palette::{DEFAULT_PALETTE_NAME, OFFSET_PALETTE_NAME, PaletteColor, PaletteCursor};
pub use palette::{PALETTE_NAMES, is_palette, named_palette};

/// Atlas's default palette (`armytage`), the colours lines take in order when none is set.
pub const DEFAULT_PALETTE: &[&str] = &[
    "0075dc", "993f00", "9dcc00", "4c005c", "00998f", "ffa405", "5ef1f2", "f0a3ff", "94ffb5", "ff0010", "2bce48",
    "740aff", "191919", "ff5005", "005c31", "ffcc99", "808080", "8f7c00", "c20088", "003380", "ffa8bb", "426600",
    "990000", "ffe100",
];

/// An edit of the legend text, applied after `:legend` substitution, in the order written.
#[derive(Debug, Clone, PartialEq)]
pub enum LegendEdit {
    /// `hex,:decode`: `_XX` hex escapes become the byte they name; `none,:decode` keeps the text.
    Decode(String),
    /// `search,replace,:s`: a regex search and replace, `$1` / `$name` naming groups.
    Replace {
        /// The pattern.
        search: String,
        /// The replacement.
        replace: String,
    },
}

/// An expression with presentation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StyledExpr {
    /// The expression drawn.
    pub expr: Expr,
    /// Setting name (the word without the colon: `legend`, `color`, `ls`, ...) to its value as
    /// written.
    pub settings: BTreeMap<String, String>,
    /// Legend edits in the order written.
    pub edits: Vec<LegendEdit>,
}

impl StyledExpr {
    /// The expression with no settings.
    pub fn new(expr: Expr) -> Self {
        StyledExpr { expr, settings: BTreeMap::new(), edits: Vec::new() }
    }
}

impl fmt::Display for StyledExpr {
    /// `expr`, then each setting as `value,:name` in name order, then the legend edits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        for (name, value) in &self.settings {
            f.write_str(",")?;
            match setting_list(name, value) {
                Some(items) if items.is_empty() => f.write_str("(,)")?,
                Some(items) => write!(f, "(,{},)", items.join(","))?,
                None => escape_into(f, value)?,
            }
            write!(f, ",:{name}")?;
        }
        for edit in &self.edits {
            f.write_str(",")?;
            match edit {
                LegendEdit::Decode(mode) => {
                    escape_into(f, mode)?;
                    f.write_str(",:decode")?;
                }
                LegendEdit::Replace { search, replace } => {
                    escape_into(f, search)?;
                    f.write_str(",")?;
                    escape_into(f, replace)?;
                    f.write_str(",:s")?;
                }
            }
        }
        Ok(())
    }
}

/// How a line is drawn (`:ls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineKind {
    /// A line (the default).
    #[default]
    Line,
    /// Filled down to the axis.
    Area,
    /// Filled and stacked on the lines before it.
    Stack,
    /// A vertical band wherever the value is non-zero.
    VSpan,
    /// A heat map of the lines' values.
    HeatMap,
}

impl LineKind {
    /// The kind named by `:ls`: `line`, `area`, `stack`, `vspan`, `heatmap`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "line" => LineKind::Line,
            "area" => LineKind::Area,
            "stack" => LineKind::Stack,
            "vspan" => LineKind::VSpan,
            "heatmap" => LineKind::HeatMap,
            _ => return None,
        })
    }
}

/// One line of a chart: the values and how to draw them.
#[derive(Debug, Clone, PartialEq)]
pub struct StyledSeries {
    /// The evaluated line.
    pub series: TimeSeries,
    /// The legend text: `:legend` with `$tag` substituted and edits applied, else the label.
    pub legend: String,
    /// The colour as six lowercase hex digits (`ff0000`), from `:color`, `:palette` or the
    /// default palette.
    pub color: String,
    /// Opacity 0-255 (`:alpha`, or the top byte of an eight-digit colour); 255 unless set.
    pub alpha: u8,
    /// Stroke width (`:lw`); 1.0 unless set.
    pub line_width: f32,
    /// How it is drawn (`:ls` and its macros).
    pub kind: LineKind,
    /// The Y axis, 0 (left) to 4 (`:axis`).
    pub axis: usize,
}

/// The colours of a setting written as a list (`:palette` and the list form of `:offset`),
/// stored as `(,a,b,)`; `None` for anything else.
fn setting_list<'a>(name: &str, value: &'a str) -> Option<Vec<&'a str>> {
    if name != "palette" && name != "offset" {
        return None;
    }
    if value == "(,)" {
        return Some(Vec::new());
    }
    value.strip_prefix("(,")?.strip_suffix(",)").map(|inner| inner.split(',').collect())
}

/// A colour as written to `:color` (`f00`, `ff0000`, or `80ff0000` with alpha first) as six
/// lowercase hex digits and the alpha it carries.
pub fn parse_color(text: &str) -> Option<(String, Option<u8>)> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    match lower.len() {
        3 => Some((lower.chars().flat_map(|c| [c, c]).collect(), None)),
        6 => Some((lower, None)),
        8 => {
            let alpha = u8::from_str_radix(lower.get(..2)?, 16).ok()?;
            Some((lower.get(2..)?.to_string(), Some(alpha)))
        }
        _ => None,
    }
}

/// An alpha as written to `:alpha`: one or two hex digits.
pub fn parse_alpha(text: &str) -> Option<u8> {
    if text.is_empty() || text.len() > 2 {
        return None;
    }
    u8::from_str_radix(text, 16).ok()
}

/// The summary statistics `:sort` and the filter words use: `avg`, `max`, `min`, `last`,
/// `total`, `count`, over the values that are not NaN (NaN when there are none, 0 for count).
pub fn summary_stat(stat: &str, values: &[f64]) -> Option<f64> {
    if !matches!(stat, "avg" | "max" | "min" | "last" | "total" | "count") {
        return None;
    }
    let mut present = values.iter().copied().filter(|v| !v.is_nan());
    let count = present.clone().count();
    Some(match stat {
        "count" => count as f64,
        _ if count == 0 => f64::NAN,
        "avg" => present.sum::<f64>() / count as f64,
        "total" => present.sum(),
        "max" => present.fold(f64::NEG_INFINITY, f64::max),
        "min" => present.fold(f64::INFINITY, f64::min),
        _ => present.next_back().unwrap_or(f64::NAN),
    })
}

/// Substitutes `$key` and `$(key)` in a legend with the tag's value; a key without a tag
/// stands for itself, as in Atlas. `$` followed by anything else is kept.
pub fn substitute_legend(legend: &str, tags: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(legend.len());
    let mut rest = legend;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at + 1..).unwrap_or("");
        let (key, tail) = if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(close) if close > 0 => (inner.get(..close).unwrap_or(""), inner.get(close + 1..).unwrap_or("")),
                _ => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(after.len());
            (after.get(..end).unwrap_or(""), after.get(end..).unwrap_or(""))
        };
        if key.is_empty() {
            out.push('$');
            rest = after;
        } else {
            out.push_str(tags.get(key).map_or(key, String::as_str));
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// `hex` decoding: `_XX` becomes the byte `XX`; anything else is kept. Invalid UTF-8 is
/// replaced.
pub fn decode_hex(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(decoded) if b == b'_' => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn apply_edits(mut legend: String, edits: &[LegendEdit], max_regex_bytes: usize) -> Result<String, Reason> {
    for edit in edits {
        legend = match edit {
            LegendEdit::Decode(mode) if mode == "hex" => decode_hex(&legend),
            LegendEdit::Decode(_) => legend,
            LegendEdit::Replace { search, replace } => {
                let regex = regex::RegexBuilder::new(search)
                    .size_limit(max_regex_bytes)
                    .build()
                    .map_err(|source| Reason::InvalidRegex { pattern: search.clone(), source })?;
                regex.replace_all(&legend, replace.as_str()).into_owned()
            }
        };
    }
    Ok(legend)
}

/// Graph-wide presentation settings that are not part of the program: Atlas's `palette` graph
/// parameters and whether heat maps have their own palette.
#[derive(Debug, Clone, Default, PartialEq)]
struct StyleOptions {
    /// `palette=`: the palette lines take when their expression sets none. Default is none:
    /// [`DEFAULT_PALETTE_NAME`].
    palette: Option<String>,
    /// `palette.N=`: a palette for the lines of axis `N` instead. Default is none for every axis.
    axis_palettes: Vec<Option<String>>,
    /// `heatmap_palette=` is set: heat maps take no colour from the line palette. Default is
    /// false.
    heatmap_palette: bool,
}

/// One styled expression with its evaluated lines and their legends, between evaluation and
/// colouring.
struct Evaluated {
    style: StyledExpr,
    /// Legend and line, in legend order (the order colours are handed out in).
    lines: Vec<(String, TimeSeries)>,
}

/// The style expressions one expression stands for: one per duration of a list `:offset`
/// (the expression shifted by it), else itself.
fn per_offset(style: StyledExpr) -> Vec<StyledExpr> {
    let Some(list) = style.settings.get("offset").and_then(|v| setting_list("offset", v)) else {
        return vec![style];
    };
    let offsets: Vec<i64> = list.iter().filter_map(|d| parse_duration(d)).collect();
    if offsets.is_empty() {
        return vec![style];
    }
    offsets
        .into_iter()
        .map(|offset| {
            let mut shifted = style.clone();
            shifted.settings.remove("offset");
            shifted.expr = style.expr.with_offset(offset);
            shifted
        })
        .collect()
}

/// The smallest offset of the expression's data, as Atlas's `StyleExpr.offset`.
fn expr_offset(expr: &Expr) -> i64 {
    expr.data_exprs().iter().map(|d| d.offset_ms()).min().unwrap_or(0)
}

/// The `atlas.offset` tag value Atlas adds to every line: `0w` for none, else `1d`, `1h`, ...
fn offset_tag(offset_ms: i64) -> String {
    if offset_ms == 0 { "0w".to_string() } else { format_duration(offset_ms) }
}

/// Legends of one expression's lines (with `$atlas.offset` available), in legend order.
fn legends(style: &StyledExpr, lines: Vec<TimeSeries>, max_regex_bytes: usize) -> Result<Evaluated, Reason> {
    let offset = offset_tag(expr_offset(&style.expr));
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let legend = match style.settings.get("legend") {
            Some(template) => {
                let mut tags = line.tags.clone();
                tags.entry("atlas.offset".to_string()).or_insert_with(|| offset.clone());
                substitute_legend(template, &tags)
            }
            None => line.label.clone(),
        };
        out.push((apply_edits(legend, &style.edits, max_regex_bytes)?, line));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Evaluated { style: style.clone(), lines: out })
}

/// Compares two statistics as Atlas's legend sort does: NaN last in either order.
fn compare_stat(a: f64, b: f64, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

/// The colours of every line, expression by expression in axis order as Atlas's `Grapher`
/// hands them out: an expression's `:palette` (a fresh cursor), its `:color`, the offset
/// palette for shifted data, else the axis's or the graph's palette; a heat map takes one
/// colour per axis.
fn assign_colors(evaluated: &[Evaluated], options: &StyleOptions) -> Vec<Vec<PaletteColor>> {
    let cursor = |description: Option<&str>, fallback: &str| {
        description
            .and_then(PaletteCursor::new)
            .or_else(|| PaletteCursor::new(fallback))
            .unwrap_or_else(|| PaletteCursor::single(("000000".into(), 255)))
    };
    let mut graph = cursor(options.palette.as_deref(), DEFAULT_PALETTE_NAME);
    let mut axis_cursors: Vec<Option<PaletteCursor>> = (0..5)
        .map(|axis| options.axis_palettes.get(axis).cloned().flatten().and_then(|p| PaletteCursor::new(&p)))
        .collect();
    let mut shifted = cursor(None, OFFSET_PALETTE_NAME);
    let mut heatmap: Vec<Option<PaletteColor>> = vec![None; 5];
    let mut colors: Vec<Vec<PaletteColor>> = evaluated.iter().map(|_| Vec::new()).collect();
    let mut order: Vec<usize> = (0..evaluated.len()).collect();
    order.sort_by_key(|&i| evaluated.get(i).map_or(0, |e| axis_of(&e.style)));
    for index in order {
        let Some(e) = evaluated.get(index) else { continue };
        let setting = |name: &str| e.style.settings.get(name).map(String::as_str);
        let axis = axis_of(&e.style);
        let alpha = setting("alpha").and_then(parse_alpha);
        let kind = setting("ls").and_then(LineKind::parse).unwrap_or_default();
        let mut own = setting("palette").and_then(PaletteCursor::new);
        let fixed = setting("color").and_then(parse_color).map(|(rgb, a)| (rgb, a.unwrap_or(255)));
        let mut out = Vec::with_capacity(e.lines.len());
        for (legend, _) in &e.lines {
            let color = if let Some(fixed) = &fixed {
                fixed.clone()
            } else if kind == LineKind::HeatMap {
                let slot = heatmap.get_mut(axis);
                match slot {
                    Some(Some(color)) => color.clone(),
                    Some(slot) => {
                        let color = if options.heatmap_palette {
                            ("000000".to_string(), 255)
                        } else {
                            pick(&mut own, &mut axis_cursors, &mut graph, axis, &format!("heatmap{axis}"))
                        };
                        *slot = Some(color.clone());
                        color
                    }
                    None => ("000000".to_string(), 255),
                }
            } else if own.is_none() && expr_offset(&e.style.expr) > 0 {
                shifted.color_for(legend)
            } else {
                pick(&mut own, &mut axis_cursors, &mut graph, axis, legend)
            };
            out.push(match alpha {
                Some(a) => (color.0, a),
                None => color,
            });
        }
        if let Some(slot) = colors.get_mut(index) {
            *slot = out;
        }
    }
    colors
}

/// The next colour from the expression's own palette, else the axis's, else the graph's.
fn pick(
    own: &mut Option<PaletteCursor>,
    axis_cursors: &mut [Option<PaletteCursor>],
    graph: &mut PaletteCursor,
    axis: usize,
    label: &str,
) -> PaletteColor {
    if let Some(own) = own {
        return own.color_for(label);
    }
    match axis_cursors.get_mut(axis) {
        Some(Some(cursor)) => cursor.color_for(label),
        _ => graph.color_for(label),
    }
}

fn axis_of(style: &StyledExpr) -> usize {
    style.settings.get("axis").and_then(|a| a.parse::<usize>().ok()).unwrap_or(0)
}

/// Applies the rest of one expression's style to its coloured lines: sort, order, limit,
/// width, kind and axis.
fn finish_lines(e: Evaluated, colors: Vec<PaletteColor>) -> Vec<StyledSeries> {
    let setting = |name: &str| e.style.settings.get(name).map(String::as_str);
    let descending = setting("order") == Some("desc");
    let line_width = setting("lw").and_then(|w| w.parse::<f32>().ok()).unwrap_or(1.0);
    let kind = setting("ls").and_then(LineKind::parse).unwrap_or_default();
    let axis = axis_of(&e.style);
    let mut lines: Vec<StyledSeries> = e
        .lines
        .into_iter()
        .zip(colors.into_iter().chain(std::iter::repeat(("000000".to_string(), 255))))
        .map(|((legend, series), (color, alpha))| StyledSeries { series, legend, color, alpha, line_width, kind, axis })
        .collect();
    match setting("sort") {
        Some("legend") | None if descending => lines.sort_by(|a, b| b.legend.cmp(&a.legend)),
        Some("legend") | None => {}
        Some(stat) => {
            let key = |l: &StyledSeries| summary_stat(stat, &l.series.values).unwrap_or(f64::NAN);
            lines.sort_by(|a, b| compare_stat(key(a), key(b), descending));
        }
    }
    if let Some(limit) = setting("limit").and_then(|l| l.parse::<usize>().ok()) {
        lines.truncate(limit);
    }
    lines
}

impl Interpreter {
    /// Runs `program` and evaluates what it leaves, bottom of the stack first, as chart lines
    /// with the default [`StyleOptions`]; see [`Interpreter::evaluate_styled_with`].
    pub fn evaluate_styled(
        &self,
        program: &str,
        context: &EvalContext,
        source: &dyn Source,
    ) -> Result<Vec<StyledSeries>, Error> {
        self.evaluate_styled_with(program, context, source, None, &[], false)
    }

    /// Runs `program` and evaluates what it leaves, bottom of the stack first, as chart lines:
    /// styled expressions with their settings (a list `:offset` standing for one expression
    /// per offset), plain expressions (a query as its `:sum`, a number as a constant) with the
    /// default style. Within an expression lines come in legend order, then its `:sort`,
    /// `:order` and `:limit`. Colours are handed out as Atlas's `Grapher` does: `palette` is
    /// the graph's `palette=` (default `armytage`; a name, `hash:name` or `(,f00,0f0,)`),
    /// `axis_palettes[N]` its `palette.N=`, and `heatmap_palette` says `heatmap_palette=` is set
    /// so heat maps take no line colour. Fails as [`Interpreter::evaluate`].
    pub fn evaluate_styled_with(
        &self,
        program: &str,
        context: &EvalContext,
        source: &dyn Source,
        palette: Option<&str>,
        axis_palettes: &[Option<String>],
        heatmap_palette: bool,
    ) -> Result<Vec<StyledSeries>, Error> {
        let options = StyleOptions {
            palette: palette.map(str::to_string),
            axis_palettes: axis_palettes.to_vec(),
            heatmap_palette,
        };
        let stack = self.execute(program)?;
        let fail = |token: String, reason: Reason| Error {
            token,
            position: program.len(),
            reason,
            stack: render_capped(&stack, RENDERED_STACK_CHARS),
        };
        let mut styles = Vec::with_capacity(stack.len());
        for item in &stack {
            let style = match item {
                Item::Styled(styled) => (**styled).clone(),
                other => match other.to_expr() {
                    Some(expr) => StyledExpr::new(expr),
                    None => {
                        let found = type_summary(std::slice::from_ref(other));
                        return Err(fail(String::new(), Reason::NotAnExpression { found }));
                    }
                },
            };
            styles.extend(per_offset(style));
        }
        let max = self.limits().max_datapoints;
        if context.len() > max {
            return Err(fail(String::new(), Reason::LimitExceeded(Limit::Datapoints(max))));
        }
        let mut evaluator = Evaluator::new(context, source);
        let mut evaluated = Vec::with_capacity(styles.len());
        for style in &styles {
            let token = || render_capped(&[Item::Styled(std::sync::Arc::new(style.clone()))], RENDERED_STACK_CHARS);
            let lines = evaluator.eval(&style.expr).map_err(|reason| fail(token(), reason))?;
            evaluated
                .push(legends(style, lines, self.limits().max_regex_bytes).map_err(|reason| fail(token(), reason))?);
        }
        let colors = assign_colors(&evaluated, &options);
        Ok(evaluated.into_iter().zip(colors).flat_map(|(e, colors)| finish_lines(e, colors)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn legends_substitute_tags() {
        let t = tags(&[("name", "sps"), ("nf.cluster", "nccp-xbox")]);
        assert_eq!(substitute_legend("$name", &t), "sps");
        assert_eq!(substitute_legend("cluster+$nf.cluster", &t), "cluster+nccp-xbox");
        assert_eq!(substitute_legend("$(name)-x", &t), "sps-x");
        assert_eq!(substitute_legend("$(unknown)", &t), "unknown", "a missing key stands for itself");
        assert_eq!(substitute_legend("cost $ and $(", &t), "cost $ and $(");
        assert_eq!(substitute_legend("a$name$name", &t), "aspssps");
    }

    #[test]
    fn hex_decoding_and_edits() {
        assert_eq!(decode_hex("one_21_25_26_3F"), "one!%&?");
        assert_eq!(decode_hex("a_zz_4"), "a_zz_4");
        let edits = [LegendEdit::Replace { search: "^nccp-(.*)$".into(), replace: "$1".into() }];
        assert_eq!(apply_edits("nccp-xbox".into(), &edits, 1 << 20).unwrap(), "xbox");
    }

    #[test]
    fn colors_and_stats() {
        assert_eq!(parse_color("F00"), Some(("ff0000".into(), None)));
        assert_eq!(parse_color("80ff0000"), Some(("ff0000".into(), Some(0x80))));
        assert_eq!(parse_color("red"), None);
        assert_eq!(parse_alpha("40"), Some(0x40));
        assert_eq!(parse_alpha("400"), None);
        let v = [1.0, f64::NAN, 3.0, 2.0];
        assert_eq!(summary_stat("avg", &v), Some(2.0));
        assert_eq!(summary_stat("total", &v), Some(6.0));
        assert_eq!(summary_stat("max", &v), Some(3.0));
        assert_eq!(summary_stat("min", &v), Some(1.0));
        assert_eq!(summary_stat("last", &v), Some(2.0));
        assert_eq!(summary_stat("count", &v), Some(3.0));
        assert!(summary_stat("avg", &[f64::NAN]).unwrap().is_nan());
        assert_eq!(summary_stat("median", &v), None);
    }
}
