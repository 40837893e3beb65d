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
            match palette_list(name, value) {
                Some(colors) => write!(f, "(,{},)", colors.join(","))?,
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

/// Atlas's default palette (`armytage`), the colours lines take in order when none is set.
pub const DEFAULT_PALETTE: &[&str] = &[
    "ff0000", "00ff00", "0000ff", "ff00ff", "ffff00", "00ffff", "800000", "008000", "000080", "808000", "800080",
    "008080", "c0c0c0", "808080",
];

/// A named palette, by its `:palette` name.
pub fn named_palette(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "armytage" | "default" => DEFAULT_PALETTE,
        "reds" => &["ff0000", "cc0000", "990000", "660000", "ff3333", "ff6666", "ff9999"],
        "greens" => &["00ff00", "00cc00", "009900", "006600", "33ff33", "66ff66", "99ff99"],
        "blues" => &["0000ff", "0000cc", "000099", "000066", "3333ff", "6666ff", "9999ff"],
        _ => return None,
    })
}

/// The colours of a `:palette` given as a list, stored as `(,a,b,)`; `None` for anything else.
fn palette_list<'a>(name: &str, value: &'a str) -> Option<Vec<&'a str>> {
    let inner = value.strip_prefix("(,")?.strip_suffix(",)")?;
    (name == "palette").then(|| inner.split(',').collect())
}

/// The colours of a `:palette` value, a name or a list, as six hex digits each.
fn palette_colors(value: &str) -> Option<Vec<String>> {
    match palette_list("palette", value) {
        Some(colors) => colors.iter().map(|c| parse_color(c).map(|(rgb, _)| rgb)).collect(),
        None => named_palette(value).map(|p| p.iter().map(|c| c.to_string()).collect()),
    }
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

/// Applies the style of one expression to its evaluated lines: legend, sort, order, limit,
/// colours (palette colours continue from `next_color` when none is set), width, kind, axis.
fn style_lines(
    style: &StyledExpr,
    lines: Vec<TimeSeries>,
    next_color: &mut usize,
    max_regex_bytes: usize,
) -> Result<Vec<StyledSeries>, Reason> {
    let setting = |name: &str| style.settings.get(name).map(String::as_str);
    let mut legends = Vec::with_capacity(lines.len());
    for line in lines {
        let legend = match setting("legend") {
            Some(template) => substitute_legend(template, &line.tags),
            None => line.label.clone(),
        };
        legends.push((apply_edits(legend, &style.edits, max_regex_bytes)?, line));
    }
    match setting("sort") {
        Some("legend") => legends.sort_by(|a, b| a.0.cmp(&b.0)),
        Some(stat) => {
            let key = |l: &TimeSeries| summary_stat(stat, &l.values).unwrap_or(f64::NAN);
            legends.sort_by(|a, b| key(&a.1).total_cmp(&key(&b.1)));
        }
        None if setting("order").is_some() => legends.sort_by(|a, b| a.0.cmp(&b.0)),
        None => {}
    }
    if setting("order") == Some("desc") {
        legends.reverse();
    }
    if let Some(limit) = setting("limit").and_then(|l| l.parse::<usize>().ok()) {
        legends.truncate(limit);
    }
    let (fixed_color, color_alpha) = match setting("color").and_then(parse_color) {
        Some((color, alpha)) => (Some(color), alpha),
        None => (None, None),
    };
    let palette = setting("palette").and_then(palette_colors);
    let alpha = setting("alpha").and_then(parse_alpha).or(color_alpha).unwrap_or(255);
    let line_width = setting("lw").and_then(|w| w.parse::<f32>().ok()).unwrap_or(1.0);
    let kind = setting("ls").and_then(LineKind::parse).unwrap_or_default();
    let axis = setting("axis").and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
    let mut out = Vec::with_capacity(legends.len());
    for (i, (legend, series)) in legends.into_iter().enumerate() {
        let color = match (&fixed_color, &palette) {
            (Some(color), _) => color.clone(),
            (None, Some(palette)) => palette.get(i % palette.len().max(1)).cloned().unwrap_or_else(|| "000000".into()),
            (None, None) => {
                let color = DEFAULT_PALETTE.get(*next_color % DEFAULT_PALETTE.len()).unwrap_or(&"000000");
                *next_color += 1;
                color.to_string()
            }
        };
        out.push(StyledSeries { series, legend, color, alpha, line_width, kind, axis });
    }
    Ok(out)
}

impl Interpreter {
    /// Runs `program` and evaluates what it leaves, bottom of the stack first, as chart lines:
    /// styled expressions with their settings, plain expressions (a query as its `:sum`, a
    /// number as a constant) with the default style. Lines without a colour take the default
    /// palette's next colour, counting across expressions. Fails as [`Interpreter::evaluate`].
    pub fn evaluate_styled(
        &self,
        program: &str,
        context: &EvalContext,
        source: &dyn Source,
    ) -> Result<Vec<StyledSeries>, Error> {
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
            styles.push(style);
        }
        let max = self.limits().max_datapoints;
        if context.len() > max {
            return Err(fail(String::new(), Reason::LimitExceeded(Limit::Datapoints(max))));
        }
        let mut evaluator = Evaluator::new(context, source);
        let (mut out, mut next_color) = (Vec::new(), 0);
        for style in &styles {
            let token = || render_capped(&[Item::Styled(std::sync::Arc::new(style.clone()))], RENDERED_STACK_CHARS);
            let lines = evaluator.eval(&style.expr).map_err(|reason| fail(token(), reason))?;
            let styled = style_lines(style, lines, &mut next_color, self.limits().max_regex_bytes)
                .map_err(|reason| fail(token(), reason))?;
            out.extend(styled);
        }
        Ok(out)
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
