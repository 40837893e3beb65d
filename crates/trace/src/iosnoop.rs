//! iosnoop's records: decoding the BPF program's `io_event` (one completed block I/O) and
//! printing it as a line in perf-tools' columns or as a JSON object.
//!
//! Design decision: the process shown is the one current when the request was issued (or, with
//! -Q, inserted), captured in the kernel at that moment; for writeback that is the flusher
//! thread, not the writer, as in perf-tools. Devices print by name, from a table read once at
//! start ([`IoFilter`] carries it), falling back to `major,minor`.

use std::collections::BTreeMap;

use plumb_bpf::{Global, MonotonicClock, objects};
use serde_json::json;

use crate::Error;
use crate::block::BlockDev;
use crate::record::{DecodeError, c_string_at, i32_at, u32_at, u64_at};
use crate::snoop::{Snoop, SnoopEvent};
use crate::time::{json_time, line_time};

/// Layout of `struct io_event` (crates/bpf/src/bpf/iosnoop.bpf.c): start_ns u64 @0, end_ns @8,
/// sector @16, dev u32 @24, pid @28, bytes @32, error i32 @36, rwbs[16] @40, comm[16] @56.
const SIZE: usize = 72;

/// One completed block I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoEvent {
    /// `bpf_ktime_get_ns` at issue (or insert with -Q), CLOCK_MONOTONIC.
    pub start_ns: u64,
    /// `bpf_ktime_get_ns` at completion.
    pub end_ns: u64,
    /// The first 512-byte sector.
    pub sector: u64,
    /// The disk.
    pub dev: BlockDev,
    /// The process current at issue (or insert).
    pub pid: u32,
    /// The request's size in bytes, as issued.
    pub bytes: u32,
    /// The completion's error (0, or a negative errno).
    pub error: i32,
    /// The kernel's type flags (`R`, `W`, `WS`, `RA`, `FWS`, `D`, ...).
    pub rwbs: String,
    /// The command name of `pid`.
    pub comm: String,
}

impl IoEvent {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<IoEvent, DecodeError> {
        let short = || DecodeError { kind: "io", len: bytes.len(), need: SIZE };
        if bytes.len() < SIZE {
            return Err(short());
        }
        Ok(IoEvent {
            start_ns: u64_at(bytes, 0).ok_or_else(short)?,
            end_ns: u64_at(bytes, 8).ok_or_else(short)?,
            sector: u64_at(bytes, 16).ok_or_else(short)?,
            dev: BlockDev::from_kernel(u32_at(bytes, 24).ok_or_else(short)?),
            pid: u32_at(bytes, 28).ok_or_else(short)?,
            bytes: u32_at(bytes, 32).ok_or_else(short)?,
            error: i32_at(bytes, 36).ok_or_else(short)?,
            rwbs: c_string_at(bytes, 40, 16),
            comm: c_string_at(bytes, 56, 16),
        })
    }

    /// The latency in milliseconds (completion minus start).
    pub fn latency_ms(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e6
    }

    /// The column headers of [`IoEvent::line`] (perf-tools' iosnoop with -s -t, times of day).
    pub fn header() -> String {
        format!(
            "{:<12} {:<12} {:<16} {:>7} {:<4} {:<8} {:>12} {:>8} {:>9}",
            "START", "END", "COMM", "PID", "TYPE", "DEV", "BLOCK", "BYTES", "LATms"
        )
    }

    /// One output line; `start_unix_ns` and `end_unix_ns` are the wall-clock times, `device`
    /// the disk's name.
    pub fn line(&self, start_unix_ns: i128, end_unix_ns: i128, device: &str) -> String {
        format!(
            "{:<12} {:<12} {:<16} {:>7} {:<4} {:<8} {:>12} {:>8} {:>9.3}",
            line_time(start_unix_ns),
            line_time(end_unix_ns),
            self.comm,
            self.pid,
            self.rwbs,
            device,
            self.sector,
            self.bytes,
            self.latency_ms()
        )
    }

    /// One JSON object; `start_unix_ns` and `end_unix_ns` are the wall-clock times.
    pub fn json(&self, start_unix_ns: i128, end_unix_ns: i128, device: &str) -> serde_json::Value {
        json!({
            "start": json_time(start_unix_ns),
            "end": json_time(end_unix_ns),
            "comm": self.comm,
            "pid": self.pid,
            "type": self.rwbs,
            "device": device,
            "major": self.dev.major,
            "minor": self.dev.minor,
            "block": self.sector,
            "bytes": self.bytes,
            "latency_ms": self.latency_ms(),
            "error": self.error,
        })
    }
}

/// Which I/Os to show and how to name devices; `Default` shows every one. The device and pid
/// filters also run in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoFilter {
    /// Only this disk. Default: any.
    pub device: Option<BlockDev>,
    /// Only I/O issued while this process was current. Default: any.
    pub pid: Option<u32>,
    /// Only command names containing this. Default: any.
    pub comm: Option<String>,
    /// Measure from block_rq_insert (include queue time). Default: false.
    pub queued: bool,
    /// Device names by number, for printing. Default: empty (print `major,minor`).
    pub names: BTreeMap<BlockDev, String>,
}

