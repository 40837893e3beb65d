//! Stack items: what a program pushes, the words consume, and a finished program leaves behind.
//!
//! Design decision: lists, queries and expressions sit behind `Arc`, so `:dup`, `:pick`, `:get`
//! and `:list` copy a pointer, never a tree; a program that duplicates a list and wraps it again
//! twenty times holds twenty small nodes that share, not a million. Rendering such a stack for an
//! error is therefore bounded by a character budget ([`render_capped`]) rather than by the tree.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::expr::{AggregateFunction, Aggregation, DataExpr, Expr};
use crate::lexer::escape_into;
use crate::query::Query;
use crate::style::StyledExpr;
use crate::time::parse_double;

/// One item on the stack. Later vocabularies add styled lines as a further variant, hence
/// `non_exhaustive`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// A string literal, unescaped.
    Str(String),
    /// A word written inside a list (`(,:dup,)`): the name without the colon. It runs when the
    /// list is executed by `:call`, `:each`, `:map` or `:fcall`; as data it reads as `:name`.
    Word(String),
    /// A list of items.
    List(List),
    /// A query expression.
    Query(Arc<Query>),
    /// A time-series expression built by the data or math words.
    Expr(Arc<Expr>),
    /// An expression with presentation settings, built by the `style` words.
    Styled(Arc<StyledExpr>),
}

impl Item {
    /// The item's type as signatures and errors name it: `String`, `Word`, `List`, `Query`,
    /// `DataExpr`, `TimeSeriesExpr` or `StyleExpr`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Item::Str(_) => "String",
            Item::Word(_) => "Word",
            Item::List(_) => "List",
            Item::Query(_) => "Query",
            Item::Expr(e) if matches!(**e, Expr::Data(_)) => "DataExpr",
            Item::Expr(_) => "TimeSeriesExpr",
            Item::Styled(_) => "StyleExpr",
        }
    }

    /// The item as a time-series expression, as Atlas coerces stack items where one is
    /// expected: an expression as it is, a query as its `:sum`, a number as a constant line.
    pub fn to_expr(&self) -> Option<Expr> {
        match self {
            Item::Expr(e) => Some((**e).clone()),
            Item::Query(q) => {
                Some(Expr::Data(DataExpr::Aggregate(AggregateFunction::new(Aggregation::Sum, (**q).clone()))))
            }
            Item::Str(s) => parse_double(s).map(Expr::Constant),
            Item::Word(_) | Item::List(_) | Item::Styled(_) => None,
        }
    }

    /// The item as a string value if it is one: a string literal, or a word read as `:name`.
    pub fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Item::Str(s) => Some(s.as_str().into()),
            Item::Word(w) => Some(format!(":{w}").into()),
            _ => None,
        }
    }
}

impl From<Query> for Item {
    fn from(query: Query) -> Self {
        Item::Query(Arc::new(query))
    }
}

impl From<Expr> for Item {
    fn from(expr: Expr) -> Self {
        Item::Expr(Arc::new(expr))
    }
}

impl fmt::Display for Item {
    /// Writes the item in the stack language; a string is escaped so it reads back unchanged.
    /// Lists that share structure print in full, so prefer [`render_capped`] for untrusted stacks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Str(s) => escape_into(f, s),
            Item::Word(w) => write!(f, ":{w}"),
            Item::List(list) => {
                f.write_str("(")?;
                for item in list.items() {
                    write!(f, ",{item}")?;
                }
                f.write_str(",)")
            }
            Item::Query(q) => write!(f, "{q}"),
            Item::Expr(e) => write!(f, "{e}"),
            Item::Styled(s) => write!(f, "{s}"),
        }
    }
}

/// A list item: shared elements and the nesting depth of lists inside it (a flat list has 1).
#[derive(Debug, Clone)]
pub struct List {
    items: Arc<[Item]>,
    nesting: usize,
}

impl List {
    /// A list of these items; the nesting is computed from the direct children.
    pub fn new(items: Vec<Item>) -> Self {
        let inner = items.iter().filter_map(|i| if let Item::List(l) = i { Some(l.nesting) } else { None }).max();
        List { items: items.into(), nesting: inner.unwrap_or(0) + 1 }
    }

    /// The elements, first to last.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// How deep lists nest in this one: 1 for a flat list.
    pub fn nesting(&self) -> usize {
        self.nesting
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.items, &other.items) || self.items == other.items
    }
}

/// Renders `items` (bottom first, comma separated) in the stack language, stopping after
/// `max_chars` bytes with a trailing `...`.
pub fn render_capped(items: &[Item], max_chars: usize) -> String {
    let mut out = Capped { text: String::new(), max: max_chars, cut: false };
    for (i, item) in items.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        if write!(out, "{sep}{item}").is_err() {
            break;
        }
    }
    if out.cut {
        out.text.push_str("...");
    }
    out.text
}

/// The types of `items`, comma separated: `String,Query`.
pub fn type_summary(items: &[Item]) -> String {
    items.iter().map(Item::type_name).collect::<Vec<_>>().join(",")
}

/// A writer that stops (with an error, which ends formatting early) once it holds `max` bytes.
struct Capped {
    text: String,
    max: usize,
    cut: bool,
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(s.get(..end).unwrap_or(""));
        self.cut = true;
        Err(fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Item {
        Item::Str(v.into())
    }

    #[test]
    fn renders_items_in_the_stack_language() {
        let list = Item::List(List::new(vec![s("a"), Item::Word("dup".into()), Item::List(List::new(vec![]))]));
        let q = Item::from(Query::Has("k".into()));
        assert_eq!(render_capped(&[s("x,y"), list, q], 100), "x\\u002cy,(,a,:dup,(,),),k,:has");
    }

    #[test]
    fn rendering_stops_at_the_budget() {
        let mut item = s("abc");
        for _ in 0..40 {
            item = Item::List(List::new(vec![item.clone(), item]));
        }
        let text = render_capped(&[item], 50);
        assert_eq!(text.len(), 53);
        assert!(text.ends_with("..."));
    }

    #[test]
    fn nesting_counts_list_levels() {
        let inner = List::new(vec![s("a")]);
        let outer = List::new(vec![Item::List(inner.clone()), s("b")]);
        assert_eq!((inner.nesting(), outer.nesting()), (1, 2));
        assert_eq!(type_summary(&[s("a"), Item::List(outer)]), "String,List");
    }
}
