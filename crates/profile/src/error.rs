//! The crate's one error type.
//!
//! Design decision: malformed lines of text formats (folded stacks) are not errors but counted
//! warnings beside the result ([`crate::folded::BadLines`]); errors are for inputs that cannot be
//! read at all and for writers that fail.

/// Why a profile could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("reading or writing a profile failed: {0}")]
    Io(#[from] std::io::Error),
    /// The profile holds no stack, so there is no flame graph to draw.
    #[error("the profile holds no samples, so there is no flame graph to draw")]
    NoSamples,
    /// inferno could not render the flame graph.
    #[error("rendering the flame graph failed: {0}")]
    Render(#[source] std::io::Error),
    /// inferno could not collapse the `perf script` output.
    #[error("collapsing perf script output failed: {0}")]
    Collapse(#[source] std::io::Error),
    /// The input looked gzip-compressed but does not decompress.
    #[error("the input is not valid gzip: {0}")]
    Gzip(#[source] std::io::Error),
    /// The bytes are not a protobuf `perftools.profiles.Profile`.
    #[error("the input is not a pprof profile.proto: {0}")]
    PprofDecode(#[from] prost::DecodeError),
    /// The pprof profile decodes but refers to ids or strings it does not define.
    #[error("the pprof profile is inconsistent: {0}")]
    PprofInvalid(String),
    /// The speedscope input is not valid JSON of speedscope's schema.
    #[error("the input is not speedscope JSON: {0}")]
    SpeedscopeJson(#[from] serde_json::Error),
    /// The speedscope JSON refers to frames it does not define, or holds no sampled profile.
    #[error("the speedscope profile is inconsistent: {0}")]
    SpeedscopeInvalid(String),
    /// The input is none of the formats plumb reads.
    #[error("the input is not folded stacks, pprof, speedscope JSON or perf script output")]
    UnknownFormat,
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
