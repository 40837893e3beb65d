//! The errors of a recording session.

/// Why a recording could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Opening or reading the perf events failed (permissions, unsupported event, no such pid).
    #[error(transparent)]
    Perf(#[from] plumb_perf::Error),
    /// The command to profile could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command as given.
        command: String,
        /// The operating system's answer.
        source: std::io::Error,
    },
    /// The command to profile never reached the point where sampling starts.
    #[error("{command} did not start: {reason}")]
    ChildStart {
        /// The command as given.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The options contradict each other or are out of range.
    #[error("{0}")]
    Invalid(String),
}
