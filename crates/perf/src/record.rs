//! The typed records of a perf ring buffer and the parser that turns one record's bytes into a
//! [`Record`].
//!
//! The parser is a pure function over bytes ([`RecordLayout::parse`]): it never trusts a length
//! read from the data, so mangled input yields an error, never a panic or an out-of-bounds read.
//! Design decision: the sample's callchain is split here, once, into `kernel_ips` and `user_ips`
//! at the kernel's `PERF_CONTEXT_*` markers (the markers themselves removed), so that no consumer
//! has to know those magic values.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use perf_event_open_sys::bindings as b;

use crate::error::Error;

/// Size of `struct perf_event_header`: type (u32), misc (u16), size (u16).
pub const HEADER_BYTES: usize = 8;

/// One record read from a ring buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A sample (`PERF_RECORD_SAMPLE`).
    Sample(Sample),
    /// A new memory mapping (`PERF_RECORD_MMAP2`, or the older `PERF_RECORD_MMAP`).
    Mmap(Mmap),
    /// A thread's name changed, or the process exec'd (`PERF_RECORD_COMM`).
    Comm(Comm),
    /// A process or thread was created (`PERF_RECORD_FORK`).
    Fork(Fork),
    /// A process or thread exited (`PERF_RECORD_EXIT`).
    Exit(Exit),
    /// The kernel dropped `count` records because the ring buffer was full (`PERF_RECORD_LOST`).
    Lost {
        /// The id of the event that lost them.
        id: u64,
        /// How many records were lost.
        count: u64,
        /// Where and when the loss was noticed.
        sample_id: SampleId,
    },
    /// The kernel dropped `count` samples it could not write (`PERF_RECORD_LOST_SAMPLES`).
    LostSamples {
        /// How many samples were lost.
        count: u64,
        /// Where and when the loss was noticed.
        sample_id: SampleId,
    },
    /// The kernel throttled the event: too many samples per tick (`PERF_RECORD_THROTTLE`).
    Throttle(Throttle),
    /// The kernel lifted a throttle (`PERF_RECORD_UNTHROTTLE`).
    Unthrottle(Throttle),
    /// A record kind this parser does not decode; counted, never fatal.
    Unknown {
        /// The record type (`perf_event_header.type`).
        kind: u32,
        /// The record size in bytes, header included.
        size: u16,
    },
}

impl Record {
    /// The kernel timestamp of the record in nanoseconds, when the record carries one.
    pub fn time(&self) -> Option<u64> {
        match self {
            Record::Sample(s) => s.time,
            Record::Mmap(m) => m.sample_id.time,
            Record::Comm(c) => c.sample_id.time,
            Record::Fork(f) => Some(f.time),
            Record::Exit(e) => Some(e.time),
            Record::Lost { sample_id, .. } | Record::LostSamples { sample_id, .. } => sample_id.time,
            Record::Throttle(t) | Record::Unthrottle(t) => Some(t.time),
            Record::Unknown { .. } => None,
        }
    }
}

/// Where the CPU was when a sample was taken (`misc & PERF_RECORD_MISC_CPUMODE_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMode {
    /// The mode was not recorded.
    Unknown,
    /// In the kernel.
    Kernel,
    /// In user space.
    User,
    /// In the hypervisor.
    Hypervisor,
    /// In a guest's kernel.
    GuestKernel,
    /// In a guest's user space.
    GuestUser,
}

impl CpuMode {
    fn from_misc(misc: u16) -> CpuMode {
        match u32::from(misc) & b::PERF_RECORD_MISC_CPUMODE_MASK {
            b::PERF_RECORD_MISC_KERNEL => CpuMode::Kernel,
            b::PERF_RECORD_MISC_USER => CpuMode::User,
            b::PERF_RECORD_MISC_HYPERVISOR => CpuMode::Hypervisor,
            b::PERF_RECORD_MISC_GUEST_KERNEL => CpuMode::GuestKernel,
            b::PERF_RECORD_MISC_GUEST_USER => CpuMode::GuestUser,
            _ => CpuMode::Unknown,
        }
    }
}

