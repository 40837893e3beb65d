//! The crate's one error: which token failed, at which byte, why, and the stack at that moment.
//!
//! Design decision: the error is a struct around a [`Reason`] enum rather than one enum with the
//! token, position and stack repeated in every variant; callers match on `reason` to pick an
//! HTTP status or a message, and always have the same three facts to show the user.

use crate::limits::Limit;

/// A program could not be lexed or executed.
#[derive(Debug, thiserror::Error)]
#[error("{token} at byte {position}: {reason} (stack: [{stack}])")]
pub struct Error {
    /// The token that failed: the word (`:eq`) for execution errors, `(` or `)` for unmatched
    /// parentheses, `/*` or `*/` for comments, empty for whole-program checks. Inside `:call`,
    /// `:each`, `:map` and macros it is the innermost word that failed.
    pub token: String,
    /// Byte offset in the program of the top-level token being executed (for a word run inside
    /// a list by `:call` or `:each`, the offset of that `:call` or `:each`).
    pub position: usize,
    /// Why it failed.
    pub reason: Reason,
    /// The stack when it failed, bottom first, rendered in the stack language and cut short
    /// after [`RENDERED_STACK_CHARS`] characters.
    pub stack: String,
}

/// How many characters of the stack an [`Error`] keeps.
pub const RENDERED_STACK_CHARS: usize = 400;

impl Error {
    /// An error found before execution (comments, program length), with an empty stack.
    pub(crate) fn lexical(token: &str, position: usize, reason: Reason) -> Self {
        Error { token: token.to_string(), position, reason, stack: String::new() }
    }
}

/// Why a program failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// No vocabulary of the interpreter defines the word.
    #[error("unknown word")]
    UnknownWord,
    /// The word needs more items than the stack holds.
    #[error("stack underflow: {available} on the stack, the word takes {needed}")]
    StackUnderflow {
        /// Fewest items any variant of the word takes.
        needed: usize,
        /// Items on the stack.
        available: usize,
    },
    /// The items on top of the stack are not of the types the word takes.
    #[error("wrong item types: expected {expected}, found [{found}]")]
    WrongTypes {
        /// The signatures of the word's variants.
        expected: String,
        /// The types of the items on top of the stack, bottom first.
        found: String,
    },
    /// A `)` with no `(` before it.
    #[error("unmatched closing parenthesis")]
    UnmatchedClose,
    /// A `(` with no `)` after it.
    #[error("unmatched opening parenthesis")]
    UnmatchedOpen,
    /// A `/*` comment runs to the end of the program.
    #[error("comment is not closed")]
    UnclosedComment,
    /// A `*/` with no comment open.
    #[error("comment end without a comment start")]
    UnmatchedCommentEnd,
    /// The regular expression does not compile (bad syntax, a feature the `regex` crate lacks
    /// such as look-around, or over the size limit).
    #[error("invalid regular expression {pattern:?}")]
    InvalidRegex {
        /// The pattern as written.
        pattern: String,
        /// What the regex compiler said.
        #[source]
        source: regex::Error,
    },
    /// `:get` of a variable that was never `:set` (or was cleared by `:freeze`).
    #[error("variable {0:?} is not set")]
    UnknownVariable(String),
    /// `:pick` or `:roll` was asked for an item deeper than the stack.
    #[error("index {index} is out of range for a stack of {depth} items")]
    IndexOutOfRange {
        /// The index asked for.
        index: i64,
        /// Items available below the index.
        depth: usize,
    },
    /// The function given to `:map` left nothing on the stack to collect.
    #[error("the function left no result on the stack")]
    NoResult,
    /// A `:format` pattern is invalid or does not fit its arguments.
    #[error("invalid format: {0}")]
    InvalidFormat(String),
    /// The word belongs to a vocabulary that plumb does not implement yet.
    #[error("not implemented yet (vocabulary {vocabulary})")]
    NotImplemented {
        /// The vocabulary the word comes from in Atlas.
        vocabulary: &'static str,
    },
    /// The program ran into one of the interpreter's limits.
    #[error("limit exceeded: {0}")]
    LimitExceeded(Limit),
    /// The words' arguments fit their types but not the rules of the expression they build
    /// (a binary operator on unrelated groupings, a `:by` on keys the input lacks).
    #[error("invalid expression: {0}")]
    InvalidExpression(String),
    /// A stack item left for evaluation is not an expression, a query or a number.
    #[error("expected an expression on the stack, found {found}")]
    NotAnExpression {
        /// The item's type.
        found: String,
    },
    /// The caller's source failed to fetch data for a query.
    #[error("fetching {query} failed: {message}")]
    Fetch {
        /// The query, in the stack language.
        query: String,
        /// What the source said.
        message: String,
    },
    /// Evaluating an expression failed on the data (an ambiguous join, a bad `:time-span`).
    #[error("evaluation failed: {0}")]
    Evaluation(String),
    /// The evaluation context is unusable (a step that is not positive, an end before the start).
    #[error("invalid evaluation context: {0}")]
    InvalidContext(String),
    /// A style word's value is not one it takes (a colour that is not hex, an unknown palette).
    #[error("invalid style: {0}")]
    InvalidStyle(String),
    /// The program was expected to leave exactly one query on the stack.
    #[error("expected exactly one query on the stack, found [{found}]")]
    NotOneQuery {
        /// The types of the items left, bottom first.
        found: String,
    },
}
