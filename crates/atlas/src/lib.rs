//! plumb-atlas: the Atlas Stack Language (ASL), the query language of Netflix's Atlas, which
//! plumb's server answers (`/api/v1/graph?q=name,sps,:eq,(,nf.cluster,),:by`,
//! `/api/v1/tags?q=...`).
//!
//! A program is a comma-separated list of tokens run left to right against a stack: string
//! literals are pushed, `(` ... `)` push a list, and `:words` pop their arguments and push their
//! results. [`lexer`] splits and unescapes the text (URL-decoding is the caller's job);
//! [`Interpreter`] runs it with a set of [`Vocabulary`] tables and [`Limits`], leaving a stack of
//! [`Item`]s; [`Query`] is the tag-matching expression the `query` words build, with an
//! evaluator ([`Query::matches`]) and a `Display` that writes it back in normalized ASL. The
//! `data` and `math` words build [`Expr`] trees (data expressions, arithmetic, aggregates,
//! groupings, named rewrites such as `:avg`), which also print back as normalized ASL.
//! Vocabularies follow Atlas's chain: `standard` (stack, variables, lists as programs,
//! `:freeze`, `:format`), `query`, `data`, `math` (its `:approx-distinct` aside) and `style` are
//! implemented; the `style` words wrap an expression in a [`StyledExpr`] (legend, colour,
//! palette, line kind and width, axis, sort, order, limit, legend edits), which also prints back
//! as normalized ASL. The `filter` vocabulary builds summary-stat lines (`:stat`), `:filter`
//! with stat placeholders (`:stat-avg` ...) and the priority filters (`:topk`, `:bottomk`, with
//! an optional `--others--` line); its `:consolidate` is a placeholder. The `stateful` vocabulary's
//! rolling windows, `:delay`, `:integral`, `:derivative` and `:trend` run over each line in
//! time order on the graph's grid. Style's `:offset` with a list, `:filter`,
//! `:percentiles-heatmap` and `:des-epic-viz`, and stateful's DES words, `:cumulative-max` and
//! `:approx-distinct-cumulative`, are placeholders whose words fail "not implemented yet",
//! naming the word. Every failure is one [`Error`]: the token, its byte position, a
//! [`Reason`], and the stack rendered.
//!
//! For a `q` that must be a plain query, as `/api/v1/tags` takes:
//!
//! ```
//! let query = plumb_atlas::Interpreter::default().parse_query("name,sps,:eq,nf.app,(,a,b,),:in,:and")?;
//! let tags = [("name", "sps"), ("nf.app", "b")];
//! assert!(query.matches(|k: &str| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)));
//! assert_eq!(query.to_string(), "name,sps,:eq,nf.app,(,a,b,),:in,:and");
//! # Ok::<(), plumb_atlas::Error>(())
//! ```
//!
//! For a graph, [`Interpreter::evaluate`] runs the program and evaluates every expression it
//! leaves (bottom of the stack first) on the step grid of an [`EvalContext`], reading stored
//! samples through a [`Source`] the caller implements; each result is a [`TimeSeries`] with the
//! tags and legend label Atlas would give it. Samples are consolidated to the step at the end of
//! their interval: the value at `T` covers `T - step < t <= T` (see [`EvalContext`]).
//!
//! ```
//! use plumb_atlas::{EvalContext, Interpreter, Query, RawSeries, Source};
//!
//! struct OneSeries;
//! impl Source for OneSeries {
//!     fn fetch(&self, _: &Query, _: i64, _: i64) -> Result<Vec<RawSeries>, String> {
//!         let tags = [("name", "sps"), ("nf.app", "www")].map(|(k, v)| (k.to_string(), v.to_string()));
//!         Ok(vec![RawSeries { tags: tags.into(), timestamps: vec![60_000, 120_000], values: vec![4.0, 6.0] }])
//!     }
//! }
//!
//! let context = EvalContext::new(60_000, 120_000, 60_000).map_err(|r| r.to_string())?;
//! let lines = Interpreter::default().evaluate("name,sps,:eq,2,:div", &context, &OneSeries)?;
//! assert_eq!(lines[0].values, [2.0, 3.0]);
//! assert_eq!(lines[0].label, "name=sps");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For a chart, [`Interpreter::evaluate_styled`] evaluates the same way and returns
//! [`StyledSeries`]: each line with its legend (`$tag` and `$(tag)` substituted, `:s` and
//! `:decode` applied), colour (six hex digits, from `:color`, `:palette` or the default palette
//! in order), alpha, width, [`LineKind`] and axis, after `:sort`/`:order`/`:limit` within each
//! expression. [`Interpreter::evaluate`] ignores the style and returns the bare lines.
//!
//! Design decision: words are data, not code paths in a big match. Each [`Word`] carries its
//! name, vocabulary, parameter types, signature, summary and examples beside its function, as
//! Atlas's do; the interpreter picks the first variant of a name whose parameter types fit the
//! stack, which is how `:and` means a query on two queries and a time-series operation
//! otherwise, and `:sum` a data aggregate on a query and math's aggregate over lines on any
//! other expression; the tests run every word's examples from the same table. Evaluation is
//! kept apart from the words: they only build expressions, [`Interpreter::evaluate`] fetches
//! each distinct data input once and computes over plain vectors.
//!
//! Hostile input is bounded by [`Limits`] (program size, stack depth, list nesting, call depth,
//! query size, expression size and depth, string size, regex size, points per line, and a work
//! budget); lists, queries and expressions are shared behind `Arc`, so duplicating them is
//! cheap. This crate does no I/O (it reads the clock for `now` in `:time-span`) and knows
//! nothing of storage or HTTP.

mod error;
mod eval;
mod expr;
mod interpreter;
mod item;
pub mod lexer;
mod limits;
mod query;
mod style;
mod time;
pub mod vocab;
mod word;

pub use error::{Error, RENDERED_STACK_CHARS, Reason};
pub use eval::{EvalContext, RawSeries, Source, TimeSeries, bucket_index, bucket_value};
pub use expr::{
    AggregateFunction, Aggregation, BinaryOp, Consolidation, DataExpr, Expr, NamedRewrite, Original, OthersAggregation,
    Percentiles, PriorityFilter, StatefulOp, SummaryStat, UnaryOp, add_nan, max_nan, min_nan,
};
pub use interpreter::Interpreter;
pub use item::{Item, List, render_capped, type_summary};
pub use limits::{Limit, Limits};
pub use query::{Pattern, Query, Shape};
pub use style::{
    DEFAULT_PALETTE, LegendEdit, LineKind, StyledExpr, StyledSeries, decode_hex, named_palette, parse_alpha,
    parse_color, substitute_legend, summary_stat,
};
pub use time::{DateRefs, TimeField, format_double, format_duration, parse_date, parse_double, parse_duration};
pub use word::{Kind, Param, Vocabulary, Word};
