//! Turning BPF timestamps (`bpf_ktime_get_ns`, CLOCK_MONOTONIC) into wall-clock time. Design
//! decision: one offset measured when the tracer starts, as bcc does; a clock step during a
//! trace shifts later timestamps by the step, which is acceptable for event listings.

use crate::sys;

/// The offset between CLOCK_REALTIME and CLOCK_MONOTONIC at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonotonicClock {
    realtime_minus_monotonic_ns: i128,
}

impl MonotonicClock {
    /// Measures the offset now.
    pub fn now() -> MonotonicClock {
        let mono = sys::monotonic_ns();
        let real = sys::realtime_ns();
        MonotonicClock::from_readings(real, mono)
    }

    /// The clock for a known pair of readings taken at the same instant.
    pub fn from_readings(realtime_ns: u64, monotonic_ns: u64) -> MonotonicClock {
        MonotonicClock { realtime_minus_monotonic_ns: i128::from(realtime_ns) - i128::from(monotonic_ns) }
    }

    /// A BPF timestamp as nanoseconds since the Unix epoch.
    pub fn to_unix_ns(self, ktime_ns: u64) -> i128 {
        i128::from(ktime_ns) + self.realtime_minus_monotonic_ns
    }

    /// The current CLOCK_MONOTONIC reading, comparable with BPF timestamps.
    pub fn monotonic_now_ns() -> u64 {
        sys::monotonic_ns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ktime_maps_to_realtime_by_the_measured_offset() {
        let clock = MonotonicClock::from_readings(1_700_000_000_000_000_000, 5_000);
        assert_eq!(clock.to_unix_ns(5_000), 1_700_000_000_000_000_000);
        assert_eq!(clock.to_unix_ns(6_500), 1_700_000_000_000_001_500);
    }

    #[test]
    fn the_live_clock_puts_now_near_now() {
        let clock = MonotonicClock::now();
        let real = i128::from(sys::realtime_ns());
        let mapped = clock.to_unix_ns(MonotonicClock::monotonic_now_ns());
        assert!((mapped - real).abs() < 1_000_000_000, "{mapped} vs {real}");
    }
}
