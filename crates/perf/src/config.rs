//! The safe builder: [`SamplingConfig`] says what to sample and how, and [`SamplingConfig::attr`]
//! turns it into the kernel's `perf_event_attr`.
//!
//! Design decision: side-band records are not optional. Every event asks for MMAP2 (executable
//! mappings with file names), COMM (with the exec flag), FORK/EXIT and `sample_id_all`, with
//! timestamps on CLOCK_MONOTONIC, because a profile cannot symbolize addresses without knowing
//! which file was mapped where, when; the clock matches `std::time::Instant` on Linux.

use std::fmt;

use perf_event_open_sys::bindings::{self as b, perf_event_attr};

use crate::error::Error;
use crate::record::{RecordLayout, user_regs_mask};

/// Default sampling frequency in Hz: 99, not 100, so samples do not march in lockstep with
/// timers that fire at round rates.
pub const DEFAULT_FREQUENCY_HZ: u64 = 99;
/// Default bytes of user stack copied per sample (see [`SamplingConfig::user_stack_bytes`]).
pub const DEFAULT_USER_STACK_BYTES: u32 = 16 * 1024;
/// Default data pages per ring buffer (see [`SamplingConfig::ring_pages`]).
pub const DEFAULT_RING_PAGES: usize = 128;
/// The largest user stack copy: a record's size is a u16, and the rest of a sample (header,
/// ids, a 127-frame callchain, registers) must fit beside it.
pub const MAX_USER_STACK_BYTES: u32 = 63 * 1024;

/// The event that triggers a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `cpu-clock`: a per-CPU high-resolution timer; samples where CPU time goes.
    CpuClock,
    /// `page-faults`: every page fault (minor and major).
    PageFaults,
    /// `context-switches`: every switch away from a task (where threads block).
    ContextSwitches,
}

impl Event {
    /// The name perf and plumb's CLI use.
    pub fn name(self) -> &'static str {
        match self {
            Event::CpuClock => "cpu-clock",
            Event::PageFaults => "page-faults",
            Event::ContextSwitches => "context-switches",
        }
    }

    /// Parses a CLI name (`cpu-clock`, `page-faults`, `context-switches`, and perf's short forms).
    pub fn from_name(name: &str) -> Option<Event> {
        match name {
            "cpu-clock" => Some(Event::CpuClock),
            "page-faults" | "faults" => Some(Event::PageFaults),
            "context-switches" | "cs" => Some(Event::ContextSwitches),
            _ => None,
        }
    }

    fn software_id(self) -> u32 {
        match self {
            Event::CpuClock => b::PERF_COUNT_SW_CPU_CLOCK,
            Event::PageFaults => b::PERF_COUNT_SW_PAGE_FAULTS,
            Event::ContextSwitches => b::PERF_COUNT_SW_CONTEXT_SWITCHES,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleRate {
    /// About this many samples per second per CPU (or per thread); the kernel adapts the period.
    Frequency(u64),
    /// One sample every this many events (ns for cpu-clock; faults; switches).
    Period(u64),
}

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every process on every online CPU: one event per CPU with pid -1.
    AllCpus,
    /// These processes with all their threads, as `perf record -p` does: one event per existing
    /// thread per online CPU, inherited by threads and children created later, and all events of
    /// a CPU writing into one ring buffer (PERF_EVENT_IOC_SET_OUTPUT).
    Pids(Vec<u32>),
    /// A child the caller has forked but not yet exec'd: events on `pid` per CPU, disabled,
    /// inherited by its children and enabled by the kernel at its exec (`enable_on_exec`), so a
    /// command is profiled from its first instruction and not the fork/exec glue before it.
    ChildExec {
        /// The forked child, waiting to exec.
        pid: u32,
    },
}

/// Which privilege levels take samples (`exclude_kernel` / `exclude_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleMode {
    /// Samples in user space and in the kernel.
    KernelAndUser,
    /// Only samples taken in user space (`exclude_kernel`); time in the kernel is not sampled.
    /// Context switches always happen in the kernel, so with this mode they yield nothing: for
    /// user stacks only, keep [`SampleMode::KernelAndUser`] and turn `kernel_callchain` off.
    UserOnly,
    /// Only samples taken in the kernel (`exclude_user`).
    KernelOnly,
}

