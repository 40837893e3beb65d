//! What the hardware-counter tools need from the kernel, and the precise sentence when it is not
//! there: the core PMU behind `PERF_TYPE_HARDWARE`, and the `msr` PMU's `tsc`, `aperf`, `mperf`
//! and `cpu_thermal_margin` events.
//!
//! Design decision: availability is decided by the kernel's own description of its PMUs under
//! `/sys/bus/event_source/devices` (read through plumb-perf with a root path, so tests replay a
//! captured tree), not by CPU model tables: a hypervisor that hides a PMU hides its directory.

use std::path::Path;

use plumb_perf::CounterSpec;
use plumb_perf::pmu::Pmu;

use crate::error::Error;

/// Directory names of the PMUs that serve `PERF_TYPE_HARDWARE` on common machines.
const CORE_PMUS: [&str; 3] = ["cpu", "cpu_core", "cpu_atom"];

/// Turns a refused cycles/instructions counter into the error to show: when no core PMU
/// directory exists under `root`, [`Error::NoHardwarePmu`] naming `root/cpu`; otherwise the
/// kernel's refusal as is.
pub fn core_pmu_check(root: &Path, refused: plumb_perf::Error) -> Error {
    let has_core_pmu = CORE_PMUS.iter().any(|name| root.join(name).is_dir())
        || plumb_perf::pmu::pmu_names(root).is_ok_and(|names| names.iter().any(|n| n.starts_with("armv")));
    if has_core_pmu { Error::Perf(refused) } else { Error::NoHardwarePmu { path: root.join("cpu"), source: refused } }
}

/// The `msr` PMU's counters for `events`, in order; fails naming the first missing PMU
/// directory or event file.
pub fn msr_counters(root: &Path, events: &[&str]) -> Result<Vec<CounterSpec>, Error> {
    let msr = Pmu::read(root, "msr")?;
    events.iter().map(|event| CounterSpec::from_pmu(&msr, event).map_err(Error::from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tree(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../perf/test_data/pmu").join(name)
    }

    #[test]
    fn names_the_missing_core_pmu() {
        let refused = plumb_perf::Error::CounterUnsupported {
            counter: "PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES".to_owned(),
            source: std::io::Error::from_raw_os_error(2),
        };
        let root = tree("firecracker");
        let text = crate::error::chain(&core_pmu_check(&root, refused));
        assert!(text.starts_with(&format!("no hardware PMU: {} does not exist", root.join("cpu").display())), "{text}");
        let tail = "passthrough?): perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) failed: No such file or directory (os error 2)";
        assert!(text.ends_with(tail), "{text}");
        let refused =
            plumb_perf::Error::CounterUnsupported { counter: "x".to_owned(), source: std::io::Error::other("y") };
        assert!(matches!(core_pmu_check(&tree("intel"), refused), Error::Perf(_)));
    }

    #[test]
    fn names_the_missing_msr_event() {
        let root = tree("firecracker");
        let text = msr_counters(&root, &["tsc", "aperf", "mperf"]).unwrap_err().to_string();
        let path = root.join("msr/events/aperf");
        assert_eq!(text, format!("the msr PMU has no aperf event: {} is missing (present: tsc)", path.display()));
        let specs = msr_counters(&tree("intel"), &["tsc", "aperf", "mperf", "cpu_thermal_margin"]).unwrap();
        let configs: Vec<u64> = specs.iter().map(|s| s.raw.config).collect();
        assert_eq!(configs, vec![0, 1, 2, 7]);
        assert!(specs.iter().all(|s| s.raw.pmu_type == 9));
        let text = msr_counters(&tree("nowhere"), &["tsc"]).unwrap_err().to_string();
        assert!(text.starts_with("no msr PMU: ") && text.ends_with("nowhere/msr does not exist"), "{text}");
    }
}
