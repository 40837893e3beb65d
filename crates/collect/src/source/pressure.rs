//! `/proc/pressure/{cpu,memory,io}`: pressure stall information (PSI), the share of wall time in
//! which some (or all non-idle) tasks waited for a resource.
//!
//! Hand-parsed rather than through `procfs_core::{CpuPressure, MemoryPressure, IoPressure}`:
//! those demand a `full` line, which /proc/pressure/cpu lacks before Linux 5.13, and their record
//! parser slices the line at a fixed byte offset, so a short or non-ASCII line panics.
//!
//! Two numbers per record are emitted: the kernel's own 10-second average, and the stall share
//! over the collection interval computed from the `total` microseconds, which sees spikes that
//! the kernel's exponential average smooths away.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, counter_delta};

use super::Source;

/// The resources, in the order of [`METRICS`] and of the files read.
pub const RESOURCES: [&str; 3] = ["cpu", "memory", "io"];

/// What this source emits: for each resource of [`RESOURCES`], `some` then `full`, each with its
/// `avg10` then its `stalled`.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "psi.cpu.some.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/cpu", help: "Kernel's 10-second average of time some tasks waited for a CPU (sar -q CPU %scpu-10)." },
    MetricDef { name: "psi.cpu.some.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/cpu", help: "Time some tasks waited for a CPU during the interval (sar -q CPU %scpu)." },
    MetricDef { name: "psi.cpu.full.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/cpu", help: "Kernel's 10-second average of time all non-idle tasks waited for a CPU; 0 system-wide, absent before Linux 5.13 (no sar column)." },
    MetricDef { name: "psi.cpu.full.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/cpu", help: "Time all non-idle tasks waited for a CPU during the interval; 0 system-wide, absent before Linux 5.13 (no sar column)." },
    MetricDef { name: "psi.memory.some.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/memory", help: "Kernel's 10-second average of time some tasks waited for memory (sar -q MEM %smem-10)." },
    MetricDef { name: "psi.memory.some.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/memory", help: "Time some tasks waited for memory during the interval (sar -q MEM %smem)." },
    MetricDef { name: "psi.memory.full.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/memory", help: "Kernel's 10-second average of time all non-idle tasks waited for memory (sar -q MEM %fmem-10)." },
    MetricDef { name: "psi.memory.full.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/memory", help: "Time all non-idle tasks waited for memory during the interval (sar -q MEM %fmem)." },
    MetricDef { name: "psi.io.some.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/io", help: "Kernel's 10-second average of time some tasks waited for I/O (sar -q IO %sio-10)." },
    MetricDef { name: "psi.io.some.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/io", help: "Time some tasks waited for I/O during the interval (sar -q IO %sio)." },
    MetricDef { name: "psi.io.full.avg10", unit: Unit::Percent, tags: &[], source: "/proc/pressure/io", help: "Kernel's 10-second average of time all non-idle tasks waited for I/O (sar -q IO %fio-10)." },
    MetricDef { name: "psi.io.full.stalled", unit: Unit::Percent, tags: &[], source: "/proc/pressure/io", help: "Time all non-idle tasks waited for I/O during the interval (sar -q IO %fio)." },
];

/// The `avg10` and `stalled` metric names of resource `r` (an index into [`RESOURCES`]) and
/// record `full` (false: `some`).
fn names(r: usize, full: bool) -> (&'static str, &'static str) {
    let i = r * 4 + if full { 2 } else { 0 };
    (METRICS[i].name, METRICS[i + 1].name)
}

/// One `some` or `full` line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PsiRecord {
    /// The kernel's 10-second average, percent.
    pub avg10: f64,
    /// Stall time since boot, microseconds.
    pub total: u64,
}

/// The parsed contents of one /proc/pressure file.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pressure {
    /// The `some` line.
    pub some: PsiRecord,
    /// The `full` line; `None` where the kernel has none (cpu before Linux 5.13).
    pub full: Option<PsiRecord>,
}

/// Parses one /proc/pressure file; `file` names it in errors. Keys other than `avg10` and `total`
/// are ignored; `some` must be present, `full` may be missing.
pub fn parse(file: &str, text: &str) -> Result<Pressure, CollectError> {
    let mut some = None;
    let mut full = None;
    for (i, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(kind) = fields.next() else { continue };
        let err = |reason: String| CollectError::parse(file, i + 1, reason);
        let slot = match kind {
            "some" => &mut some,
            "full" => &mut full,
            other => return Err(err(format!("record {other:?} is neither `some` nor `full`"))),
        };
        let (mut avg10, mut total) = (None, None);
        for kv in fields {
            let Some((key, value)) = kv.split_once('=') else {
                return Err(err(format!("{kv:?} is not key=value")));
            };
            match key {
                "avg10" => {
                    let v: f64 = value.parse().map_err(|_| err(format!("avg10 {value:?} is not a number")))?;
                    if !(0.0..=100.0).contains(&v) {
                        return Err(err(format!("avg10 {value} is not a percentage")));
                    }
                    avg10 = Some(v);
                }
                "total" => total = Some(value.parse().map_err(|_| err(format!("total {value:?} is not a number")))?),
                _ => {}
            }
        }
        let avg10 = avg10.ok_or_else(|| err("no avg10".into()))?;
        let total = total.ok_or_else(|| err("no total".into()))?;
        *slot = Some(PsiRecord { avg10, total });
    }
    let some = some.ok_or_else(|| CollectError::parse(file, 0, "no `some` line"))?;
    Ok(Pressure { some, full })
}

