//! How the measuring tools end: after a number of seconds from the command line, or at Ctrl-C
//! (or SIGTERM), whichever comes first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A positive, finite number of seconds as a `Duration`; `what` names the argument in the error
/// ("DURATION must be a positive number of seconds, not 0").
pub(crate) fn positive_seconds(what: &str, s: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(s.is_finite() && s > 0.0, "{what} must be a positive number of seconds, not {s}");
    Duration::try_from_secs_f64(s).with_context(|| format!("{what} is too long: {s} s"))
}

/// A flag that Ctrl-C (or SIGTERM) sets.
pub(crate) fn stop_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// Sleeps until `deadline` or until `stop` is set; false when stopped.
pub(crate) fn sleep_until(deadline: Instant, stop: &AtomicBool) -> bool {
    while !stop.load(Ordering::Relaxed) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_positive_finite_and_representable() {
        assert_eq!(positive_seconds("DURATION", 1.5).unwrap(), Duration::from_millis(1500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = positive_seconds("DURATION", bad).unwrap_err().to_string();
            assert!(e.starts_with("DURATION must be a positive number of seconds, not"), "{e}");
        }
        let e = format!("{:#}", positive_seconds("DURATION", 1e30).unwrap_err());
        assert!(e.starts_with("DURATION is too long: 1000000000000000000000000000000 s"), "{e}");
    }

    #[test]
    fn sleep_until_returns_false_once_stopped() {
        let stop = AtomicBool::new(true);
        assert!(!sleep_until(Instant::now() + Duration::from_secs(60), &stop));
        assert!(sleep_until(Instant::now(), &AtomicBool::new(false)));
    }
}