/// Options of a sampling session. Every field's default is stated; `SamplingConfig::default()`
/// is `plumb profile` without flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplingConfig {
    /// The sampling event. Default is [`Event::CpuClock`].
    pub event: Event,
    /// The sampling rate. Default is [`SampleRate::Frequency`] of [`DEFAULT_FREQUENCY_HZ`] (99 Hz).
    pub rate: SampleRate,
    /// What to watch. Default is [`Target::AllCpus`].
    pub target: Target,
    /// Which privilege levels take samples. Default is [`SampleMode::KernelAndUser`].
    pub mode: SampleMode,
    /// Record kernel frames of the callchain (off sets `exclude_callchain_kernel`). Default is true.
    pub kernel_callchain: bool,
    /// Record user frames of the callchain (off sets `exclude_callchain_user`). Default is true.
    pub user_callchain: bool,
    /// Bytes of user stack copied per sample (`PERF_SAMPLE_STACK_USER`), rounded up to a multiple
    /// of 8, at most [`MAX_USER_STACK_BYTES`]; 0 turns stack copies and user registers off.
    /// Default is 16 KiB: deep enough to unwind typical application stacks without frame
    /// pointers (perf's default of 8 KiB often cuts them short), while 99 Hz on a busy CPU stays
    /// at about 1.6 MB/s to copy.
    pub user_stack_bytes: u32,
    /// Record the user registers ip, sp and bp (`PERF_SAMPLE_REGS_USER`), where an unwinder
    /// starts. Only with a stack copy. Default is true.
    pub user_regs: bool,
    /// Data pages per ring buffer, a power of two. Default is 128 (512 KiB with 4 KiB pages):
    /// with the control page that is the 516 KiB per CPU that `kernel.perf_event_mlock_kb`
    /// grants without privileges, and it holds about 30 samples of 16 KiB stacks, a third of a
    /// second at 99 Hz on one busy CPU, so a reader that wakes every 100 ms loses nothing.
    pub ring_pages: usize,
    /// Bytes in a ring buffer before poll wakes the reader (`wakeup_watermark`). Default is
    /// `None`: a quarter of the ring.
    pub wakeup_watermark: Option<u32>,
}

impl Default for SamplingConfig {
    fn default() -> SamplingConfig {
        SamplingConfig {
            event: Event::CpuClock,
            rate: SampleRate::Frequency(DEFAULT_FREQUENCY_HZ),
            target: Target::AllCpus,
            mode: SampleMode::KernelAndUser,
            kernel_callchain: true,
            user_callchain: true,
            user_stack_bytes: DEFAULT_USER_STACK_BYTES,
            user_regs: true,
            ring_pages: DEFAULT_RING_PAGES,
            wakeup_watermark: None,
        }
    }
}

