//! opensnoop's records: decoding the BPF program's `open_event` and printing it as a line or a
//! JSON object. Design decision: the path is read in the kernel at the syscall's exit (the page
//! is faulted in by then), bounded at 255 bytes; a longer path is shown cut, never dropped.

use serde_json::json;

use crate::record::{DecodeError, c_string_at, i32_at, u32_at, u64_at};
use crate::time::{json_time, line_time};

/// Layout of `struct open_event` (crates/bpf/src/bpf/opensnoop.bpf.c): ts_ns u64 @0, pid @8,
/// tid @12, uid @16, ret i32 @20, flags i32 @24, call @28, comm[16] @32, path[256] @48.
const HEADER: usize = 48;
const PATH_MAX_LEN: usize = 256;

/// One open, openat or openat2 call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEvent {
    /// `bpf_ktime_get_ns` at the syscall's exit (CLOCK_MONOTONIC).
    pub ts_ns: u64,
    /// The process (thread group) id.
    pub pid: u32,
    /// The thread id.
    pub tid: u32,
    /// The real user id.
    pub uid: u32,
    /// The result: a file descriptor (>= 0) or a negative errno.
    pub ret: i32,
    /// The open flags (`O_*`).
    pub flags: i32,
    /// Which system call it was.
    pub call: OpenCall,
    /// The command name.
    pub comm: String,
    /// The path as passed, cut at 255 bytes.
    pub path: String,
}

/// The system call an [`OpenEvent`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenCall {
    /// open(2).
    Open,
    /// openat(2).
    Openat,
    /// openat2(2).
    Openat2,
    /// A number this version does not know.
    Unknown(u32),
}

impl OpenCall {
    fn from_raw(raw: u32) -> OpenCall {
        match raw {
            0 => OpenCall::Open,
            1 => OpenCall::Openat,
            2 => OpenCall::Openat2,
            n => OpenCall::Unknown(n),
        }
    }

    /// The system call's name.
    pub fn name(self) -> &'static str {
        match self {
            OpenCall::Open => "open",
            OpenCall::Openat => "openat",
            OpenCall::Openat2 => "openat2",
            OpenCall::Unknown(_) => "unknown",
        }
    }
}

impl OpenEvent {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<OpenEvent, DecodeError> {
        let short = || DecodeError { kind: "open", len: bytes.len(), need: HEADER };
        if bytes.len() < HEADER {
            return Err(short());
        }
        Ok(OpenEvent {
            ts_ns: u64_at(bytes, 0).ok_or_else(short)?,
            pid: u32_at(bytes, 8).ok_or_else(short)?,
            tid: u32_at(bytes, 12).ok_or_else(short)?,
            uid: u32_at(bytes, 16).ok_or_else(short)?,
            ret: i32_at(bytes, 20).ok_or_else(short)?,
            flags: i32_at(bytes, 24).ok_or_else(short)?,
            call: OpenCall::from_raw(u32_at(bytes, 28).ok_or_else(short)?),
            comm: c_string_at(bytes, 32, 16),
            path: c_string_at(bytes, HEADER, PATH_MAX_LEN),
        })
    }

    /// The errno of a failed open, `None` for a success.
    pub fn errno(&self) -> Option<i32> {
        (self.ret < 0).then(|| self.ret.saturating_neg())
    }

    /// The column headers of [`OpenEvent::line`].
    pub fn header() -> String {
        format!("{:<12} {:<16} {:>7} {:>4} {:>3} {}", "TIME", "COMM", "PID", "FD", "ERR", "PATH")
    }

    /// One output line (FD -1 and ERR the errno for a failure); `unix_ns` is the wall-clock time.
    pub fn line(&self, unix_ns: i128) -> String {
        let (fd, err) = match self.errno() {
            Some(errno) => (-1, errno),
            None => (self.ret, 0),
        };
        format!("{:<12} {:<16} {:>7} {:>4} {:>3} {}", line_time(unix_ns), self.comm, self.pid, fd, err, self.path)
    }

