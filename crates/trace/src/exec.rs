//! execsnoop's records: decoding the BPF program's `exec_event` and printing it as a line or a
//! JSON object. Design decision: the kernel sends only the used part of the argument buffer
//! (header plus `args_size` bytes), so a record's length varies; the decoder trusts the record's
//! own length over `args_size` when they disagree.

use serde_json::json;

use crate::record::{DecodeError, c_string_at, i32_at, u32_at, u64_at};
use crate::time::{json_time, line_time};

/// Layout of `struct exec_event` (crates/bpf/src/bpf/execsnoop.bpf.c): ts_ns u64 @0, pid @8,
/// ppid @12, uid @16, retval i32 @20, args_count @24, args_size @28, flags @32, pad @36,
/// comm[16] @40, args[4096] @56.
const HEADER: usize = 56;
const COMM_OFFSET: usize = 40;
const FLAG_ARGS_TRUNCATED: u32 = 1;

/// One execve, as the kernel saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecEvent {
    /// `bpf_ktime_get_ns` at the syscall's entry (CLOCK_MONOTONIC).
    pub ts_ns: u64,
    /// The process (thread group) id.
    pub pid: u32,
    /// The parent's process id.
    pub ppid: u32,
    /// The real user id.
    pub uid: u32,
    /// execve's return value: 0, or a negative errno.
    pub retval: i32,
    /// The command name after the call (the new program's on success).
    pub comm: String,
    /// The arguments, argv[0] first, as far as the kernel kept them.
    pub args: Vec<String>,
    /// True when arguments were cut (too many, too long, or past the buffer).
    pub args_truncated: bool,
}

impl ExecEvent {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<ExecEvent, DecodeError> {
        let short = DecodeError { kind: "exec", len: bytes.len(), need: HEADER };
        if bytes.len() < HEADER {
            return Err(short);
        }
        let field = |offset| u32_at(bytes, offset).ok_or_else(|| short.clone());
        let args_count = field(24)?;
        let args_size = usize::try_from(field(28)?).unwrap_or(usize::MAX);
        let area = bytes.get(HEADER..HEADER.saturating_add(args_size).min(bytes.len())).unwrap_or_default();
        let args: Vec<String> = area
            .split(|b| *b == 0)
            .take(usize::try_from(args_count).unwrap_or(usize::MAX))
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        Ok(ExecEvent {
            ts_ns: u64_at(bytes, 0).ok_or_else(|| short.clone())?,
            pid: field(8)?,
            ppid: field(12)?,
            uid: field(16)?,
            retval: i32_at(bytes, 20).ok_or_else(|| short.clone())?,
            comm: c_string_at(bytes, COMM_OFFSET, 16),
            args_truncated: field(32)? & FLAG_ARGS_TRUNCATED != 0
                || args.len() < usize::try_from(args_count).unwrap_or(0),
            args,
        })
    }

    /// The command line as one string, arguments separated by spaces, ` ...` when cut.
    pub fn command_line(&self) -> String {
        let mut line = self.args.join(" ");
        if self.args_truncated {
            line.push_str(" ...");
        }
        line
    }

    /// The column headers of [`ExecEvent::line`].
    pub fn header() -> String {
        format!("{:<12} {:>7} {:>7} {:>4} {}", "TIME", "PID", "PPID", "RET", "ARGS")
    }

    /// One output line; `unix_ns` is the event's wall-clock time.
    pub fn line(&self, unix_ns: i128) -> String {
        format!(
            "{:<12} {:>7} {:>7} {:>4} {}",
            line_time(unix_ns),
            self.pid,
            self.ppid,
            self.retval,
            self.command_line()
        )
    }

    /// One JSON object; `unix_ns` is the event's wall-clock time.
    pub fn json(&self, unix_ns: i128) -> serde_json::Value {
        json!({
            "time": json_time(unix_ns),
            "pid": self.pid,
            "ppid": self.ppid,
            "uid": self.uid,
            "comm": self.comm,
            "ret": self.retval,
            "args": self.args,
            "args_truncated": self.args_truncated,
        })
    }
}