/// The user registers an unwinder starts from (`PERF_SAMPLE_REGS_USER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRegs {
    /// The instruction pointer (x86_64 rip, aarch64 pc).
    pub ip: u64,
    /// The stack pointer.
    pub sp: u64,
    /// The frame pointer (x86_64 rbp, aarch64 x29).
    pub bp: u64,
}

/// One sample. Fields the event did not record are 0 (numbers) or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The process id (`PERF_SAMPLE_TID`).
    pub pid: u32,
    /// The thread id (`PERF_SAMPLE_TID`).
    pub tid: u32,
    /// The timestamp in nanoseconds (`PERF_SAMPLE_TIME`; plumb's sessions use CLOCK_MONOTONIC).
    pub time: Option<u64>,
    /// The CPU the sample was taken on (`PERF_SAMPLE_CPU`).
    pub cpu: u32,
    /// The event count this sample stands for (`PERF_SAMPLE_PERIOD`; ns for cpu-clock).
    pub period: u64,
    /// The instruction pointer at the sample (`PERF_SAMPLE_IP`).
    pub ip: u64,
    /// Where the CPU was.
    pub cpu_mode: CpuMode,
    /// Kernel frames of the callchain, innermost first, context markers removed.
    pub kernel_ips: Vec<u64>,
    /// User frames of the callchain, innermost first, context markers removed.
    pub user_ips: Vec<u64>,
    /// The user registers, `None` when the sample hit a kernel thread (ABI none) or none asked.
    pub user_regs: Option<UserRegs>,
    /// The copied user stack from `sp` upwards, cut to the bytes the kernel actually filled.
    pub user_stack: Vec<u8>,
}

/// A kernel or device identity of a mapped file (MMAP2 without build id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    /// Device major number.
    pub maj: u32,
    /// Device minor number.
    pub min: u32,
    /// Inode number.
    pub ino: u64,
    /// Inode generation.
    pub ino_generation: u64,
}

/// A memory mapping (from MMAP2; MMAP fills what it has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mmap {
    /// The process id.
    pub pid: u32,
    /// The thread id.
    pub tid: u32,
    /// The first mapped address.
    pub start: u64,
    /// The length in bytes.
    pub len: u64,
    /// The file offset of `start`.
    pub pgoff: u64,
    /// The mapped file, or a pseudo-name such as `[vdso]` or `//anon`.
    pub path: PathBuf,
    /// Whether the mapping is executable (PROT_EXEC; for old MMAP records, not MISC_MMAP_DATA).
    pub executable: bool,
    /// The protection bits (`PROT_*`); 0 for old MMAP records.
    pub prot: u32,
    /// The mapping flags (`MAP_*`); 0 for old MMAP records.
    pub flags: u32,
    /// The file's device and inode, when the kernel sent them instead of a build id.
    pub file: Option<FileIdentity>,
    /// The file's build id, when the kernel sent one (`PERF_RECORD_MISC_MMAP_BUILD_ID`).
    pub build_id: Option<Vec<u8>>,
    /// Where and when the mapping happened.
    pub sample_id: SampleId,
}

/// A thread's new name (`PERF_RECORD_COMM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comm {
    /// The process id.
    pub pid: u32,
    /// The thread id.
    pub tid: u32,
    /// The name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// Whether the name changed because the process exec'd (`PERF_RECORD_MISC_COMM_EXEC`).
    pub exec: bool,
    /// Where and when it happened.
    pub sample_id: SampleId,
}

/// A new process or thread (`PERF_RECORD_FORK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fork {
    /// The new process id.
    pub pid: u32,
    /// The parent process id.
    pub ppid: u32,
    /// The new thread id.
    pub tid: u32,
    /// The parent thread id.
    pub ptid: u32,
    /// The timestamp in nanoseconds.
    pub time: u64,
}

