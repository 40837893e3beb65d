//! `/proc/loadavg`: the kernel's 1, 5 and 15 minute load averages and the number of tasks.
//!
//! Parsed with `procfs_core::LoadAverage`. It keeps the averages as `f32`, so 0.47 comes back as
//! 0.4699999988; the kernel prints exactly two decimals, so they are rounded back to two decimals
//! here and the samples carry the value the file shows.

use plumb_model::{MetricDef, Sample, Unit};
use procfs_core::{FromRead, LoadAverage, ProcError};

use crate::{CollectError, FsRoot};

use super::Source;

const SRC: &str = "/proc/loadavg";

/// What this source emits.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "load.avg1", unit: Unit::Number, tags: &[], source: SRC, help: "Load average over the last minute (sar -q ldavg-1)." },
    MetricDef { name: "load.avg5", unit: Unit::Number, tags: &[], source: SRC, help: "Load average over the last 5 minutes (sar -q ldavg-5)." },
    MetricDef { name: "load.avg15", unit: Unit::Number, tags: &[], source: SRC, help: "Load average over the last 15 minutes (sar -q ldavg-15)." },
    MetricDef { name: "load.tasks", unit: Unit::Count, tags: &[], source: SRC, help: "Tasks (processes and threads) that exist now (sar -q plist-sz)." },
];

/// The parsed contents of /proc/loadavg.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadAvg {
    /// The 1-minute load average.
    pub avg1: f64,
    /// The 5-minute load average.
    pub avg5: f64,
    /// The 15-minute load average.
    pub avg15: f64,
    /// Tasks runnable now (the number before the slash).
    pub runnable: u64,
    /// Tasks that exist now (the number after the slash).
    pub tasks: u64,
}

/// Parses /proc/loadavg, e.g. `0.47 0.33 0.14 1/84 5202`.
pub fn parse(text: &str) -> Result<LoadAvg, CollectError> {
    let la = LoadAverage::from_read(text.as_bytes()).map_err(|e| procfs_error(1, e))?;
    let avg = |x: f32| -> Result<f64, CollectError> {
        if x.is_finite() && x >= 0.0 {
            Ok((f64::from(x) * 100.0).round() / 100.0)
        } else {
            Err(CollectError::parse(SRC, 1, format!("load average {x} is not a finite non-negative number")))
        }
    };
    Ok(LoadAvg {
        avg1: avg(la.one)?,
        avg5: avg(la.five)?,
        avg15: avg(la.fifteen)?,
        runnable: u64::from(la.cur),
        tasks: u64::from(la.max),
    })
}

/// A procfs-core error as a parse error of /proc/loadavg at `line`. Its internal errors describe
/// a malformed file, not a bug, so their "please report" wording is dropped.
fn procfs_error(line: usize, e: ProcError) -> CollectError {
    let reason = match e {
        ProcError::InternalError(i) => i.msg.trim_start_matches("Internal Unwrap Error: ").to_string(),
        other => other.to_string(),
    };
    CollectError::parse(SRC, line, format!("not in the `avg1 avg5 avg15 runnable/tasks last_pid` format ({reason})"))
}

/// Reads /proc/loadavg each cycle.
#[derive(Default)]
pub struct LoadavgSource {
    buf: String,
}

impl Source for LoadavgSource {
    fn name(&self) -> &'static str {
        "loadavg"
    }

    fn collect(&mut self, root: &FsRoot, _secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("loadavg", &mut self.buf)?;
        let la = parse(&self.buf)?;
        out.push(Sample::new("load.avg1", la.avg1));
        out.push(Sample::new("load.avg5", la.avg5));
        out.push(Sample::new("load.avg15", la.avg15));
        out.push(Sample::new("load.tasks", la.tasks as f64));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/loadavg").join(rel)
    }

    #[test]
    fn parses_a_captured_file_exactly() {
        // t1 holds `0.53 0.38 0.18 7/113 7239`.
        let la = parse(include_str!("../../test_data/loadavg/t1/proc/loadavg")).unwrap();
        assert_eq!(la, LoadAvg { avg1: 0.53, avg5: 0.38, avg15: 0.18, runnable: 7, tasks: 113 });
    }

    #[test]
    fn missing_fields_and_garbage_are_errors_on_line_1() {
        for bad in ["", "0.1 0.2\n", "0.1 0.2 0.3 4\n", "0.1 0.2 0.3 1/x 5\n", "a b c 1/2 3\n", "0.1 0.2 0.3 1/2\n"] {
            let e = parse(bad).unwrap_err();
            assert!(e.to_string().contains("line 1"), "{bad:?}: {e}");
        }
        assert!(parse("nan 0.2 0.3 1/2 3\n").is_err());
        assert!(parse("-1 0.2 0.3 1/2 3\n").is_err());
    }

    #[test]
    fn source_reads_two_captured_trees() {
        let mut src = LoadavgSource::default();
        for (tree, secs, avg1, tasks) in [("t0", None, 0.53, 88.0), ("t1", Some(2.0), 0.53, 113.0)] {
            let mut out = Vec::new();
            src.collect(&FsRoot::under(data(tree)), secs, &mut out).unwrap();
            let get = |n: &str| out.iter().find(|s| s.name == n).map(|s| s.value);
            assert_eq!(get("load.avg1"), Some(avg1), "{tree}");
            assert_eq!(get("load.avg5"), Some(0.38), "{tree}");
            assert_eq!(get("load.avg15"), Some(0.18), "{tree}");
            assert_eq!(get("load.tasks"), Some(tasks), "{tree}");
            assert_eq!(out.len(), METRICS.len());
            assert!(out.iter().all(|s| METRICS.iter().any(|d| d.name == s.name)));
        }
    }

    #[test]
    fn absent_file_is_absent() {
        let mut out = Vec::new();
        let e = LoadavgSource::default().collect(&FsRoot::under(data("no-such-tree")), None, &mut out).unwrap_err();
        assert!(matches!(e, CollectError::Absent { .. }), "{e}");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn loadavg_like_text_never_panics(s in "[0-9./ \n-]{0,64}") {
            let _ = parse(&s);
        }
    }
}
