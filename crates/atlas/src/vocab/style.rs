//! The `style` vocabulary: words that set how an expression's lines are presented (`:legend`,
//! `:color`, `:ls`, `:sort`, `:limit`, ...), building a [`StyledExpr`] that
//! [`evaluate_styled`](crate::Interpreter::evaluate_styled) applies.
//!
//! Design decision: every style word takes a styled expression or anything that stands for a
//! time series (wrapping it with no settings), records its value as written under its own name,
//! and checks the value now, so a bad colour fails at `:color` naming the word rather than at
//! drawing time. The list form of `:offset` is kept as a setting, as Atlas keeps it, and expanded
//! into one expression per offset only at evaluation, so the style words after it apply to
//! every copy.

use std::sync::Arc;

use crate::error::Reason;
use crate::expr::Expr;
use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::style::{
    LegendEdit, LineKind, PALETTE_NAMES, StyledExpr, is_palette, parse_alpha, parse_color, summary_stat,
};
use crate::time::parse_duration;
use crate::word::{Body, Kind, Param, Vocabulary, Word};

const fn word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word { name, vocabulary: "style", kind: Kind::Word, params, signature, summary, examples, body: Body::Native(code) }
}

const fn macro_word(
    name: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    body: &'static [&'static str],
) -> Word {
    Word {
        name,
        vocabulary: "style",
        kind: Kind::Macro,
        params: &[Param::Presentation],
        signature: "TimeSeriesExpr -- StyleExpr",
        summary,
        examples,
        body: Body::Macro(body),
    }
}

const SETTING: &[Param] = &[Param::Presentation, Param::Str];
const SETTING_SIGNATURE: &str = "StyleExpr String -- StyleExpr";