    /// One JSON object: `fd` for a success, `errno` and `error` for a failure.
    pub fn json(&self, unix_ns: i128) -> serde_json::Value {
        let mut j = json!({
            "time": json_time(unix_ns),
            "comm": self.comm,
            "pid": self.pid,
            "tid": self.tid,
            "uid": self.uid,
            "call": self.call.name(),
            "flags": self.flags,
            "path": self.path,
        });
        if let Some(map) = j.as_object_mut() {
            match self.errno() {
                Some(errno) => {
                    map.insert("errno".into(), errno.into());
                    map.insert("error".into(), errno_text(errno).into());
                }
                None => {
                    map.insert("fd".into(), self.ret.into());
                }
            }
        }
        j
    }
}

/// The C library's text for an errno, without Rust's ` (os error N)` suffix.
fn errno_text(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_string(),
        None => text,
    }
}

/// Which opens to show; `Default` shows every one. The pid and failure filters also run in the
/// kernel (see `OpensnoopOptions`); applying them here too keeps this the one definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenFilter {
    /// Only this process. Default: any.
    pub pid: Option<u32>,
    /// Only command names containing this. Default: any.
    pub comm: Option<String>,
    /// Only failed opens. Default: false.
    pub failed_only: bool,
}

impl OpenFilter {
    /// True when `event` passes the filter.
    pub fn matches(&self, event: &OpenEvent) -> bool {
        self.pid.is_none_or(|p| event.pid == p)
            && self.comm.as_deref().is_none_or(|c| event.comm.contains(c))
            && (!self.failed_only || event.ret < 0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn encode(e: &OpenEvent, call: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&e.ts_ns.to_ne_bytes());
        for v in [e.pid, e.tid, e.uid] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&e.ret.to_ne_bytes());
        b.extend_from_slice(&e.flags.to_ne_bytes());
        b.extend_from_slice(&call.to_ne_bytes());
        let mut comm = [0u8; 16];
        comm[..e.comm.len()].copy_from_slice(e.comm.as_bytes());
        b.extend_from_slice(&comm);
        let mut path = [0u8; PATH_MAX_LEN];
        path[..e.path.len()].copy_from_slice(e.path.as_bytes());
        b.extend_from_slice(&path);
        b
    }

    fn sample(ret: i32) -> OpenEvent {
        OpenEvent {
            ts_ns: 5,
            pid: 10,
            tid: 11,
            uid: 0,
            ret,
            flags: 0o100,
            call: OpenCall::Openat,
            comm: "cat".into(),
            path: "/etc/passwd".into(),
        }
    }

    #[test]
    fn decodes_what_the_kernel_lays_out() {
        let e = sample(3);
        assert_eq!(OpenEvent::decode(&encode(&e, 1)).unwrap(), e);
        assert_eq!(OpenEvent::decode(&encode(&e, 9)).unwrap().call, OpenCall::Unknown(9));
        assert_eq!(OpenEvent::decode(&[0; 47]).unwrap_err().need, 48);
    }

    #[test]
    fn a_failure_shows_its_errno() {
        let e = sample(-2);
        assert_eq!(e.errno(), Some(2));
        assert!(e.line(0).ends_with("cat                   10   -1   2 /etc/passwd"), "{:?}", e.line(0));
        let j = e.json(0);
        assert_eq!(j["errno"], 2);
        assert_eq!(j["error"], "No such file or directory");
        assert!(j.get("fd").is_none());
        let ok = sample(3).json(0);
        assert_eq!(ok["fd"], 3);
        assert!(ok.get("errno").is_none());
    }

    #[test]
    fn the_filter_takes_pid_comm_and_failures() {
        assert!(OpenFilter::default().matches(&sample(3)));
        assert!(!OpenFilter { failed_only: true, ..Default::default() }.matches(&sample(3)));
        assert!(OpenFilter { failed_only: true, ..Default::default() }.matches(&sample(-13)));
        assert!(!OpenFilter { pid: Some(11), ..Default::default() }.matches(&sample(3)));
        assert!(OpenFilter { comm: Some("ca".into()), ..Default::default() }.matches(&sample(3)));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = OpenEvent::decode(&bytes);
        }

        #[test]
        fn encoded_events_round_trip(pid in any::<u32>(), ret in any::<i32>(), path in "[ -~]{0,255}") {
            let e = OpenEvent { pid, ret, path, ..sample(0) };
            prop_assert_eq!(OpenEvent::decode(&encode(&e, 1)).unwrap(), e);
        }
    }
}
