//! The collector's error type.

use std::path::PathBuf;

/// Why a source could not be read this cycle.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The file does not exist: the kernel lacks this source (no PSI, say).
    #[error("{path} is absent: this kernel does not provide it")]
    Absent { path: PathBuf },
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file was read but its contents are not in the expected format.
    #[error("cannot parse {file} line {line}: {reason}")]
    ProcParse { file: String, line: usize, reason: String },
}

impl CollectError {
    /// A parse error in `file` at 1-based `line`.
    pub fn parse(file: impl Into<String>, line: usize, reason: impl Into<String>) -> Self {
        CollectError::ProcParse { file: file.into(), line, reason: reason.into() }
    }
}