/// The `style` vocabulary, in Atlas's order.
pub static STYLE: Vocabulary = Vocabulary {
    name: "style",
    words: &[
        word(
            "legend",
            SETTING,
            SETTING_SIGNATURE,
            "Set the legend text.",
            &[
                "name,sps,:eq,(,name,),:by,$$name",
                "name,sps,:eq,(,nf.cluster,),:by,cluster+$$nf.cluster",
                "name,sps,:eq,(,name,),:by,$$(unknown)",
                "name,sps,:eq,:sum,1w,:offset,$$(name)+$$(atlas.offset)",
            ],
            |ctx| set(ctx, "legend", |_| Ok(())),
        ),
        word(
            "decode",
            SETTING,
            SETTING_SIGNATURE,
            "Perform decoding of the legend strings.",
            &["1,one_21_25_26_3F,:legend,hex"],
            decode,
        ),
        word(
            "s",
            &[Param::Presentation, Param::Str, Param::Str],
            "StyleExpr search:String replace:String -- StyleExpr",
            "Perform a search and replace on the legend strings.",
            &[
                "name,sps,:eq,(,nf.cluster,),:by,$$nf.cluster,:legend,^nccp-(.*)$$,$$1",
                "name,sps,:eq,(,nf.cluster,),:by,$$nf.cluster,:legend,^nccp-(?<stack>.*)$$,$$stack",
                "name,sps,:eq,(,nf.cluster,),:by,$$nf.cluster,:legend,nccp-,_",
                "name,sps,:eq,(,nf.cluster,),:by,$$nf.cluster,:legend,([a-z]),_$$1",
            ],
            search_replace,
        ),
        word(
            "axis",
            &[Param::Presentation, Param::Int],
            "StyleExpr Int -- StyleExpr",
            "Specify which Y-axis to use for the line.",
            &["name,sps,:eq,:sum,1"],
            |ctx| set(ctx, "axis", |v| check(v.parse::<u8>().is_ok_and(|a| a <= 4), "axis must be 0 to 4", v)),
        ),
        word(
            "offset",
            &[Param::Presentation, Param::StrList],
            "StyleExpr offsets:List -- StyleExpr",
            "Shift the time frame to use when fetching the data.",
            &["name,sps,:eq,:sum,(,0h,1d,1w,)"],
            offsets,
        ),
        word(
            "filter",
            &[Param::Presentation, Param::TimeSeries],
            "StyleExpr TimeSeriesExpr -- StyleExpr",
            "Filter the output based on another expression.",
            &["name,sps,:eq,:sum,(,nf.cluster,),:by,$nf.cluster,:legend,:stat-max,30e3,:gt"],
            filter,
        ),
        word(
            "sort",
            SETTING,
            SETTING_SIGNATURE,
            "Sort the results of an expression in the legend by one of the [summary statistics](filter-stat) or by the legend text.",
            &["name,sps,:eq,:sum,(,nf.cluster,),:by,max", "name,sps,:eq,:sum,(,nf.cluster,),:by,legend"],
            |ctx| {
                set(ctx, "sort", |v| {
                    check(v == "legend" || summary_stat(v, &[]).is_some(), "sort by legend or a statistic", v)
                })
            },
        ),
        word(
            "order",
            SETTING,
            SETTING_SIGNATURE,
            "Order to use for [sorting](style-sort) results.",
            &["name,sps,:eq,:sum,(,nf.cluster,),:by,max,:sort,asc", "name,sps,:eq,:sum,(,nf.cluster,),:by,desc"],
            |ctx| set(ctx, "order", |v| check(v == "asc" || v == "desc", "order is asc or desc", v)),
        ),
        word(
            "limit",
            &[Param::Presentation, Param::Int],
            "StyleExpr Int -- StyleExpr",
            "Restrict the output to the first `N` lines from the input expression.",
            &["name,sps,:eq,:sum,(,nf.cluster,),:by,3", "name,sps,:eq,:sum,(,nf.cluster,),:by,max,:sort,desc,:order,2"],
            |ctx| set(ctx, "limit", |v| check(v.parse::<u32>().is_ok(), "limit must not be negative", v)),
        ),
        Word {
            name: "head",
            vocabulary: "style",
            kind: Kind::Macro,
            params: &[Param::Presentation, Param::Int],
            signature: "StyleExpr Int -- StyleExpr",
            summary: "Restrict output to the first N lines.",
            examples: &["name,sps,:eq,(,nf.cluster,),:by,2"],
            body: Body::Macro(&[":limit"]),
        },
        word(
            "alpha",
            SETTING,
            SETTING_SIGNATURE,
            "Set the alpha value for the colors on the line.",
            &["name,sps,:eq,:sum,:stack,40", "name,sps,:eq,:sum,:stack,f00,:color,40"],
            |ctx| set(ctx, "alpha", |v| check(parse_alpha(v).is_some(), "alpha is one or two hex digits", v)),
        ),
        word(
            "color",
            SETTING,
            SETTING_SIGNATURE,
            "Set the color for the line.",
            &["name,sps,:eq,:sum,ff0000", "name,sps,:eq,:sum,f00", "name,sps,:eq,:sum,40,:alpha,f00"],
            |ctx| set(ctx, "color", |v| check(parse_color(v).is_some(), "color is 3, 6 or 8 hex digits", v)),
        ),
        word(
            "palette",
            &[Param::Presentation, Param::Any],
            "StyleExpr palette:String|List -- StyleExpr",
            "Set the [palette](Color-Palettes) to use for the results of an expression.",
            &[
                "name,sps,:eq,:sum,reds",
                "name,sps,:eq,:sum,(,nf.cluster,),:by,reds",
                "name,sps,:eq,:sum,(,nf.cluster,),:by,(,1a9850,91cf60,d9ef8b,fee08b,fc8d59,d73027,)",
            ],
            palette,
        ),
        word(
            "ls",
            SETTING,
            SETTING_SIGNATURE,
            "Set the line style.",
            &[
                "name,sps,:eq,:sum,(,name,),:by,line",
                "name,sps,:eq,:sum,(,name,),:by,area",
                "name,sps,:eq,:sum,(,name,),:by,stack",
                "name,sps,:eq,:sum,(,name,),:by,heatmap",
                "name,sps,:eq,:sum,(,name,),:by,200e3,:gt,vspan",
            ],
            |ctx| set(ctx, "ls", |v| check(LineKind::parse(v).is_some(), "line style", v)),
        ),
        word(
            "lw",
            &[Param::Presentation, Param::Int],
            "StyleExpr Int -- StyleExpr",
            "The width of the stroke used when drawing the line.",
            &["name,sps,:eq,:sum,(,name,),:by,2"],
            |ctx| set(ctx, "lw", |v| check(v.parse::<u8>().is_ok(), "line width is 0 to 255", v)),
        ),
        macro_word("area", "Set the line style to area.", &["name,sps,:eq,:sum"], &["area", ":ls"]),
        macro_word("line", "Set the line style to line.", &["name,sps,:eq,:sum"], &["line", ":ls"]),
        macro_word("stack", "Set the line style to stack.", &["name,sps,:eq,(,nf.cluster,),:by"], &["stack", ":ls"]),
        macro_word(
            "heatmap",
            "Set the line style to heatmap.",
            &["name,sps,:eq,(,nf.cluster,),:by"],
            &["heatmap", ":ls"],
        ),
        Word {
            name: "percentiles-heatmap",
            vocabulary: "style",
            kind: Kind::Macro,
            params: &[Param::TimeSeries],
            signature: "TimeSeriesExpr -- StyleExpr",
            summary: "Group by percentile and display as a heatmap.",
            examples: &["name,requestLatency,:eq"],
            body: Body::Macro(&["(", "percentile", ")", ":by", ":heatmap"]),
        },
        macro_word(
            "vspan",
            "Set the line style to vertical span.",
            &["name,sps,:eq,:sum,:dup,200e3,:gt"],
            &["vspan", ":ls"],
        ),
        super::stateful::DES_EPIC_VIZ,
        word(
            "strip-style",
            &[Param::Presentation],
            "StyleExpr -- TimeSeriesExpr",
            "Remove all presentation settings from an expression.",
            &["name,sps,:eq,:sum,ff0000,:color", "name,sps,:eq,:sum,custom,:legend"],
            |ctx| {
                let styled = styled_at(ctx, 0)?;
                ctx.pop()?;
                Ok(ctx.push_expr(styled.expr)?)
            },
        ),
    ],
};

