//! The agent's error types. Every message is one line: `plumb agent` prints it as is.

use std::path::PathBuf;

use plumb_model::TagError;

/// Why the configuration was refused. The binary exits 2 on any of these.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An option's value does not parse or is out of range.
    #[error("invalid {option} {value:?} (from {from}): {reason}")]
    Invalid { option: &'static str, value: String, from: String, reason: String },
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    /// The config file is larger than anyone would write by hand.
    #[error("config file {path} is larger than {limit} bytes")]
    FileTooLarge { path: PathBuf, limit: u64 },
    /// The config file is not valid TOML.
    #[error("config file {path} line {line}: {message}")]
    Toml { path: PathBuf, line: usize, message: String },
    /// The config file has a key the agent does not know.
    #[error("config file {path}: unknown key {key:?} (known: {known})")]
    UnknownKey { path: PathBuf, key: String, known: String },
    /// A key of the config file has a value of the wrong type.
    #[error("config file {path}: {key} must be {expected}")]
    WrongType { path: PathBuf, key: String, expected: &'static str },
    /// A tag is not `KEY=VALUE`.
    #[error("bad tag {text:?} (from {from}): expected KEY=VALUE")]
    TagSyntax { text: String, from: String },
    /// A tag key or value breaks Atlas's rules.
    #[error("bad tag (from {from}): {source}")]
    Tag { from: String, source: TagError },
    /// More common tags than the limit.
    #[error("{count} tags configured; at most {max} are allowed")]
    TooManyTags { count: usize, max: usize },
}

/// Why the on-disk spool could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The spool directory could not be created or listed.
    #[error("cannot open spool directory {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    /// A batch could not be written.
    #[error("cannot write spool file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    /// A batch file could not be removed.
    #[error("cannot remove spool file {path}: {source}")]
    Remove { path: PathBuf, source: std::io::Error },
}

/// Why the agent could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    /// The spool could not be opened.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// The async runtime, a signal handler or the HTTP server failed.
    #[error("{what}: {source}")]
    Runtime { what: &'static str, source: std::io::Error },
    /// A worker thread panicked.
    #[error("the {0} thread panicked")]
    Thread(&'static str),
}