/// An exited process or thread (`PERF_RECORD_EXIT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The process id.
    pub pid: u32,
    /// The parent process id.
    pub ppid: u32,
    /// The thread id.
    pub tid: u32,
    /// The parent thread id.
    pub ptid: u32,
    /// The timestamp in nanoseconds.
    pub time: u64,
}

/// A throttle or unthrottle notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    /// The timestamp in nanoseconds.
    pub time: u64,
    /// The event id.
    pub id: u64,
    /// The event's stream id.
    pub stream_id: u64,
}

/// The `struct sample_id` trailer of non-sample records (`sample_id_all`); fields the event did
/// not ask for are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleId {
    /// The process id.
    pub pid: Option<u32>,
    /// The thread id.
    pub tid: Option<u32>,
    /// The timestamp in nanoseconds.
    pub time: Option<u64>,
    /// The CPU.
    pub cpu: Option<u32>,
}

/// The register numbers (bits of `sample_regs_user`) of ip, sp and bp on this architecture.
#[cfg(target_arch = "x86_64")]
pub const USER_REG_BITS: Option<[u32; 3]> = Some([b::PERF_REG_X86_IP, b::PERF_REG_X86_SP, b::PERF_REG_X86_BP]);
/// The register numbers (bits of `sample_regs_user`) of pc, sp and x29 on this architecture.
#[cfg(target_arch = "aarch64")]
pub const USER_REG_BITS: Option<[u32; 3]> = Some([32, 31, 29]);
/// No user registers are decoded on this architecture.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const USER_REG_BITS: Option<[u32; 3]> = None;

/// The `sample_regs_user` mask plumb asks for: ip, sp and bp (0 where unsupported).
pub fn user_regs_mask() -> u64 {
    USER_REG_BITS.map_or(0, |bits| bits.iter().fold(0, |mask, bit| mask | (1u64 << bit)))
}

/// Sample-type bits that sit before fields this parser needs and that it cannot skip.
const UNSUPPORTED_SAMPLE_BITS: u64 = (b::PERF_SAMPLE_READ | b::PERF_SAMPLE_BRANCH_STACK) as u64;

/// How to read the records of one event: its `sample_type`, `sample_regs_user` and
/// `sample_id_all`, which decide which fields a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLayout {
    sample_type: u64,
    regs_count: usize,
    /// Positions of ip, sp, bp in the regs array.
    regs_pos: Option<[usize; 3]>,
    sample_id_all: bool,
}

impl RecordLayout {
    /// A layout for an event opened with these attributes. Fails for `PERF_SAMPLE_READ` and
    /// `PERF_SAMPLE_BRANCH_STACK`, whose fields precede the callchain and are not decoded;
    /// bits after `PERF_SAMPLE_STACK_USER` are ignored (their fields trail the record).
    pub fn new(sample_type: u64, regs_user_mask: u64, sample_id_all: bool) -> Result<RecordLayout, Error> {
        if sample_type & UNSUPPORTED_SAMPLE_BITS != 0 {
            return Err(Error::UnsupportedSampleType { bits: sample_type & UNSUPPORTED_SAMPLE_BITS });
        }
        let regs_pos = USER_REG_BITS.and_then(|bits| {
            let pos = |bit: u32| {
                let below = regs_user_mask & ((1u64 << bit) - 1);
                (regs_user_mask & (1u64 << bit) != 0).then_some(below.count_ones() as usize)
            };
            Some([pos(bits[0])?, pos(bits[1])?, pos(bits[2])?])
        });
        Ok(RecordLayout { sample_type, regs_count: regs_user_mask.count_ones() as usize, regs_pos, sample_id_all })
    }

    fn has(&self, bit: u32) -> bool {
        self.sample_type & u64::from(bit) != 0
    }

    /// The size of the `sample_id` trailer of non-sample records.
    fn sample_id_bytes(&self) -> usize {
        if !self.sample_id_all {
            return 0;
        }
        [
            b::PERF_SAMPLE_TID,
            b::PERF_SAMPLE_TIME,
            b::PERF_SAMPLE_ID,
            b::PERF_SAMPLE_STREAM_ID,
            b::PERF_SAMPLE_CPU,
            b::PERF_SAMPLE_IDENTIFIER,
        ]
        .iter()
        .filter(|&&bit| self.has(bit))
        .count()
            * 8
    }