impl IoFilter {
    /// True when `event` passes the filter.
    pub fn matches(&self, event: &IoEvent) -> bool {
        self.device.is_none_or(|d| event.dev == d)
            && self.pid.is_none_or(|p| event.pid == p)
            && self.comm.as_deref().is_none_or(|c| event.comm.contains(c))
    }

    /// The name of `dev`, or `major,minor` when unknown.
    pub fn device_name(&self, dev: BlockDev) -> String {
        self.names.get(&dev).cloned().unwrap_or_else(|| dev.to_string())
    }
}

impl SnoopEvent for IoEvent {
    type Filter = IoFilter;
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        IoEvent::decode(bytes)
    }
    fn passes(&self, filter: &IoFilter) -> bool {
        filter.matches(self)
    }
    fn header() -> String {
        IoEvent::header()
    }
    fn line(&self, clock: &MonotonicClock, filter: &IoFilter) -> String {
        let (start, end) = (clock.to_unix_ns(self.start_ns), clock.to_unix_ns(self.end_ns));
        IoEvent::line(self, start, end, &filter.device_name(self.dev))
    }
    fn json(&self, clock: &MonotonicClock, filter: &IoFilter) -> serde_json::Value {
        let (start, end) = (clock.to_unix_ns(self.start_ns), clock.to_unix_ns(self.end_ns));
        IoEvent::json(self, start, end, &filter.device_name(self.dev))
    }
}

/// The loaded and attached iosnoop program: the shared snoop loop over [`IoEvent`]s.
pub type Iosnoop = Snoop<IoEvent>;

/// Starts iosnoop: block_rq_insert, block_rq_issue and block_rq_complete. The device and pid
/// filters run in the kernel; the command-name filter here.
pub fn iosnoop(filter: IoFilter) -> Result<Iosnoop, Error> {
    let globals = [
        ("targ_tgid", Global::U32(filter.pid.unwrap_or(0))),
        ("targ_dev", Global::U32(filter.device.map_or(0, BlockDev::to_kernel))),
        ("targ_queued", Global::U8(u8::from(filter.queued))),
    ];
    let tracer = plumb_bpf::load(&objects::IOSNOOP, &globals)?;
    Ok(Snoop::new("iosnoop", tracer, filter))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn encode(e: &IoEvent) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [e.start_ns, e.end_ns, e.sector] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        for v in [e.dev.to_kernel(), e.pid, e.bytes] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&e.error.to_ne_bytes());
        for text in [&e.rwbs, &e.comm] {
            let mut field = [0u8; 16];
            field[..text.len()].copy_from_slice(text.as_bytes());
            b.extend_from_slice(&field);
        }
        b
    }

    fn sample() -> IoEvent {
        IoEvent {
            start_ns: 2_000_000_000,
            end_ns: 2_001_500_000,
            sector: 123_456,
            dev: BlockDev { major: 254, minor: 0 },
            pid: 42,
            bytes: 4096,
            error: 0,
            rwbs: "WS".to_string(),
            comm: "dd".to_string(),
        }
    }

    #[test]
    fn decodes_the_c_layout() {
        let e = sample();
        let bytes = encode(&e);
        assert_eq!(bytes.len(), SIZE);
        assert_eq!(IoEvent::decode(&bytes), Ok(e));
        assert_eq!(IoEvent::decode(&bytes[..SIZE - 1]), Err(DecodeError { kind: "io", len: SIZE - 1, need: SIZE }));
    }

    #[test]
    fn lines_and_json_carry_every_column() {
        let e = sample();
        let line = e.line(1_700_000_000_000_000_000, 1_700_000_000_001_500_000, "vda");
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.len(), 9, "{line}");
        assert!(cols[0].ends_with(":20.000") && cols[1].ends_with(":20.001"), "{line}");
        assert_eq!(cols[2..], ["dd", "42", "WS", "vda", "123456", "4096", "1.500"]);
        assert_eq!(IoEvent::header().split_whitespace().count(), cols.len());
        let j = e.json(1_700_000_000_000_000_000, 1_700_000_000_001_500_000, "vda");
        assert_eq!(j["type"], "WS");
        assert_eq!(j["latency_ms"], 1.5);
        assert_eq!(j["block"], 123_456);
        assert_eq!(j["end"], "2023-11-14T22:13:20.0015Z");
    }

    #[test]
    fn filters_by_device_pid_and_comm() {
        let e = sample();
        assert!(IoFilter::default().matches(&e));
        assert!(IoFilter { comm: Some("d".into()), pid: Some(42), ..IoFilter::default() }.matches(&e));
        assert!(!IoFilter { pid: Some(7), ..IoFilter::default() }.matches(&e));
        assert!(!IoFilter { device: Some(BlockDev { major: 8, minor: 0 }), ..IoFilter::default() }.matches(&e));
        let named = IoFilter { names: [(e.dev, "vda".to_string())].into(), ..IoFilter::default() };
        assert_eq!(named.device_name(e.dev), "vda");
        assert_eq!(named.device_name(BlockDev { major: 8, minor: 16 }), "8,16");
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = IoEvent::decode(&bytes);
        }
    }
}
