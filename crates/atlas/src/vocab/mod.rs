//! The vocabularies, in Atlas's chain order: standard, query, then the placeholders for data,
//! math, stateful, filter and style.
//!
//! Design decision: the order of [`ALL`] is the lookup order for overloaded words, as Atlas's
//! `allWords` puts each vocabulary's dependencies first: `:and` is tried as a query word before
//! math's (placeholder) `:and`.

mod format;
mod pending;
mod query;
mod standard;

pub use pending::{DATA, FILTER, MATH, STATEFUL, STYLE};
pub use query::QUERY;
pub use standard::STANDARD;

use crate::word::Vocabulary;

/// Every vocabulary, in lookup order.
pub static ALL: &[&Vocabulary] = &[&STANDARD, &QUERY, &DATA, &MATH, &STATEFUL, &FILTER, &STYLE];
