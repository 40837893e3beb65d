//! What a recording samples, and for how long.

use std::ffi::OsString;
use std::time::Duration;

use plumb_perf::{Event, SampleMode, SampleRate};
use plumb_profile::TaskRoots;

/// Whose stacks to sample.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// Every process on every CPU (`-a`). The default.
    #[default]
    AllCpus,
    /// These processes, all their threads (`-p PID ...`).
    Pids(Vec<u32>),
    /// Run this command and sample it and its children from its exec until it exits
    /// (`-- COMMAND ARGS...`).
    Command(Vec<OsString>),
}

/// Options of one recording. Every field's default is stated; `RecordOptions::default()` is
/// `plumb profile` without flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// The sampling event. Default is `cpu-clock`.
    pub event: Event,
    /// Samples per second per CPU, or a period. Default is 99 Hz (off-beat with 100 Hz timers, so
    /// periodic work is not sampled in lockstep).
    pub rate: SampleRate,
    /// Whose stacks. Default is [`Target::AllCpus`].
    pub target: Target,
    /// How long to sample. Default is `None`: until stopped, or until the command exits.
    pub duration: Option<Duration>,
    /// User and kernel frames, or only one side. Default is both.
    pub mode: SampleMode,
    /// Synthetic root frames naming the process or thread. Default is none.
    pub roots: TaskRoots,
    /// Bytes of user stack copied per sample for unwinding code without frame pointers. Default is
    /// plumb-perf's (16 KiB).
    pub user_stack_bytes: u32,
    /// The host name written into the profile. Default is `None`.
    pub host: Option<String>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            event: Event::CpuClock,
            rate: SampleRate::Frequency(plumb_perf::DEFAULT_FREQUENCY_HZ),
            target: Target::AllCpus,
            duration: None,
            mode: SampleMode::KernelAndUser,
            roots: TaskRoots::None,
            user_stack_bytes: plumb_perf::DEFAULT_USER_STACK_BYTES,
            host: None,
        }
    }
}