    /// Parses one whole record (header included; `record.len()` is the header's size).
    pub fn parse(&self, record: &[u8]) -> Result<Record, Error> {
        let mut cur = Cursor::new(record);
        let kind = cur.u32().map_err(|reason| malformed(0, reason))?;
        let misc = cur.u16().map_err(|reason| malformed(kind, reason))?;
        let size = cur.u16().map_err(|reason| malformed(kind, reason))?;
        if usize::from(size) != record.len() {
            return Err(malformed(kind, "header size differs from the record's length"));
        }
        let parsed = match kind {
            b::PERF_RECORD_SAMPLE => self.sample(misc, &mut cur).map(Record::Sample),
            b::PERF_RECORD_MMAP2 | b::PERF_RECORD_MMAP => self.mmap(kind, misc, record).map(Record::Mmap),
            b::PERF_RECORD_COMM => self.comm(misc, record).map(Record::Comm),
            b::PERF_RECORD_FORK | b::PERF_RECORD_EXIT => self.task(kind, &mut cur),
            b::PERF_RECORD_LOST | b::PERF_RECORD_LOST_SAMPLES => self.lost(kind, &mut cur, record),
            b::PERF_RECORD_THROTTLE | b::PERF_RECORD_UNTHROTTLE => Self::throttle(kind, &mut cur),
            _ => Ok(Record::Unknown { kind, size }),
        };
        parsed.map_err(|reason| malformed(kind, reason))
    }

