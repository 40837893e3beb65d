//! plumb-trace: the BPF tracing tools built on plumb-bpf, starting with the snoop tools
//! `execsnoop` (every execve: time, pid, parent, return value, command line) and `opensnoop`
//! (every open: time, command, pid, fd or errno, path).
//!
//! Each tool is an event type ([`ExecEvent`], [`OpenEvent`]) that decodes its BPF record and
//! prints itself as a line or a JSON object, plus a filter ([`ExecFilter`], [`OpenFilter`]);
//! [`execsnoop`] and [`opensnoop`] load and attach the kernel side and return a [`Snoop`] whose
//! `run` prints until Ctrl-C or a duration and returns a [`Summary`] with the losses.
//!
//! Design decision: records are decoded from bytes by offset (`record`), never transmuted, so
//! the decoders are ordinary safe functions tested with arbitrary input; the C structs and their
//! decoders name each other in comments, and the round-trip tests encode the C layout.

mod exec;
mod open;
mod record;
mod snoop;
mod time;

pub use exec::{ExecEvent, ExecFilter};
pub use open::{OpenCall, OpenEvent, OpenFilter};
pub use record::DecodeError;
pub use snoop::{RunOptions, Snoop, SnoopEvent, Summary, execsnoop, opensnoop};

/// Why a tracing tool stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Loading, attaching or reading the BPF side failed.
    #[error(transparent)]
    Bpf(#[from] plumb_bpf::Error),
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
}
