//! plumb-trace: the BPF tracing tools built on plumb-bpf, starting with the snoop tools
//! `execsnoop` (every execve: time, pid, parent, return value, command line) and `opensnoop`
//! (every open: time, command, pid, fd or errno, path).
//!
//! Each tool is an event type ([`ExecEvent`], [`OpenEvent`]) that decodes its BPF record and
//! prints itself as a line or a JSON object, plus a filter ([`ExecFilter`], [`OpenFilter`]);
//! [`execsnoop`] and [`opensnoop`] load and attach the kernel side and return a [`Snoop`] whose
//! `run` prints until Ctrl-C or a duration and returns a [`Summary`] with the losses.
//! Aggregating tools read maps instead of records: [`runqlat`] (run-queue latency histogram,
//! [`RunqHistogram`]) and [`offcputime`] (blocked time per stack, made a profile by
//! [`offcpu_profile`]). The TCP tools are snoop tools too: [`tcpretrans`] (each retransmission)
//! and [`tcplife`] (each session at its close, with bytes and duration).
//!
//! Design decision: records are decoded from bytes by offset (`record`), never transmuted, so
//! the decoders are ordinary safe functions tested with arbitrary input; the C structs and their
//! decoders name each other in comments, and the round-trip tests encode the C layout.

mod block;
mod exec;
mod heatmap;
mod iolatency;
mod iosnoop;
mod offcpu;
mod open;
mod record;
mod runqlat;
mod snoop;
mod tcp;
mod tcplife;
mod tcpretrans;
mod time;

pub use block::{BlockDev, DeviceError, device_names};
pub use exec::{ExecEvent, ExecFilter};
pub use heatmap::{HeatMap, record_columns};
pub use iolatency::{
    IO_SLOTS, IntervalOptions, IoHistogram, Iolatency, IolatencyOptions, IolatencySummary, io_slot_bounds_us, iolatency,
};
pub use iosnoop::{IoEvent, IoFilter, Iosnoop, iosnoop};
pub use offcpu::{OFFCPU_KEY_LEN, OffcpuKey, OffcpuStack, Offcputime, StacksLost, offcpu_profile, offcputime};
pub use open::{OpenCall, OpenEvent, OpenFilter};
pub use record::DecodeError;
pub use runqlat::{
    RUNQ_SLOTS, RunqHistogram, RunqSnapshot, Runqlat, RunqlatOptions, runq_slot_bounds, runqlat, runqlat_named,
};
pub use snoop::{RunOptions, Snoop, SnoopEvent, Summary, execsnoop, opensnoop};
pub use tcp::{TcpFilter, tcp_state_name};
pub use tcplife::{TcpSession, tcplife};
pub use tcpretrans::{TcpRetransEvent, tcpretrans};

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