    fn sample(&self, misc: u16, cur: &mut Cursor<'_>) -> Result<Sample, &'static str> {
        let cpu_mode = CpuMode::from_misc(misc);
        let mut s = Sample {
            pid: 0,
            tid: 0,
            time: None,
            cpu: 0,
            period: 0,
            ip: 0,
            cpu_mode,
            kernel_ips: Vec::new(),
            user_ips: Vec::new(),
            user_regs: None,
            user_stack: Vec::new(),
        };
        if self.has(b::PERF_SAMPLE_IDENTIFIER) {
            cur.u64()?;
        }
        if self.has(b::PERF_SAMPLE_IP) {
            s.ip = cur.u64()?;
        }
        if self.has(b::PERF_SAMPLE_TID) {
            s.pid = cur.u32()?;
            s.tid = cur.u32()?;
        }
        if self.has(b::PERF_SAMPLE_TIME) {
            s.time = Some(cur.u64()?);
        }
        for bit in [b::PERF_SAMPLE_ADDR, b::PERF_SAMPLE_ID, b::PERF_SAMPLE_STREAM_ID] {
            if self.has(bit) {
                cur.u64()?;
            }
        }
        if self.has(b::PERF_SAMPLE_CPU) {
            s.cpu = cur.u32()?;
            cur.u32()?;
        }
        if self.has(b::PERF_SAMPLE_PERIOD) {
            s.period = cur.u64()?;
        }
        if self.has(b::PERF_SAMPLE_CALLCHAIN) {
            let nr = cur.u64()?;
            let nr = usize::try_from(nr).map_err(|_| "callchain length overflows")?;
            let ips = cur.take(nr.checked_mul(8).ok_or("callchain length overflows")?)?;
            split_callchain(ips, cpu_mode, &mut s.kernel_ips, &mut s.user_ips);
        }
        if self.has(b::PERF_SAMPLE_RAW) {
            let raw = cur.u32()?;
            cur.take(usize::try_from(raw).map_err(|_| "raw size overflows")?)?;
        }
        if self.has(b::PERF_SAMPLE_REGS_USER) {
            let abi = cur.u64()?;
            if abi != u64::from(b::PERF_SAMPLE_REGS_ABI_NONE) {
                let regs = cur.take(self.regs_count * 8)?;
                s.user_regs = self.regs_pos.map(|[ip, sp, bp]| UserRegs {
                    ip: u64_at(regs, ip * 8).unwrap_or(0),
                    sp: u64_at(regs, sp * 8).unwrap_or(0),
                    bp: u64_at(regs, bp * 8).unwrap_or(0),
                });
            }
        }
        if self.has(b::PERF_SAMPLE_STACK_USER) {
            let size = usize::try_from(cur.u64()?).map_err(|_| "user stack size overflows")?;
            if size != 0 {
                let stack = cur.take(size)?;
                let dyn_size = usize::try_from(cur.u64()?).unwrap_or(usize::MAX);
                s.user_stack = stack.get(..dyn_size.min(size)).unwrap_or(stack).to_vec();
            }
        }
        Ok(s)
    }

    fn mmap(&self, kind: u32, misc: u16, record: &[u8]) -> Result<Mmap, &'static str> {
        let body_end = record.len().checked_sub(self.sample_id_bytes()).ok_or("record shorter than its sample_id")?;
        let body = record.get(..body_end).ok_or("record shorter than its sample_id")?;
        let mut cur = Cursor::new(body);
        cur.take(HEADER_BYTES)?;
        let (pid, tid, start, len, pgoff) = (cur.u32()?, cur.u32()?, cur.u64()?, cur.u64()?, cur.u64()?);
        let mut m = Mmap {
            pid,
            tid,
            start,
            len,
            pgoff,
            path: PathBuf::new(),
            executable: u32::from(misc) & b::PERF_RECORD_MISC_MMAP_DATA == 0,
            prot: 0,
            flags: 0,
            file: None,
            build_id: None,
            sample_id: self.trailer(record)?,
        };
        if kind == b::PERF_RECORD_MMAP2 {
            if u32::from(misc) & b::PERF_RECORD_MISC_MMAP_BUILD_ID != 0 {
                let build_id_size = usize::from(cur.u8()?);
                cur.take(3)?;
                let build_id = cur.take(20)?;
                m.build_id = Some(build_id.get(..build_id_size.min(20)).unwrap_or(build_id).to_vec());
            } else {
                m.file = Some(FileIdentity {
                    maj: cur.u32()?,
                    min: cur.u32()?,
                    ino: cur.u64()?,
                    ino_generation: cur.u64()?,
                });
            }
            m.prot = cur.u32()?;
            m.flags = cur.u32()?;
            m.executable = m.prot & (libc::PROT_EXEC as u32) != 0;
        }
        m.path = PathBuf::from(OsStr::from_bytes(nul_terminated(cur.rest())));
        Ok(m)
    }