/// The item `depth` places below the top as a styled expression (a plain one with no settings).
fn styled_at(ctx: &Context<'_>, depth: usize) -> Result<StyledExpr, Reason> {
    match ctx.peek(depth)? {
        Item::Styled(styled) => Ok((**styled).clone()),
        other => match other.to_expr() {
            Some(expr) => Ok(StyledExpr::new(expr)),
            None => Err(ctx.wrong_type_at(depth, "StyleExpr")),
        },
    }
}

/// Replaces the top `count` items with `styled`, within the expression limits.
fn replace_with_styled(ctx: &mut Context<'_>, count: usize, styled: StyledExpr) -> Result<(), Fail> {
    let (nodes, _) = styled.expr.shape();
    ctx.charge(nodes + styled.settings.len() + styled.edits.len())?;
    for _ in 0..count {
        ctx.pop()?;
    }
    Ok(ctx.push(Item::Styled(Arc::new(styled)))?)
}

fn check(ok: bool, what: &str, value: &str) -> Result<(), Reason> {
    if ok { Ok(()) } else { Err(Reason::InvalidStyle(format!("{what}, got {value:?}"))) }
}

/// `expr value :name`: checks the value and records it under `name`.
fn set(ctx: &mut Context<'_>, name: &str, valid: fn(&str) -> Result<(), Reason>) -> Result<(), Fail> {
    let value = ctx.peek_str(0)?.to_string();
    valid(&value)?;
    let mut styled = styled_at(ctx, 1)?;
    styled.settings.insert(name.to_string(), value);
    replace_with_styled(ctx, 2, styled)
}

fn decode(ctx: &mut Context<'_>) -> Result<(), Fail> {
    let mode = ctx.peek_str(0)?.to_string();
    check(mode == "hex" || mode == "none", "decoding is hex or none", &mode)?;
    let mut styled = styled_at(ctx, 1)?;
    styled.edits.push(LegendEdit::Decode(mode));
    replace_with_styled(ctx, 2, styled)
}

fn search_replace(ctx: &mut Context<'_>) -> Result<(), Fail> {
    let replace = ctx.peek_str(0)?.to_string();
    let search = ctx.peek_str(1)?.to_string();
    ctx.pattern(&search, false)?;
    let mut styled = styled_at(ctx, 2)?;
    styled.edits.push(LegendEdit::Replace { search, replace });
    replace_with_styled(ctx, 3, styled)
}

fn palette(ctx: &mut Context<'_>) -> Result<(), Fail> {
    let value = match ctx.peek(0)? {
        Item::Str(name) => {
            let known =
                format!("palette is a list of colours or one of {}, maybe after hash:", PALETTE_NAMES.join(", "));
            check(is_palette(name), &known, name)?;
            name.clone()
        }
        Item::List(_) => {
            let colors = ctx.peek_strings(0)?;
            if colors.is_empty() || colors.iter().any(|c| parse_color(c).is_none()) {
                return Err(Reason::InvalidStyle(format!("palette must list hex colors, got {colors:?}")).into());
            }
            format!("(,{},)", colors.join(","))
        }
        _ => return Err(ctx.wrong_type_at(0, "String or List").into()),
    };
    let mut styled = styled_at(ctx, 1)?;
    styled.settings.insert("palette".into(), value);
    replace_with_styled(ctx, 2, styled)
}

/// `expr (,1d,1w,) :offset`: records the offsets, each checked as a duration; an empty list
/// leaves the expression as it is, as Atlas.
fn offsets(ctx: &mut Context<'_>) -> Result<(), Fail> {
    let list = ctx.peek_strings(0)?;
    if let Some(bad) = list.iter().find(|d| parse_duration(d).is_none()) {
        return Err(Reason::InvalidStyle(format!("offset must be a duration, got {bad:?}")).into());
    }
    let mut styled = styled_at(ctx, 1)?;
    let value = if list.is_empty() { "(,)".to_string() } else { format!("(,{},)", list.join(",")) };
    styled.settings.insert("offset".into(), value);
    replace_with_styled(ctx, 2, styled)
}

/// `styled condition :filter`: filters the styled expression's lines, its settings kept. A
/// plain expression below the condition is the filter vocabulary's `:filter`.
fn filter(ctx: &mut Context<'_>) -> Result<(), Fail> {
    if !matches!(ctx.peek(1)?, Item::Styled(_)) {
        return Err(ctx.wrong_type_at(1, "StyleExpr").into());
    }
    let condition = ctx.peek_expr(0)?;
    let mut styled = styled_at(ctx, 1)?;
    styled.expr = Expr::filter(styled.expr, condition).map_err(Reason::InvalidExpression)?;
    replace_with_styled(ctx, 2, styled)
}
