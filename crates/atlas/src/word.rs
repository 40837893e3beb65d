//! Words and vocabularies: each word carries its name, parameter types, signature, summary and
//! examples beside its code, as Atlas's words do, so references and tests come from one table.
//!
//! Design decision: a word is a plain `static` value with a function pointer, not a trait
//! object; a vocabulary is a slice of them. Overloads (`:and` on queries in the query
//! vocabulary, on time series in math) are several words with one name: the interpreter runs the
//! first whose parameter types fit the stack, in vocabulary order.

use crate::expr::{DataExpr, Expr};
use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::time::{parse_double, parse_duration};

/// The type of one parameter, checked against the stack before a word runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Any item.
    Any,
    /// A string literal.
    Str,
    /// A string literal that parses as a 32-bit integer.
    Int,
    /// A list.
    List,
    /// A list whose elements are all strings (or words, read as `:name`).
    StrList,
    /// A query expression.
    Query,
    /// A string that parses as a number (`42`, `200e3`, `NaN`).
    Number,
    /// A list whose elements are all numbers.
    NumberList,
    /// A string that parses as a duration (`1w`, `PT1H`).
    Duration,
    /// Anything that stands for a time series: an expression, a query (its `:sum`) or a number
    /// (a constant line).
    TimeSeries,
    /// A data expression, or a query (its `:sum`).
    DataExpr,
    /// An aggregate of a query (`:sum`, `:count`, `:min`, `:max`), or a query (its `:sum`).
    Aggregate,
    /// A styled expression, or anything that stands for a time series.
    Presentation,
}

impl Param {
    /// Whether `item` fits this parameter.
    pub fn accepts(self, item: &Item) -> bool {
        match (self, item) {
            (Param::Any, _) | (Param::Str, Item::Str(_)) | (Param::List, Item::List(_)) => true,
            (Param::Int, Item::Str(s)) => s.parse::<i32>().is_ok(),
            (Param::StrList, Item::List(l)) => l.items().iter().all(|i| i.as_text().is_some()),
            (Param::Query, Item::Query(_)) => true,
            (Param::Number, Item::Str(s)) => parse_double(s).is_some(),
            (Param::NumberList, Item::List(l)) => {
                l.items().iter().all(|i| matches!(i, Item::Str(s) if parse_double(s).is_some()))
            }
            (Param::Duration, Item::Str(s)) => parse_duration(s).is_some(),
            (Param::TimeSeries, item) => item.to_expr().is_some(),
            (Param::Presentation, item) => matches!(item, Item::Styled(_)) || item.to_expr().is_some(),
            (Param::DataExpr | Param::Aggregate, Item::Query(_)) => true,
            (Param::DataExpr, Item::Expr(e)) => matches!(**e, Expr::Data(_)),
            (Param::Aggregate, Item::Expr(e)) => matches!(**e, Expr::Data(DataExpr::Aggregate(_))),
            _ => false,
        }
    }
}

/// Whether a word is native code or a macro over other words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Native code.
    Word,
    /// A sequence of other words.
    Macro,
}

/// What running a word does.
#[derive(Clone, Copy)]
pub(crate) enum Body {
    /// Native code; parameters are checked before it runs.
    Native(fn(&mut Context<'_>) -> Result<(), Fail>),
    /// Runs these tokens (strings and `:words`) as a program.
    Macro(&'static [&'static str]),
    /// A word of a vocabulary not implemented yet: fails naming the vocabulary. No word of
    /// Atlas's vocabularies is one today; kept so a new vocabulary can land word by word.
    #[allow(dead_code)]
    Pending,
}

/// One word of the stack language.
#[derive(Clone, Copy)]
pub struct Word {
    /// The name without the colon: `eq` for `:eq`.
    pub name: &'static str,
    /// The vocabulary it belongs to: `standard`, `query`, `data`, ...
    pub vocabulary: &'static str,
    /// Native word or macro.
    pub kind: Kind,
    /// Parameter types, bottom of the stack first; the word runs only if the top items fit.
    pub params: &'static [Param],
    /// The stack effect, Forth style: `k:String v:String -- Query`.
    pub signature: &'static str,
    /// One sentence on what it does.
    pub summary: &'static str,
    /// Programs to run before the word, as Atlas lists them; an `ERROR:` prefix means the word
    /// must fail on that stack.
    pub examples: &'static [&'static str],
    pub(crate) body: Body,
}

impl Word {
    /// Whether the top of `stack` (bottom first) fits the parameters.
    pub fn accepts(&self, stack: &[Item]) -> bool {
        let Some(start) = stack.len().checked_sub(self.params.len()) else { return false };
        stack.get(start..).is_some_and(|top| self.params.iter().zip(top).all(|(p, item)| p.accepts(item)))
    }

    /// Whether the word is implemented (not a placeholder for a later vocabulary).
    pub fn is_implemented(&self) -> bool {
        !matches!(self.body, Body::Pending)
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Word").field("name", &self.name).field("vocabulary", &self.vocabulary).finish_non_exhaustive()
    }
}

/// A named set of words.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary {
    /// The vocabulary's name, as in Atlas: `standard`, `query`, ...
    pub name: &'static str,
    /// Its words, in the order Atlas lists them.
    pub words: &'static [Word],
}

impl Word {
    /// A word of `vocabulary` whose body is Rust code (every vocabulary's table builds its
    /// native words with this).
    pub(crate) const fn native(
        vocabulary: &'static str,
        name: &'static str,
        params: &'static [Param],
        signature: &'static str,
        summary: &'static str,
        examples: &'static [&'static str],
        code: fn(&mut Context<'_>) -> Result<(), Fail>,
    ) -> Word {
        Word { name, vocabulary, kind: Kind::Word, params, signature, summary, examples, body: Body::Native(code) }
    }

    /// A macro of `vocabulary`: `body` is a program run in the word's place.
    pub(crate) const fn macro_of(
        vocabulary: &'static str,
        name: &'static str,
        params: &'static [Param],
        signature: &'static str,
        summary: &'static str,
        examples: &'static [&'static str],
        body: &'static [&'static str],
    ) -> Word {
        Word { name, vocabulary, kind: Kind::Macro, params, signature, summary, examples, body: Body::Macro(body) }
    }
}
