//! plumb-atlas: the Atlas Stack Language (ASL), the query language of Netflix's Atlas, which
//! plumb's server answers (`/api/v1/graph?q=name,sps,:eq,(,nf.cluster,),:by`,
//! `/api/v1/tags?q=...`).
//!
//! A program is a comma-separated list of tokens run left to right against a stack: string
//! literals are pushed, `(` ... `)` push a list, and `:words` pop their arguments and push their
//! results. [`lexer`] splits and unescapes the text (URL-decoding is the caller's job);
//! [`Interpreter`] runs it with a set of [`Vocabulary`] tables and [`Limits`], leaving a stack of
//! [`Item`]s; [`Query`] is the tag-matching expression the `query` words build, with an
//! evaluator ([`Query::matches`]) and a `Display` that writes it back in normalized ASL.
//! Vocabularies follow Atlas's chain: `standard` (stack, variables, lists as programs,
//! `:freeze`, `:format`) and `query` are implemented; `data`, `math`, `stateful`, `filter` and
//! `style` are placeholders whose words fail "not implemented yet", naming the word. Every
//! failure is one [`Error`]: the token, its byte position, a [`Reason`], and the stack rendered.
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
//! Design decision: words are data, not code paths in a big match. Each [`Word`] carries its
//! name, vocabulary, parameter types, signature, summary and examples beside its function, as
//! Atlas's do; the interpreter picks the first variant of a name whose parameter types fit the
//! stack, which is how `:and` can mean a query here and a time-series operation when `math`
//! arrives, and the tests run every word's examples from the same table.
//!
//! Hostile input is bounded by [`Limits`] (program size, stack depth, list nesting, call depth,
//! query size, string size, regex size, and a work budget); lists and queries are shared behind
//! `Arc`, so duplicating them is cheap. This crate does no I/O and knows nothing of storage or
//! HTTP.

mod error;
mod interpreter;
mod item;
pub mod lexer;
mod limits;
mod query;
pub mod vocab;
mod word;

pub use error::{Error, RENDERED_STACK_CHARS, Reason};
pub use interpreter::Interpreter;
pub use item::{Item, List, render_capped, type_summary};
pub use limits::{Limit, Limits};
pub use query::{Pattern, Query, Shape};
pub use word::{Kind, Param, Vocabulary, Word};