    fn comm(&self, misc: u16, record: &[u8]) -> Result<Comm, &'static str> {
        let body_end = record.len().checked_sub(self.sample_id_bytes()).ok_or("record shorter than its sample_id")?;
        let mut cur = Cursor::new(record.get(..body_end).ok_or("record shorter than its sample_id")?);
        cur.take(HEADER_BYTES)?;
        let (pid, tid) = (cur.u32()?, cur.u32()?);
        let comm = String::from_utf8_lossy(nul_terminated(cur.rest())).into_owned();
        let exec = u32::from(misc) & b::PERF_RECORD_MISC_COMM_EXEC != 0;
        Ok(Comm { pid, tid, comm, exec, sample_id: self.trailer(record)? })
    }

    fn task(&self, kind: u32, cur: &mut Cursor<'_>) -> Result<Record, &'static str> {
        let (pid, ppid, tid, ptid, time) = (cur.u32()?, cur.u32()?, cur.u32()?, cur.u32()?, cur.u64()?);
        Ok(if kind == b::PERF_RECORD_FORK {
            Record::Fork(Fork { pid, ppid, tid, ptid, time })
        } else {
            Record::Exit(Exit { pid, ppid, tid, ptid, time })
        })
    }

    fn lost(&self, kind: u32, cur: &mut Cursor<'_>, record: &[u8]) -> Result<Record, &'static str> {
        if kind == b::PERF_RECORD_LOST {
            let (id, count) = (cur.u64()?, cur.u64()?);
            Ok(Record::Lost { id, count, sample_id: self.trailer(record)? })
        } else {
            let count = cur.u64()?;
            Ok(Record::LostSamples { count, sample_id: self.trailer(record)? })
        }
    }

    fn throttle(kind: u32, cur: &mut Cursor<'_>) -> Result<Record, &'static str> {
        let throttle = Throttle { time: cur.u64()?, id: cur.u64()?, stream_id: cur.u64()? };
        Ok(if kind == b::PERF_RECORD_THROTTLE { Record::Throttle(throttle) } else { Record::Unthrottle(throttle) })
    }

    /// Reads the `sample_id` trailer at the end of a non-sample record.
    fn trailer(&self, record: &[u8]) -> Result<SampleId, &'static str> {
        let mut id = SampleId::default();
        if !self.sample_id_all {
            return Ok(id);
        }
        let start = record.len().checked_sub(self.sample_id_bytes()).ok_or("record shorter than its sample_id")?;
        if start < HEADER_BYTES {
            return Err("record shorter than its sample_id");
        }
        let mut cur = Cursor::new(record.get(start..).ok_or("record shorter than its sample_id")?);
        if self.has(b::PERF_SAMPLE_TID) {
            id.pid = Some(cur.u32()?);
            id.tid = Some(cur.u32()?);
        }
        if self.has(b::PERF_SAMPLE_TIME) {
            id.time = Some(cur.u64()?);
        }
        for bit in [b::PERF_SAMPLE_ID, b::PERF_SAMPLE_STREAM_ID] {
            if self.has(bit) {
                cur.u64()?;
            }
        }
        if self.has(b::PERF_SAMPLE_CPU) {
            id.cpu = Some(cur.u32()?);
        }
        Ok(id)
    }
}

fn malformed(kind: u32, reason: &'static str) -> Error {
    Error::MalformedRecord { kind, reason }
}

/// Splits a raw callchain into kernel and user frames at the `PERF_CONTEXT_*` markers. Frames
/// before any marker belong to the sample's own mode; hypervisor and guest frames are dropped.
fn split_callchain(raw: &[u8], mode: CpuMode, kernel: &mut Vec<u64>, user: &mut Vec<u64>) {
    #[derive(Clone, Copy)]
    enum Into {
        Kernel,
        User,
        Drop,
    }
    let mut into = match mode {
        CpuMode::Kernel => Into::Kernel,
        CpuMode::User => Into::User,
        _ => Into::Drop,
    };
    for ip in raw.chunks_exact(8).filter_map(|c| u64_at(c, 0)) {
        if ip >= b::PERF_CONTEXT_MAX {
            into = match ip {
                b::PERF_CONTEXT_KERNEL => Into::Kernel,
                b::PERF_CONTEXT_USER => Into::User,
                _ => Into::Drop,
            };
            continue;
        }
        match into {
            Into::Kernel => kernel.push(ip),
            Into::User => user.push(ip),
            Into::Drop => {}
        }
    }
}

/// The bytes before the first NUL (all of them when there is none).
fn nul_terminated(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or(bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_ne_bytes(chunk.try_into().ok()?))
}

/// A bounds-checked reader of native-endian integers.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or("length overflows")?;
        let out = self.bytes.get(self.pos..end).ok_or("record ends inside a field")?;
        self.pos = end;
        Ok(out)
    }

    fn rest(&mut self) -> &'a [u8] {
        let out = self.bytes.get(self.pos..).unwrap_or(&[]);
        self.pos = self.bytes.len();
        out
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(u8::from_ne_bytes(self.take(1)?.try_into().map_err(|_| "short field")?))
    }

    fn u16(&mut self) -> Result<u16, &'static str> {
        Ok(u16::from_ne_bytes(self.take(2)?.try_into().map_err(|_| "short field")?))
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_ne_bytes(self.take(4)?.try_into().map_err(|_| "short field")?))
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_ne_bytes(self.take(8)?.try_into().map_err(|_| "short field")?))
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
