//! The one error type of plumb-perf.
//!
//! Design decision: a denied `perf_event_open` is not passed through as a bare EACCES but becomes
//! [`Error::PermissionDenied`], whose message names every fix (root, CAP_PERFMON, the sysctl
//! with the level the request needs) and the machine's current `perf_event_paranoid`, so the CLI
//! can print it as is.

use std::io;
use std::path::PathBuf;

use crate::config::Event;

/// Everything that can go wrong opening, reading or parsing perf events.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused perf_event_open (EACCES or EPERM).
    #[error(
        "perf_event_open was denied ({source}): run as root, grant CAP_PERFMON \
         (`setcap cap_perfmon+ep <binary>`), or allow it with `sysctl kernel.perf_event_paranoid={needed}` \
         (this request needs {needed} or lower; the current value is {current})"
    )]
    PermissionDenied {
        /// The perf_event_paranoid level this request needs.
        needed: i32,
        /// The current contents of /proc/sys/kernel/perf_event_paranoid, or why it is unknown.
        current: String,
        /// The kernel's answer.
        source: io::Error,
    },
    /// The event does not exist on this kernel or machine (ENOENT, EOPNOTSUPP, ENODEV).
    #[error("the {event} event is not supported by this kernel or machine: {source}")]
    EventUnsupported {
        /// The event asked for.
        event: Event,
        /// The kernel's answer.
        source: io::Error,
    },
    /// The process or thread to profile does not exist (ESRCH, or no /proc/PID/task).
    #[error("no such process: {pid}")]
    NoSuchProcess {
        /// The missing process id.
        pid: u32,
    },
    /// perf_event_open failed for another reason.
    #[error("perf_event_open(pid {pid}, cpu {cpu}) failed: {source}")]
    Open {
        /// The pid argument (-1 for all processes).
        pid: i32,
        /// The cpu argument (-1 for any CPU).
        cpu: i32,
        /// The kernel's answer.
        source: io::Error,
    },
    /// Mapping a ring buffer failed; EPERM here means the locked-memory budget is spent.
    #[error(
        "mapping a {bytes}-byte perf ring buffer for CPU {cpu} failed: {source} \
         (ask for fewer pages, raise `sysctl kernel.perf_event_mlock_kb`, or run as root)"
    )]
    Mmap {
        /// The CPU of the ring buffer.
        cpu: u32,
        /// The size of the mapping.
        bytes: usize,
        /// The kernel's answer.
        source: io::Error,
    },
    /// An operation on an open perf event (an ioctl, or reading its counter) failed.
    #[error("{op} on a perf event failed: {source}")]
    Ioctl {
        /// The operation's name.
        op: &'static str,
        /// The kernel's answer.
        source: io::Error,
    },
    /// Waiting on the ring buffers with poll(2) failed.
    #[error("poll on perf events failed: {0}")]
    Poll(#[source] io::Error),
    /// A /proc or /sys file the session needs could not be read.
    #[error("reading {path} failed: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A CPU list (as in /sys/devices/system/cpu/online) did not parse.
    #[error("bad CPU list {text:?}: {reason}")]
    CpuList {
        /// The text that was read.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The sampling configuration is not usable.
    #[error("invalid sampling configuration: {0}")]
    InvalidConfig(String),
    /// The event's sample_type asks for fields the record parser cannot decode.
    #[error("sample_type bits {bits:#x} are not supported by the record parser")]
    UnsupportedSampleType {
        /// The offending bits.
        bits: u64,
    },
    /// A PMU directory under /sys/bus/event_source/devices does not exist.
    #[error("no {pmu} PMU: {} does not exist", path.display())]
    PmuMissing {
        /// The PMU's name (`*` when the whole directory of PMUs is missing).
        pmu: String,
        /// The directory that is absent.
        path: PathBuf,
    },
    /// A PMU exists but does not list the named event.
    #[error("the {pmu} PMU has no {event} event: {} is missing (present: {present})", path.display())]
    PmuEventMissing {
        /// The PMU's name.
        pmu: String,
        /// The event asked for.
        event: String,
        /// The events/ file that is absent.
        path: PathBuf,
        /// The events the PMU does list, comma-separated.
        present: String,
    },
    /// A PMU's type, format or event file did not parse.
    #[error("bad PMU description in {}: {reason}", path.display())]
    PmuParse {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The kernel has no such counter on this machine (ENOENT, EOPNOTSUPP, ENODEV); the
    /// kernel's answer is the source, so a printed chain shows it once.
    #[error("perf_event_open({counter}) failed")]
    CounterUnsupported {
        /// The counter as perf_event_attr names it, such as
        /// `PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES`.
        counter: String,
        /// The kernel's answer.
        source: io::Error,
    },
    /// A record's bytes did not match its kind's layout.
    #[error("malformed perf record of type {kind}: {reason}")]
    MalformedRecord {
        /// The record type.
        kind: u32,
        /// What was wrong.
        reason: &'static str,
    },
}
