//! The one error type of plumb-pmc.
//!
//! Design decision: every "cannot measure here" answer is a variant whose one-line message names
//! the missing PMU directory, event file, device or kernel counter, because on a virtual machine
//! that line is the whole output and must tell the reader what the hypervisor withholds.

use std::io;
use std::path::PathBuf;

/// Everything that stops a hardware-counter tool from measuring.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel has no hardware PMU for generic counters (cycles, instructions).
    /// Printed with its chain (`{:#}` in anyhow, or [`chain`]), it reads "no hardware PMU: ...:
    /// perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) failed: <errno>".
    #[error("no hardware PMU: {} does not exist (a virtual machine without PMU passthrough?)", path.display())]
    NoHardwarePmu {
        /// The core PMU directory that is absent.
        path: PathBuf,
        /// The refused perf_event_open.
        source: plumb_perf::Error,
    },
    /// A PMU, an event or a counter is missing, or the kernel refused to open one.
    #[error(transparent)]
    Perf(#[from] plumb_perf::Error),
    /// TjMax (the temperature the thermal margin counts down from) could not be read.
    #[error(
        "TjMax is unknown: reading MSR IA32_TEMPERATURE_TARGET (0x1a2) from {} failed: {source} \
         (load the msr module, or pass --tjmax)", path.display()
    )]
    TjMaxUnknown {
        /// The MSR device read.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A recorded-values file did not parse.
    #[error("bad recorded counter values: {0}")]
    Recorded(String),
}

/// An error and its causes on one line, joined by ": " as anyhow's `{:#}` prints them.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