/// Share of `secs` seconds of wall time that the stall counter grew by between two readings, in
/// percent: `delta_us / (secs * 1e6) * 100`, kept within 0..=100. 0 when the counter went
/// backwards or no time passed.
pub fn stalled_percent(prev_total: u64, cur_total: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        (counter_delta(prev_total, cur_total) as f64 / (secs * 1e6) * 100.0).clamp(0.0, 100.0)
    } else {
        0.0
    }
}

/// Reads /proc/pressure/{cpu,memory,io} each cycle.
#[derive(Default)]
pub struct PressureSource {
    buf: String,
    prev: [Option<Pressure>; 3],
}

impl Source for PressureSource {
    fn name(&self) -> &'static str {
        "pressure"
    }

    /// A file that is absent leaves its resource out; all three absent is
    /// [`CollectError::Absent`] for /proc/pressure. Any other failure fails the whole source for
    /// the cycle, so the collector's note ("its metrics are left out") stays true.
    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let mut cur: [Option<Pressure>; 3] = [None; 3];
        for (r, resource) in RESOURCES.iter().enumerate() {
            let rel = format!("pressure/{resource}");
            match root.read_proc(&rel, &mut self.buf) {
                Ok(()) => cur[r] = Some(parse(&format!("/proc/{rel}"), &self.buf)?),
                Err(CollectError::Absent { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if cur.iter().all(Option::is_none) {
            return Err(CollectError::Absent { path: root.proc.join("pressure") });
        }
        for (r, p) in cur.iter().enumerate() {
            let Some(p) = p else { continue };
            let prev = self.prev[r].as_ref();
            let records = [(false, Some(p.some), prev.map(|q| q.some)), (true, p.full, prev.and_then(|q| q.full))];
            for (full, rec, before) in records {
                let Some(rec) = rec else { continue };
                let (avg10, stalled) = names(r, full);
                out.push(Sample::new(avg10, rec.avg10));
                if let (Some(before), Some(secs)) = (before, secs) {
                    out.push(Sample::new(stalled, stalled_percent(before.total, rec.total, secs)));
                }
            }
        }
        self.prev = cur;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/pressure").join(rel)
    }

    fn run(src: &mut PressureSource, tree: &str, secs: Option<f64>) -> Result<Vec<Sample>, CollectError> {
        let mut out = Vec::new();
        src.collect(&FsRoot::under(data(tree)), secs, &mut out).map(|()| out)
    }

    fn get(out: &[Sample], name: &str) -> Option<f64> {
        out.iter().find(|s| s.name == name).map(|s| s.value)
    }

    #[test]
    fn metric_table_matches_names() {
        for (r, res) in RESOURCES.iter().enumerate() {
            for (full, kind) in [(false, "some"), (true, "full")] {
                assert_eq!(
                    names(r, full),
                    (&*format!("psi.{res}.{kind}.avg10"), &*format!("psi.{res}.{kind}.stalled"))
                );
                assert_eq!(METRICS[r * 4].source, format!("/proc/pressure/{res}"));
            }
        }
        assert_eq!(METRICS.len(), 12);
    }

    #[test]
    fn parses_a_captured_file() {
        // t1 io: some avg10=0.57 ... total=3197002, full avg10=0.03 ... total=2782235
        let p = parse("io", include_str!("../../test_data/pressure/t1/proc/pressure/io")).unwrap();
        assert_eq!(p.some, PsiRecord { avg10: 0.57, total: 3197002 });
        assert_eq!(p.full, Some(PsiRecord { avg10: 0.03, total: 2782235 }));
    }

    #[test]
    fn cpu_without_full_parses() {
        let p = parse("cpu", include_str!("../../test_data/pressure/nofull/proc/pressure/cpu")).unwrap();
        assert_eq!(p.some.total, 11822146);
        assert_eq!(p.full, None);
    }

    #[test]
    fn garbage_and_missing_fields_are_errors_with_a_line() {
        let cases = [
            ("some avg10=1.00 avg60=0 avg300=0 total=5\nfull avg10=x total=1\n", "line 2"),
            ("some avg10=1.00 total=5\nhalf avg10=1 total=1\n", "line 2"),
            ("some avg10=1.00 avg60=0.5\n", "line 1"),
            ("some total=7\n", "line 1"),
            ("some avg10=1 total=-7\n", "line 1"),
            ("some avg10=250 total=7\n", "line 1"),
            ("some avg10 total=7\n", "line 1"),
            ("full avg10=1 total=7\n", "line 0"),
            ("", "line 0"),
        ];
        for (text, want) in cases {
            let e = parse("/proc/pressure/cpu", text).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn stalled_is_a_share_of_wall_time() {
        assert_eq!(stalled_percent(1_000_000, 1_500_000, 2.0), 25.0);
        assert_eq!(stalled_percent(500, 100, 2.0), 0.0);
        assert_eq!(stalled_percent(0, 9_000_000, 2.0), 100.0);
        assert_eq!(stalled_percent(0, 10, 0.0), 0.0);
    }

    #[test]
    fn source_reads_two_captured_trees() {
        let mut src = PressureSource::default();
        let first = run(&mut src, "t0", None).unwrap();
        // First reading: the six avg10 values only, no stall shares yet.
        assert_eq!(first.len(), 6);
        assert_eq!(get(&first, "psi.cpu.some.avg10"), Some(1.13));
        assert_eq!(get(&first, "psi.io.full.avg10"), Some(0.03));
        assert!(first.iter().all(|s| !s.name.ends_with(".stalled")));

        let out = run(&mut src, "t1", Some(2.0)).unwrap();
        assert_eq!(out.len(), 12);
        assert!(out.iter().all(|s| METRICS.iter().any(|d| d.name == s.name)));
        assert_eq!(get(&out, "psi.cpu.some.avg10"), Some(4.73));
        assert_eq!(get(&out, "psi.io.some.avg10"), Some(0.57));
        // cpu some total 10207376 -> 11822146 us over 2 s.
        let want = (11822146.0 - 10207376.0) / 2e6 * 100.0;
        assert!((get(&out, "psi.cpu.some.stalled").unwrap() - want).abs() < 1e-9);
        // io some 3107893 -> 3197002, full 2782029 -> 2782235.
        let want = (3197002.0 - 3107893.0) / 2e6 * 100.0;
        assert!((get(&out, "psi.io.some.stalled").unwrap() - want).abs() < 1e-9);
        let want = (2782235.0 - 2782029.0) / 2e6 * 100.0;
        assert!((get(&out, "psi.io.full.stalled").unwrap() - want).abs() < 1e-9);
        // cpu full and memory stay at total=0.
        assert_eq!(get(&out, "psi.cpu.full.stalled"), Some(0.0));
        assert_eq!(get(&out, "psi.memory.some.stalled"), Some(0.0));

        // Back to t0: every total went backwards or stayed at 0, so every stall share is 0.
        let back = run(&mut src, "t0", Some(2.0)).unwrap();
        assert!(back.iter().filter(|s| s.name.ends_with(".stalled")).all(|s| s.value == 0.0));
        assert_eq!(back.iter().filter(|s| s.name.ends_with(".stalled")).count(), 6);
    }

    #[test]
    fn cpu_without_full_omits_only_those() {
        let mut src = PressureSource::default();
        run(&mut src, "t0", None).unwrap();
        let out = run(&mut src, "nofull", Some(2.0)).unwrap();
        assert_eq!(get(&out, "psi.cpu.full.avg10"), None);
        assert_eq!(get(&out, "psi.cpu.full.stalled"), None);
        assert_eq!(out.len(), 10);
        let want = (11822146.0 - 10207376.0) / 2e6 * 100.0;
        assert!((get(&out, "psi.cpu.some.stalled").unwrap() - want).abs() < 1e-9);
    }

    #[test]
    fn one_file_absent_keeps_the_others() {
        let mut src = PressureSource::default();
        run(&mut src, "t0", None).unwrap();
        let out = run(&mut src, "noio", Some(2.0)).unwrap();
        assert!(out.iter().all(|s| !s.name.starts_with("psi.io.")));
        assert_eq!(out.len(), 8);
    }

    #[test]
    fn pressure_dir_absent_is_absent() {
        let dir = std::env::temp_dir().join(format!("plumb-psi-absent-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        let mut out = Vec::new();
        let r = PressureSource::default().collect(&FsRoot::under(&dir), None, &mut out);
        let _ = std::fs::remove_dir_all(&dir);
        match r {
            Err(CollectError::Absent { path }) => assert!(path.ends_with("proc/pressure"), "{path:?}"),
            other => panic!("expected Absent, got {other:?}"),
        }
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse("cpu", &String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn psi_like_text_never_panics(s in "((some|full|é)( (avg10|avg60|total)=[0-9.-]{0,6})*\n?){0,3}") {
            let _ = parse("cpu", &s);
        }

        #[test]
        fn stalled_stays_a_percentage(a: u64, b: u64, secs in 0.0f64..1e4) {
            let v = stalled_percent(a, b, secs);
            prop_assert!((0.0..=100.0).contains(&v));
        }
    }
}
