//! plumb-perf: plumb's only access to `perf_event_open`. It opens sampling events, maps their
//! ring buffers and hands out typed [`Record`]s (samples with split kernel/user callchains, user
//! registers and stack copies; MMAP2, COMM, FORK, EXIT; lost and throttle notices). It does no
//! symbolization and knows nothing about profiles: plumb-symbolize turns addresses into frames,
//! plumb-profile builds the flame graphs.
//!
//! Main types: [`SamplingConfig`] (an Options struct: event, rate, target, callchains, stack
//! copy size, ring size), [`Session`] (`open`, `enable`, `poll`, `drain`, `stats`), [`Record`]
//! and [`RecordLayout`] (the pure parser of one record's bytes), and [`Error`].
//!
//! Layout: `sys` holds every `unsafe` call (perf_event_open, ioctl, mmap, poll, the ring's
//! atomics); `ring` copies bytes out of a ring and cuts them into records; `record` parses them;
//! `config` builds `perf_event_attr`; `session` ties them together; `cpus` lists CPUs and threads.
//!
//! Design decision, as in samply: recording is kept apart from interpretation. A [`Record`] holds
//! only what the kernel wrote (addresses, registers, stack bytes, file names), so the same
//! consumer can later be fed from a perf.data file, and tests can build records by hand.

mod config;
mod counting;
mod cpus;
mod error;
pub mod pmu;
mod record;
mod ring;
mod session;
mod sys;

pub use config::{
    DEFAULT_FREQUENCY_HZ, DEFAULT_RING_PAGES, DEFAULT_USER_STACK_BYTES, Event, MAX_USER_STACK_BYTES, SampleMode,
    SampleRate, SamplingConfig, Target,
};
pub use counting::{CountTarget, CounterReading, CounterSpec, Counting, HardwareCounter, Readings};
pub use cpus::{online_cpus, parse_cpu_list, threads_of};
pub use error::Error;
pub use record::{
    Comm, CpuMode, Exit, FileIdentity, Fork, HEADER_BYTES, Mmap, Record, RecordLayout, Sample, SampleId, Throttle,
    USER_REG_BITS, UserRegs, user_regs_mask,
};
pub use session::{Readiness, Session, SessionStats, current_paranoid};
