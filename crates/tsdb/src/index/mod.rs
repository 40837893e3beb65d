//! The inverted index: which series carry which tags.
//!
//! [`Matcher`] is a tag query in Atlas's vocabulary (`:eq`, `:re`, `:reic`, `:has`, `:in`,
//! `:lt`/`:le`/`:gt`/`:ge`, `:not`, `:and`, `:or`, `:true`, `:false`); [`Matcher::compile`]
//! checks it once into a [`CompiledMatcher`], which either tests one series' tags
//! ([`CompiledMatcher::matches`]) or selects from a [`MemIndex`] ([`MemIndex::select`]) as
//! [`Postings`], sorted id lists combined by intersection, union and difference. `postings`
//! holds the list operations, `prefix` reads a regex's literal prefix, `matcher` the query
//! types, `memindex` the index itself.
//!
//! Design decision: selection through the index and matching one series at a time are two
//! implementations of one semantics, and proptest holds them to the same answers on random tag
//! sets and random query trees.

mod matcher;
mod memindex;
mod postings;
mod prefix;

pub use matcher::{CompiledMatcher, MAX_DEPTH, MAX_REGEX_BYTES, Matcher};
pub use memindex::MemIndex;
pub use postings::Postings;

/// Why a query could not be compiled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    /// A `:re` or `:reic` pattern is not a valid regular expression (or is too large).
    #[error("invalid regular expression {pattern:?}: {source}")]
    InvalidRegex {
        /// The pattern as given.
        pattern: String,
        /// The regex crate's reason.
        #[source]
        source: regex::Error,
    },
    /// The query nests `:and`, `:or` and `:not` deeper than the limit.
    #[error("query nests deeper than {limit} levels")]
    TooDeep {
        /// The limit, [`MAX_DEPTH`].
        limit: usize,
    },
}