/// Which execs to show; `Default` shows every one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecFilter {
    /// Only execs by this process or by its children (pid or ppid equal). Default: any.
    pub pid: Option<u32>,
    /// Only execs whose command name contains this. Default: any.
    pub comm: Option<String>,
}

impl ExecFilter {
    /// True when `event` passes the filter.
    pub fn matches(&self, event: &ExecEvent) -> bool {
        self.pid.is_none_or(|p| event.pid == p || event.ppid == p)
            && self.comm.as_deref().is_none_or(|c| event.comm.contains(c))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Builds a record as the BPF program lays it out.
    pub(crate) fn encode(e: &ExecEvent, flags: u32) -> Vec<u8> {
        let mut args = Vec::new();
        for a in &e.args {
            args.extend_from_slice(a.as_bytes());
            args.push(0);
        }
        let mut b = Vec::new();
        b.extend_from_slice(&e.ts_ns.to_ne_bytes());
        for v in [e.pid, e.ppid, e.uid] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&e.retval.to_ne_bytes());
        for v in [u32::try_from(e.args.len()).unwrap(), u32::try_from(args.len()).unwrap(), flags, 0] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        let mut comm = [0u8; 16];
        comm[..e.comm.len()].copy_from_slice(e.comm.as_bytes());
        b.extend_from_slice(&comm);
        b.extend_from_slice(&args);
        b
    }

    fn sample() -> ExecEvent {
        ExecEvent {
            ts_ns: 123,
            pid: 42,
            ppid: 7,
            uid: 1000,
            retval: -2,
            comm: "true".into(),
            args: vec!["/bin/true".into(), "a b".into(), String::new()],
            args_truncated: false,
        }
    }

    #[test]
    fn decodes_what_the_kernel_lays_out() {
        let e = sample();
        assert_eq!(ExecEvent::decode(&encode(&e, 0)).unwrap(), e);
        let cut = ExecEvent::decode(&encode(&e, FLAG_ARGS_TRUNCATED)).unwrap();
        assert!(cut.args_truncated);
        assert_eq!(cut.command_line(), "/bin/true a b  ...");
    }

    #[test]
    fn a_short_record_is_an_error() {
        let err = ExecEvent::decode(&[0u8; 55]).unwrap_err();
        assert_eq!(err, DecodeError { kind: "exec", len: 55, need: 56 });
    }

    #[test]
    fn a_record_cut_inside_its_arguments_is_marked_truncated() {
        let e = sample();
        let mut bytes = encode(&e, 0);
        bytes.truncate(HEADER + 4);
        let d = ExecEvent::decode(&bytes).unwrap();
        assert_eq!(d.args, vec!["/bin".to_string()]);
        assert!(d.args_truncated);
    }

    #[test]
    fn line_and_json_carry_every_column() {
        let e = sample();
        let line = e.line(0);
        assert!(line.ends_with("     42       7   -2 /bin/true a b "), "{line:?}");
        let j = e.json(1_500_000_000);
        assert_eq!(j["time"], "1970-01-01T00:00:01.5Z");
        assert_eq!(j["ppid"], 7);
        assert_eq!(j["ret"], -2);
        assert_eq!(j["args"][1], "a b");
    }

    #[test]
    fn the_filter_takes_pid_or_parent_and_a_comm_substring() {
        let e = sample();
        assert!(ExecFilter::default().matches(&e));
        assert!(ExecFilter { pid: Some(42), comm: None }.matches(&e));
        assert!(ExecFilter { pid: Some(7), comm: Some("tru".into()) }.matches(&e));
        assert!(!ExecFilter { pid: Some(8), comm: None }.matches(&e));
        assert!(!ExecFilter { pid: None, comm: Some("false".into()) }.matches(&e));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = ExecEvent::decode(&bytes);
        }

        #[test]
        fn encoded_events_round_trip(
            pid in any::<u32>(), ppid in any::<u32>(), retval in any::<i32>(),
            comm in "[a-z]{0,15}", args in proptest::collection::vec("[ -~]{0,20}", 1..8),
        ) {
            let e = ExecEvent { ts_ns: 9, pid, ppid, uid: 0, retval, comm, args, args_truncated: false };
            prop_assert_eq!(ExecEvent::decode(&encode(&e, 0)).unwrap(), e);
        }
    }
}