impl SamplingConfig {
    /// Checks the options that the kernel would otherwise reject with a bare EINVAL.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| Err(Error::InvalidConfig(reason.to_owned()));
        match self.rate {
            SampleRate::Frequency(0) => return invalid("the sampling frequency must be above 0 Hz"),
            SampleRate::Period(0) => return invalid("the sampling period must be above 0"),
            _ => {}
        }
        if self.ring_pages == 0 || !self.ring_pages.is_power_of_two() {
            return invalid("ring_pages must be a power of two");
        }
        if self.user_stack_bytes > MAX_USER_STACK_BYTES {
            return invalid("user_stack_bytes is above 63 KiB, more than a perf record can hold");
        }
        if let Target::Pids(pids) = &self.target
            && pids.is_empty()
        {
            return invalid("the list of pids to profile is empty");
        }
        Ok(())
    }

    /// The perf_event_paranoid level this request needs without CAP_PERFMON: 0 to watch all
    /// CPUs, 1 to include kernel samples of one's own processes, 2 for user-only samples
    /// (the kernel checks `exclude_kernel`, not the callchain toggles).
    pub fn paranoid_level_needed(&self) -> i32 {
        match (&self.target, self.mode) {
            (Target::AllCpus, _) => 0,
            (_, SampleMode::UserOnly) => 2,
            _ => 1,
        }
    }

    fn sample_type(&self) -> u64 {
        let mut t = b::PERF_SAMPLE_IP
            | b::PERF_SAMPLE_TID
            | b::PERF_SAMPLE_TIME
            | b::PERF_SAMPLE_CPU
            | b::PERF_SAMPLE_PERIOD
            | b::PERF_SAMPLE_CALLCHAIN;
        if self.stack_bytes() > 0 {
            t |= b::PERF_SAMPLE_STACK_USER;
            if self.user_regs && user_regs_mask() != 0 {
                t |= b::PERF_SAMPLE_REGS_USER;
            }
        }
        u64::from(t)
    }

    fn regs_mask(&self) -> u64 {
        if self.sample_type() & u64::from(b::PERF_SAMPLE_REGS_USER) != 0 { user_regs_mask() } else { 0 }
    }

    /// The stack copy size the kernel gets: a multiple of 8, or 0.
    fn stack_bytes(&self) -> u32 {
        self.user_stack_bytes.min(MAX_USER_STACK_BYTES).next_multiple_of(8)
    }

    /// The record layout matching [`SamplingConfig::attr`].
    pub fn layout(&self) -> Result<RecordLayout, Error> {
        RecordLayout::new(self.sample_type(), self.regs_mask(), true)
    }

    /// The `perf_event_attr` for this configuration, opened disabled (the session enables it,
    /// or the kernel at exec for [`Target::ChildExec`]).
    pub fn attr(&self) -> perf_event_attr {
        let mut attr = perf_event_attr {
            type_: b::PERF_TYPE_SOFTWARE,
            size: u32::try_from(std::mem::size_of::<perf_event_attr>()).unwrap_or(b::PERF_ATTR_SIZE_VER8),
            config: u64::from(self.event.software_id()),
            ..perf_event_attr::default()
        };
        match self.rate {
            SampleRate::Frequency(hz) => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = hz;
            }
            SampleRate::Period(period) => attr.__bindgen_anon_1.sample_period = period,
        }
        attr.sample_type = self.sample_type();
        // read() then reports samples the kernel dropped for want of ring space (Linux 6.0+;
        // the session retries without it on older kernels).
        attr.read_format = u64::from(b::PERF_FORMAT_LOST);
        attr.sample_regs_user = self.regs_mask();
        attr.sample_stack_user = self.stack_bytes();
        attr.set_disabled(1);
        attr.set_exclude_kernel(u64::from(self.mode == SampleMode::UserOnly));
        attr.set_exclude_user(u64::from(self.mode == SampleMode::KernelOnly));
        attr.set_exclude_hv(1);
        attr.set_exclude_callchain_kernel(u64::from(!self.kernel_callchain));
        attr.set_exclude_callchain_user(u64::from(!self.user_callchain));
        attr.set_mmap(1);
        attr.set_mmap2(1);
        attr.set_comm(1);
        attr.set_comm_exec(1);
        attr.set_task(1);
        attr.set_sample_id_all(1);
        attr.set_use_clockid(1);
        attr.clockid = libc::CLOCK_MONOTONIC;
        let inherit = !matches!(self.target, Target::AllCpus);
        attr.set_inherit(u64::from(inherit));
        attr.set_enable_on_exec(u64::from(matches!(self.target, Target::ChildExec { .. })));
        attr.set_watermark(1);
        let ring_bytes = self.ring_pages.saturating_mul(crate::sys::page_size());
        let watermark = self.wakeup_watermark.unwrap_or(u32::try_from(ring_bytes / 4).unwrap_or(u32::MAX));
        attr.__bindgen_anon_2.wakeup_watermark = watermark.max(1);
        attr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_attr_asks_for_everything_the_profiler_needs() {
        let attr = SamplingConfig::default().attr();
        assert_eq!(attr.type_, b::PERF_TYPE_SOFTWARE);
        assert_eq!(attr.config, u64::from(b::PERF_COUNT_SW_CPU_CLOCK));
        assert_eq!(attr.freq(), 1);
        let want = b::PERF_SAMPLE_IP
            | b::PERF_SAMPLE_TID
            | b::PERF_SAMPLE_TIME
            | b::PERF_SAMPLE_CPU
            | b::PERF_SAMPLE_PERIOD
            | b::PERF_SAMPLE_CALLCHAIN
            | b::PERF_SAMPLE_STACK_USER
            | b::PERF_SAMPLE_REGS_USER;
        assert_eq!(attr.sample_type, u64::from(want));
        assert_eq!(attr.sample_stack_user, 16384);
        assert_eq!(attr.sample_regs_user, (1 << 6) | (1 << 7) | (1 << 8));
        assert_eq!(
            (attr.mmap(), attr.mmap2(), attr.mmap_data(), attr.comm(), attr.comm_exec(), attr.task()),
            (1, 1, 0, 1, 1, 1)
        );
        assert_eq!((attr.sample_id_all(), attr.disabled(), attr.inherit(), attr.enable_on_exec()), (1, 1, 0, 0));
        assert_eq!((attr.exclude_kernel(), attr.exclude_user(), attr.exclude_callchain_user()), (0, 0, 0));
        assert_eq!((attr.use_clockid(), attr.clockid), (1, libc::CLOCK_MONOTONIC));
        assert_eq!(attr.watermark(), 1);
        assert_eq!(attr.read_format, u64::from(b::PERF_FORMAT_LOST));
    }

    #[test]
    fn child_exec_inherits_and_enables_on_exec() {
        let config = SamplingConfig { target: Target::ChildExec { pid: 42 }, ..SamplingConfig::default() };
        let attr = config.attr();
        assert_eq!((attr.inherit(), attr.enable_on_exec(), attr.disabled()), (1, 1, 1));
        let pids = SamplingConfig { target: Target::Pids(vec![1]), ..SamplingConfig::default() }.attr();
        assert_eq!((pids.inherit(), pids.enable_on_exec()), (1, 0));
    }

    #[test]
    fn user_only_and_no_stack_change_the_attr() {
        let config = SamplingConfig {
            mode: SampleMode::UserOnly,
            kernel_callchain: false,
            user_stack_bytes: 0,
            event: Event::PageFaults,
            rate: SampleRate::Period(1),
            target: Target::Pids(vec![1]),
            ..SamplingConfig::default()
        };
        let attr = config.attr();
        assert_eq!((attr.exclude_kernel(), attr.exclude_user(), attr.exclude_callchain_kernel()), (1, 0, 1));
        assert_eq!(attr.sample_type & u64::from(b::PERF_SAMPLE_STACK_USER | b::PERF_SAMPLE_REGS_USER), 0);
        assert_eq!((attr.sample_stack_user, attr.sample_regs_user, attr.freq()), (0, 0, 0));
        assert_eq!(attr.config, u64::from(b::PERF_COUNT_SW_PAGE_FAULTS));
        assert_eq!(config.paranoid_level_needed(), 2);
        let with_kernel = SamplingConfig { mode: SampleMode::KernelAndUser, ..config.clone() };
        assert_eq!(with_kernel.paranoid_level_needed(), 1);
        assert_eq!(SamplingConfig::default().paranoid_level_needed(), 0);
    }

    #[test]
    fn stack_size_is_rounded_to_eight() {
        let attr = SamplingConfig { user_stack_bytes: 1001, ..SamplingConfig::default() }.attr();
        assert_eq!(attr.sample_stack_user, 1008);
    }

    #[test]
    fn validate_rejects_what_the_kernel_would() {
        let bad = [
            SamplingConfig { rate: SampleRate::Frequency(0), ..SamplingConfig::default() },
            SamplingConfig { ring_pages: 100, ..SamplingConfig::default() },
            SamplingConfig { user_stack_bytes: 65536, ..SamplingConfig::default() },
            SamplingConfig { target: Target::Pids(vec![]), ..SamplingConfig::default() },
        ];
        for config in bad {
            assert!(matches!(config.validate(), Err(Error::InvalidConfig(_))), "{config:?}");
        }
        assert!(SamplingConfig::default().validate().is_ok());
    }

    #[test]
    fn event_names_round_trip() {
        for event in [Event::CpuClock, Event::PageFaults, Event::ContextSwitches] {
            assert_eq!(Event::from_name(event.name()), Some(event));
        }
        assert_eq!(Event::from_name("cycles"), None);
    }
}
