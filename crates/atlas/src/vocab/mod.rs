//! The vocabularies, in Atlas's chain order: standard, query, data, math, then stateful,
//! filter, and style.
//!
//! Design decision: the order of [`ALL`] is the lookup order for overloaded words, as Atlas's
//! `allWords` puts each vocabulary's dependencies first: `:and` is tried as a query word before
//! math's `:and`, and data's `:sum` (on a query) before math's (on any expression).

mod data;
mod filter;
mod format;
mod math;
mod math_macros;
mod query;
mod standard;
mod stateful;
mod style;

pub use data::DATA;
pub use filter::FILTER;
pub use math::MATH;
pub use query::QUERY;
pub use standard::STANDARD;
pub use stateful::STATEFUL;
pub use style::STYLE;

use crate::word::Vocabulary;

/// Every vocabulary, in lookup order.
pub static ALL: &[&Vocabulary] = &[&STANDARD, &QUERY, &DATA, &MATH, &STATEFUL, &FILTER, &STYLE];
