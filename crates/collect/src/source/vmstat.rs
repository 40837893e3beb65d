//! `/proc/vmstat`: paging and swapping activity, as sar -B and sar -W report it.
//!
//! Hand-parsed in one pass: `procfs_core::VmStat` builds a map of every line (some 180 string
//! allocations a cycle, most of this source's cost) and its errors carry no line number.
//!
//! Scan and steal counters are summed over their per-zone forms (`pgscan_kswapd_normal`, ... on
//! Linux 3.x) where the kernel splits them, as sar does; `pgscan_direct_throttle` counts throttling
//! events, not pages, and is left out of the direct scans.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, counter_delta, rate};

use super::Source;

const SRC: &str = "/proc/vmstat";

/// What this source emits.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "paging.pgpgin_kb", unit: Unit::KilobytesPerSecond, tags: &[], source: SRC, help: "Kilobytes paged in from disk, pgpgin (sar -B pgpgin/s)." },
    MetricDef { name: "paging.pgpgout_kb", unit: Unit::KilobytesPerSecond, tags: &[], source: SRC, help: "Kilobytes paged out to disk, pgpgout (sar -B pgpgout/s)." },
    MetricDef { name: "paging.faults", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Page faults, minor and major, pgfault (sar -B fault/s)." },
    MetricDef { name: "paging.major_faults", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Page faults that read from disk, pgmajfault (sar -B majflt/s)." },
    MetricDef { name: "paging.minor_faults", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Page faults served without disk I/O: pgfault minus pgmajfault (sar -B fault/s minus majflt/s)." },
    MetricDef { name: "paging.pgfree", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages put on the free lists, pgfree (sar -B pgfree/s)." },
    MetricDef { name: "paging.pgscan_kswapd", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages scanned by the kswapd daemon, pgscan_kswapd (sar -B pgscank/s)." },
    MetricDef { name: "paging.pgscan_direct", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages scanned directly by allocating tasks, pgscan_direct (sar -B pgscand/s)." },
    MetricDef { name: "paging.pgsteal", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages reclaimed, pgsteal_kswapd plus pgsteal_direct (sar -B pgsteal/s)." },
    MetricDef { name: "paging.vmeff", unit: Unit::Percent, tags: &[], source: SRC, help: "Pages reclaimed per page scanned, capped at 100 and left out when nothing was scanned (sar -B %vmeff)." },
    MetricDef { name: "paging.swapin", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages swapped in, pswpin (sar -W pswpin/s)." },
    MetricDef { name: "paging.swapout", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Pages swapped out, pswpout (sar -W pswpout/s)." },
];

/// The paging counters of /proc/vmstat, since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paging {
    /// Kilobytes paged in.
    pub pgpgin: u64,
    /// Kilobytes paged out.
    pub pgpgout: u64,
    /// Page faults, minor and major.
    pub pgfault: u64,
    /// Major page faults.
    pub pgmajfault: u64,
    /// Pages freed.
    pub pgfree: u64,
    /// Pages scanned by kswapd.
    pub pgscan_kswapd: u64,
    /// Pages scanned by direct reclaim.
    pub pgscan_direct: u64,
    /// Pages reclaimed by kswapd and direct reclaim.
    pub pgsteal: u64,
    /// Pages swapped in.
    pub pswpin: u64,
    /// Pages swapped out.
    pub pswpout: u64,
}

/// Parses /proc/vmstat in one pass without allocating. Every line must be `name number`; the
/// counters present since Linux 2.6 are required; scan and steal counters count as 0 where absent.
pub fn parse(text: &str) -> Result<Paging, CollectError> {
    const REQUIRED: [&str; 7] = ["pgpgin", "pgpgout", "pgfault", "pgmajfault", "pgfree", "pswpin", "pswpout"];
    let mut p = Paging::default();
    let mut seen = [false; REQUIRED.len()];
    let (mut steal_kswapd, mut steal_direct) = (0u64, 0u64);
    for (i, line) in text.lines().enumerate() {
        let mut f = line.split_ascii_whitespace();
        let value = match (f.next(), f.next().map(str::parse::<i64>), f.next()) {
            (Some(key), Some(Ok(v)), None) => (key, v),
            _ => return Err(CollectError::parse(SRC, i + 1, "not a `name number` line")),
        };
        let (key, value) = value;
        let slot = match key {
            "pgpgin" => &mut p.pgpgin,
            "pgpgout" => &mut p.pgpgout,
            "pgfault" => &mut p.pgfault,
            "pgmajfault" => &mut p.pgmajfault,
            "pgfree" => &mut p.pgfree,
            "pswpin" => &mut p.pswpin,
            "pswpout" => &mut p.pswpout,
            _ if zoned(key, "pgscan_kswapd") => &mut p.pgscan_kswapd,
            _ if zoned(key, "pgscan_direct") && key != "pgscan_direct_throttle" => &mut p.pgscan_direct,
            _ if zoned(key, "pgsteal_kswapd") => &mut steal_kswapd,
            _ if zoned(key, "pgsteal_direct") => &mut steal_direct,
            _ => continue,
        };
        let v = u64::try_from(value)
            .map_err(|_| CollectError::parse(SRC, i + 1, format!("{key} is negative ({value})")))?;
        *slot = slot.saturating_add(v);
        if let Some(k) = REQUIRED.iter().position(|r| *r == key) {
            seen[k] = true;
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        return Err(CollectError::parse(SRC, 0, format!("no `{}` line", REQUIRED[k])));
    }
    p.pgsteal = steal_kswapd.saturating_add(steal_direct);
    Ok(p)
}

/// Whether `name` is the counter `key` or one of its per-zone forms `key_<zone>`.
fn zoned(name: &str, key: &str) -> bool {
    name.strip_prefix(key).is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
}

/// Reads /proc/vmstat each cycle.
#[derive(Default)]
pub struct VmstatSource {
    buf: String,
    prev: Option<Paging>,
}

impl Source for VmstatSource {
    fn name(&self) -> &'static str {
        "vmstat"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("vmstat", &mut self.buf)?;
        let cur = parse(&self.buf)?;
        if let (Some(prev), Some(secs)) = (&self.prev, secs) {
            push_rates(prev, &cur, secs, out);
        }
        self.prev = Some(cur);
        Ok(())
    }
}

/// The samples of the interval from `p` to `c`, `secs` long.
fn push_rates(p: &Paging, c: &Paging, secs: f64, out: &mut Vec<Sample>) {
    let per_sec = |delta: u64| if secs > 0.0 { delta as f64 / secs } else { 0.0 };
    out.push(Sample::new("paging.pgpgin_kb", rate(p.pgpgin, c.pgpgin, secs)));
    out.push(Sample::new("paging.pgpgout_kb", rate(p.pgpgout, c.pgpgout, secs)));
    out.push(Sample::new("paging.faults", rate(p.pgfault, c.pgfault, secs)));
    out.push(Sample::new("paging.major_faults", rate(p.pgmajfault, c.pgmajfault, secs)));
    let minor = counter_delta(p.pgfault, c.pgfault).saturating_sub(counter_delta(p.pgmajfault, c.pgmajfault));
    out.push(Sample::new("paging.minor_faults", per_sec(minor)));
    out.push(Sample::new("paging.pgfree", rate(p.pgfree, c.pgfree, secs)));
    out.push(Sample::new("paging.pgscan_kswapd", rate(p.pgscan_kswapd, c.pgscan_kswapd, secs)));
    out.push(Sample::new("paging.pgscan_direct", rate(p.pgscan_direct, c.pgscan_direct, secs)));
    out.push(Sample::new("paging.pgsteal", rate(p.pgsteal, c.pgsteal, secs)));
    let scanned =
        counter_delta(p.pgscan_kswapd, c.pgscan_kswapd).saturating_add(counter_delta(p.pgscan_direct, c.pgscan_direct));
    if scanned > 0 {
        let stolen = counter_delta(p.pgsteal, c.pgsteal);
        out.push(Sample::new("paging.vmeff", (stolen as f64 / scanned as f64 * 100.0).min(100.0)));
    }
    out.push(Sample::new("paging.swapin", rate(p.pswpin, c.pswpin, secs)));
    out.push(Sample::new("paging.swapout", rate(p.pswpout, c.pswpout, secs)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1: &str = include_str!("../../test_data/vmstat/t1/proc/vmstat");

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/vmstat").join(rel)
    }

    fn run(src: &mut VmstatSource, tree: &str, secs: Option<f64>) -> Vec<Sample> {
        let mut out = Vec::new();
        src.collect(&FsRoot::under(data(tree)), secs, &mut out).unwrap();
        out
    }

    fn get(out: &[Sample], name: &str) -> Option<f64> {
        out.iter().find(|s| s.name == name).map(|s| s.value)
    }

    #[test]
    fn parses_a_captured_file() {
        let p = parse(T1).unwrap();
        assert_eq!((p.pgpgin, p.pgpgout), (1556177, 750036));
        assert_eq!((p.pgfault, p.pgmajfault, p.pgfree), (3371708, 997, 4314855));
        assert_eq!((p.pgscan_kswapd, p.pgscan_direct, p.pgsteal), (0, 0, 0));
        assert_eq!((p.pswpin, p.pswpout), (0, 0));
    }

    #[test]
    fn per_zone_counters_of_old_kernels_are_summed() {
        let text = "pgpgin 1\npgpgout 2\npswpin 3\npswpout 4\npgfree 5\npgfault 6\npgmajfault 7\n\
                    pgsteal_kswapd_dma 1\npgsteal_kswapd_normal 10\npgsteal_direct_normal 100\n\
                    pgscan_kswapd_dma 2\npgscan_kswapd_normal 20\npgscan_direct_normal 200\n\
                    pgscan_direct_throttle 9999\npgsteal_anon 5000\npgscan_kswapdx 7777\n";
        let p = parse(text).unwrap();
        assert_eq!((p.pgscan_kswapd, p.pgscan_direct, p.pgsteal), (22, 200, 111));
    }

    #[test]
    fn missing_fields_and_garbage_are_errors_with_a_line() {
        let no_pgfree: String = T1.lines().filter(|l| !l.starts_with("pgfree ")).map(|l| format!("{l}\n")).collect();
        let e = parse(&no_pgfree).unwrap_err();
        assert!(e.to_string().contains("line 0") && e.to_string().contains("pgfree"), "{e}");

        let cases = [
            ("pgpgin 1\npgpgout x\n", "line 2"),
            ("pgpgin 1\npgpgout\n", "line 2"),
            ("pgpgin 1\n\npgpgout 3\n", "line 2"),
            ("pgpgin 99999999999999999999\n", "line 1"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        let negative = T1.replace("pgfree 4314855", "pgfree -5");
        let e = parse(&negative).unwrap_err();
        let line = T1.lines().position(|l| l.starts_with("pgfree ")).unwrap() + 1;
        assert!(e.to_string().contains(&format!("line {line}:")), "{e}");
    }

    #[test]
    fn source_reads_captured_trees() {
        let mut src = VmstatSource::default();
        assert!(run(&mut src, "t0", None).is_empty(), "no rates from one reading");

        // t0 -> t1, both captured: pgpgin 1510997 -> 1556177, pgpgout 684420 -> 750036,
        // pgfault 3341715 -> 3371708, pgmajfault 923 -> 997, pgfree 4291521 -> 4314855; no scans.
        let out = run(&mut src, "t1", Some(2.0));
        assert_eq!(get(&out, "paging.pgpgin_kb"), Some((1556177.0 - 1510997.0) / 2.0));
        assert_eq!(get(&out, "paging.pgpgout_kb"), Some((750036.0 - 684420.0) / 2.0));
        assert_eq!(get(&out, "paging.faults"), Some((3371708.0 - 3341715.0) / 2.0));
        assert_eq!(get(&out, "paging.major_faults"), Some((997.0 - 923.0) / 2.0));
        assert_eq!(get(&out, "paging.minor_faults"), Some(((3371708.0 - 3341715.0) - (997.0 - 923.0)) / 2.0));
        assert_eq!(get(&out, "paging.pgfree"), Some((4314855.0 - 4291521.0) / 2.0));
        assert_eq!(get(&out, "paging.pgscan_kswapd"), Some(0.0));
        assert_eq!(get(&out, "paging.vmeff"), None, "no scanning, no efficiency");
        assert_eq!(out.len(), METRICS.len() - 1);
        assert!(out.iter().all(|s| METRICS.iter().any(|d| d.name == s.name)));

        // t1 -> t2, hand-edited from t1: pgpgin +2048, pgpgout back to 700000, pgfault +100,
        // pgmajfault +150, pgfree +5000, scans 400 kswapd + 100 direct, steals 300 + 50,
        // pswpin 8, pswpout 16.
        let out = run(&mut src, "t2", Some(4.0));
        assert_eq!(get(&out, "paging.pgpgin_kb"), Some(2048.0 / 4.0));
        assert_eq!(get(&out, "paging.pgpgout_kb"), Some(0.0), "a counter going backwards is no activity");
        assert_eq!(get(&out, "paging.faults"), Some(100.0 / 4.0));
        assert_eq!(get(&out, "paging.major_faults"), Some(150.0 / 4.0));
        assert_eq!(get(&out, "paging.minor_faults"), Some(0.0), "never negative");
        assert_eq!(get(&out, "paging.pgfree"), Some(5000.0 / 4.0));
        assert_eq!(get(&out, "paging.pgscan_kswapd"), Some(400.0 / 4.0));
        assert_eq!(get(&out, "paging.pgscan_direct"), Some(100.0 / 4.0));
        assert_eq!(get(&out, "paging.pgsteal"), Some((300.0 + 50.0) / 4.0));
        assert_eq!(get(&out, "paging.vmeff"), Some((300.0 + 50.0) / (400.0 + 100.0) * 100.0));
        assert_eq!(get(&out, "paging.swapin"), Some(8.0 / 4.0));
        assert_eq!(get(&out, "paging.swapout"), Some(16.0 / 4.0));
        assert_eq!(out.len(), METRICS.len());
    }

    #[test]
    fn vmeff_is_capped() {
        let p = Paging::default();
        let c = Paging { pgscan_kswapd: 10, pgsteal: 30, ..p };
        let mut out = Vec::new();
        push_rates(&p, &c, 1.0, &mut out);
        assert_eq!(get(&out, "paging.vmeff"), Some(100.0));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn vmstat_like_text_never_panics(s in "((pgpgin|pgfault|pgscan_kswapd_é|x)? ?-?[0-9]{0,20}\n){0,8}") {
            let _ = parse(&s);
        }

        #[test]
        fn rates_are_never_negative(a: [u64; 5], b: [u64; 5], secs in 0.0f64..100.0) {
            let p = Paging { pgpgin: a[0], pgfault: a[1], pgmajfault: a[2], pgscan_kswapd: a[3], pgsteal: a[4], ..Paging::default() };
            let c = Paging { pgpgin: b[0], pgfault: b[1], pgmajfault: b[2], pgscan_kswapd: b[3], pgsteal: b[4], ..Paging::default() };
            let mut out = Vec::new();
            push_rates(&p, &c, secs, &mut out);
            prop_assert!(out.iter().all(|s| s.value >= 0.0 && s.value.is_finite()));
        }
    }
}
