//! `/proc/meminfo`: physical memory and swap, in bytes.
//!
//! Hand-parsed rather than through `procfs_core::Meminfo`, which panics on input it should
//! reject: it multiplies kB values by 1024 unchecked (an overflow panic in debug builds, a wrong
//! value in release) and slices the key's last byte off (a panic when it ends in a multi-byte
//! character). Its errors also carry no line number, and it needs a `Vmalloc*`, `Committed_AS` and
//! `Mapped` line that this source never uses.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot};

use super::Source;

const SRC: &str = "/proc/meminfo";

/// What this source emits.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "mem.total", unit: Unit::Bytes, tags: &[], source: SRC, help: "Usable RAM, MemTotal (free total)." },
    MetricDef { name: "mem.free", unit: Unit::Bytes, tags: &[], source: SRC, help: "RAM not used at all, MemFree (sar -r kbmemfree)." },
    MetricDef { name: "mem.available", unit: Unit::Bytes, tags: &[], source: SRC, help: "RAM available to new work without swapping, MemAvailable; free+buffers+cached on kernels before 3.14 that lack it (sar -r kbavail)." },
    MetricDef { name: "mem.used", unit: Unit::Bytes, tags: &[], source: SRC, help: "RAM in use: total minus available, as procps 4 free computes used (free used)." },
    MetricDef { name: "mem.used_percent", unit: Unit::Percent, tags: &[], source: SRC, help: "mem.used as a share of mem.total (near sar -r %memused, which subtracts free, buffers, cache and slab instead of MemAvailable)." },
    MetricDef { name: "mem.buffers", unit: Unit::Bytes, tags: &[], source: SRC, help: "Block-device buffers, Buffers (sar -r kbbuffers)." },
    MetricDef { name: "mem.cached", unit: Unit::Bytes, tags: &[], source: SRC, help: "Page cache, Cached (sar -r kbcached)." },
    MetricDef { name: "mem.slab", unit: Unit::Bytes, tags: &[], source: SRC, help: "Kernel slab caches, Slab (sar -r ALL kbslab)." },
    MetricDef { name: "mem.dirty", unit: Unit::Bytes, tags: &[], source: SRC, help: "Modified pages waiting to be written back, Dirty (sar -r kbdirty)." },
    MetricDef { name: "mem.writeback", unit: Unit::Bytes, tags: &[], source: SRC, help: "Pages being written back now, Writeback (no sar column)." },
    MetricDef { name: "mem.swap_total", unit: Unit::Bytes, tags: &[], source: SRC, help: "Swap space configured, SwapTotal (free swap total)." },
    MetricDef { name: "mem.swap_free", unit: Unit::Bytes, tags: &[], source: SRC, help: "Swap space unused, SwapFree (sar -S kbswpfree)." },
    MetricDef { name: "mem.swap_used", unit: Unit::Bytes, tags: &[], source: SRC, help: "Swap space used: SwapTotal minus SwapFree (sar -S kbswpused)." },
    MetricDef { name: "mem.swap_cached", unit: Unit::Bytes, tags: &[], source: SRC, help: "Swapped-out pages also still in RAM, SwapCached (sar -S kbswpcad)." },
];

/// The /proc/meminfo fields this source uses, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meminfo {
    pub mem_total: u64,
    pub mem_free: u64,
    /// `None` on kernels before 3.14, which lack MemAvailable.
    pub mem_available: Option<u64>,
    pub buffers: u64,
    pub cached: u64,
    pub swap_cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub dirty: u64,
    pub writeback: u64,
    pub slab: u64,
}

impl Meminfo {
    /// MemAvailable, or where the kernel lacks it the old estimate free + buffers + cached,
    /// never more than the total.
    pub fn available(&self) -> u64 {
        self.mem_available.unwrap_or_else(|| {
            self.mem_free.saturating_add(self.buffers).saturating_add(self.cached).min(self.mem_total)
        })
    }

    /// RAM in use: total minus available, never negative.
    pub fn used(&self) -> u64 {
        self.mem_total.saturating_sub(self.available())
    }

    /// Swap in use: total minus free, never negative.
    pub fn swap_used(&self) -> u64 {
        self.swap_total.saturating_sub(self.swap_free)
    }
}

/// Parses /proc/meminfo. Every line must be `Key: number [kB]`; the keys used must have the `kB`
/// unit; all of them but MemAvailable must be present (they are since Linux 2.6).
pub fn parse(text: &str) -> Result<Meminfo, CollectError> {
    let mut m = Meminfo::default();
    // Which required fields were seen, in the order of `REQUIRED`.
    const REQUIRED: [&str; 10] = [
        "MemTotal",
        "MemFree",
        "Buffers",
        "Cached",
        "SwapCached",
        "SwapTotal",
        "SwapFree",
        "Dirty",
        "Writeback",
        "Slab",
    ];
    let mut seen = [false; REQUIRED.len()];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason: String| CollectError::parse(SRC, i + 1, reason);
        let (key, rest) = line.split_once(':').ok_or_else(|| err("no `key:`".into()))?;
        let mut fields = rest.split_ascii_whitespace();
        let value = fields.next().ok_or_else(|| err(format!("{key} has no value")))?;
        let value: u64 = value.parse().map_err(|_| err(format!("{key} value {value:?} is not a number")))?;
        let unit = fields.next();
        if fields.next().is_some() {
            return Err(err(format!("{key} has more than a value and a unit")));
        }
        let slot = match key {
            "MemAvailable" => {
                m.mem_available = Some(kib(value, unit).map_err(|r| err(format!("{key} {r}")))?);
                continue;
            }
            "MemTotal" => &mut m.mem_total,
            "MemFree" => &mut m.mem_free,
            "Buffers" => &mut m.buffers,
            "Cached" => &mut m.cached,
            "SwapCached" => &mut m.swap_cached,
            "SwapTotal" => &mut m.swap_total,
            "SwapFree" => &mut m.swap_free,
            "Dirty" => &mut m.dirty,
            "Writeback" => &mut m.writeback,
            "Slab" => &mut m.slab,
            _ => continue,
        };
        *slot = kib(value, unit).map_err(|r| err(format!("{key} {r}")))?;
        if let Some(n) = REQUIRED.iter().position(|r| *r == key) {
            seen[n] = true;
        }
    }
    if let Some(n) = seen.iter().position(|s| !s) {
        return Err(CollectError::parse(SRC, 0, format!("no `{}` line", REQUIRED[n])));
    }
    Ok(m)
}

/// A `value kB` field in bytes.
fn kib(value: u64, unit: Option<&str>) -> Result<u64, String> {
    match unit {
        Some("kB") => value.checked_mul(1024).ok_or_else(|| format!("{value} kB does not fit in 64 bits")),
        Some(u) => Err(format!("unit {u:?} is not kB")),
        None => Err("has no kB unit".into()),
    }
}

/// Reads /proc/meminfo each cycle.
#[derive(Default)]
pub struct MeminfoSource {
    buf: String,
}

impl Source for MeminfoSource {
    fn name(&self) -> &'static str {
        "meminfo"
    }

    fn collect(&mut self, root: &FsRoot, _secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("meminfo", &mut self.buf)?;
        let m = parse(&self.buf)?;
        let b = |v: u64| v as f64;
        out.push(Sample::new("mem.total", b(m.mem_total)));
        out.push(Sample::new("mem.free", b(m.mem_free)));
        out.push(Sample::new("mem.available", b(m.available())));
        out.push(Sample::new("mem.used", b(m.used())));
        if m.mem_total > 0 {
            out.push(Sample::new("mem.used_percent", b(m.used()) / b(m.mem_total) * 100.0));
        }
        out.push(Sample::new("mem.buffers", b(m.buffers)));
        out.push(Sample::new("mem.cached", b(m.cached)));
        out.push(Sample::new("mem.slab", b(m.slab)));
        out.push(Sample::new("mem.dirty", b(m.dirty)));
        out.push(Sample::new("mem.writeback", b(m.writeback)));
        out.push(Sample::new("mem.swap_total", b(m.swap_total)));
        out.push(Sample::new("mem.swap_free", b(m.swap_free)));
        out.push(Sample::new("mem.swap_used", b(m.swap_used())));
        out.push(Sample::new("mem.swap_cached", b(m.swap_cached)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: &str = include_str!("../../test_data/meminfo/t0/proc/meminfo");

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/meminfo").join(rel)
    }

    fn get(out: &[Sample], name: &str) -> Option<f64> {
        out.iter().find(|s| s.name == name).map(|s| s.value)
    }

    #[test]
    fn parses_a_captured_file() {
        let m = parse(T0).unwrap();
        assert_eq!(m.mem_total, 24683656 * 1024);
        assert_eq!(m.mem_available, Some(24368652 * 1024));
        assert_eq!(m.cached, 801412 * 1024);
        assert_eq!(m.slab, 89272 * 1024);
        assert_eq!(m.dirty, 596 * 1024);
        assert_eq!(m.used(), (24683656 - 24368652) * 1024);
    }

    #[test]
    fn old_kernel_without_memavailable_estimates_it() {
        let m = parse(include_str!("../../test_data/meminfo/old/proc/meminfo")).unwrap();
        assert_eq!(m.mem_available, None);
        // MemFree 23733532 + Buffers 15516 + Cached 801412 kB.
        assert_eq!(m.available(), (23733532 + 15516 + 801412) * 1024);
        assert_eq!(m.used(), (24683656 - (23733532 + 15516 + 801412)) * 1024);
    }

    #[test]
    fn missing_fields_and_garbage_are_errors_with_a_line() {
        let no_slab: String = T0.lines().filter(|l| !l.starts_with("Slab:")).map(|l| format!("{l}\n")).collect();
        let e = parse(&no_slab).unwrap_err();
        assert!(e.to_string().contains("line 0") && e.to_string().contains("Slab"), "{e}");

        let cases = [
            ("MemTotal: 10 kB\nMemFree 5 kB\n", "line 2"),
            ("MemTotal: 10 kB\nMemFree: x kB\n", "line 2"),
            ("MemTotal: 10 kB\nMemFree:\n", "line 2"),
            ("MemTotal: 10 MB\n", "line 1"),
            ("MemTotal: 10\n", "line 1"),
            ("MemTotal: 18446744073709551615 kB\n", "line 1"),
            ("MemTotal: 10 kB extra\n", "line 1"),
            ("é\n", "line 1"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        // Lines this source does not use are still checked for shape.
        let with_garbage_value = T0.replace("HugePages_Total:       0", "HugePages_Total:       x");
        assert!(parse(&with_garbage_value).unwrap_err().to_string().contains("HugePages_Total"));
    }

    #[test]
    fn source_reads_two_captured_trees() {
        let mut src = MeminfoSource::default();
        let mut out = Vec::new();
        src.collect(&FsRoot::under(data("t0")), None, &mut out).unwrap();
        assert_eq!(get(&out, "mem.total"), Some(24683656.0 * 1024.0));

        let mut out = Vec::new();
        src.collect(&FsRoot::under(data("t1")), Some(2.0), &mut out).unwrap();
        assert_eq!(out.len(), METRICS.len());
        assert!(out.iter().all(|s| METRICS.iter().any(|d| d.name == s.name)));
        let kb = |v: f64| v * 1024.0;
        // t1: MemTotal 24683656, MemFree 23615520, MemAvailable 24299476, Buffers 16372,
        // Cached 849352, Slab 89372, Dirty 4348, Writeback 0, swap all 0 (kB).
        assert_eq!(get(&out, "mem.total"), Some(kb(24683656.0)));
        assert_eq!(get(&out, "mem.free"), Some(kb(23615520.0)));
        assert_eq!(get(&out, "mem.available"), Some(kb(24299476.0)));
        assert_eq!(get(&out, "mem.used"), Some(kb(24683656.0 - 24299476.0)));
        let pct = (24683656.0 - 24299476.0) / 24683656.0 * 100.0;
        assert!((get(&out, "mem.used_percent").unwrap() - pct).abs() < 1e-9);
        assert_eq!(get(&out, "mem.buffers"), Some(kb(16372.0)));
        assert_eq!(get(&out, "mem.cached"), Some(kb(849352.0)));
        assert_eq!(get(&out, "mem.slab"), Some(kb(89372.0)));
        assert_eq!(get(&out, "mem.dirty"), Some(kb(4348.0)));
        assert_eq!(get(&out, "mem.writeback"), Some(0.0));
        assert_eq!(get(&out, "mem.swap_used"), Some(0.0));
        assert_eq!(get(&out, "mem.swap_cached"), Some(0.0));
    }

    #[test]
    fn swap_used_is_total_minus_free() {
        let text = T0
            .replace("SwapTotal:             0", "SwapTotal:          4096")
            .replace("SwapFree:              0", "SwapFree:           1024");
        let m = parse(&text).unwrap();
        assert_eq!(m.swap_used(), 3072 * 1024);
        // A free larger than the total (a racing swapoff) is not negative use.
        let m = Meminfo { swap_total: 1, swap_free: 5, ..m };
        assert_eq!(m.swap_used(), 0);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn meminfo_like_text_never_panics(s in "((MemTotal|MemAvailable|Slab|é|Hugé)?:? *[0-9]{0,22} ?(kB|MB)?\n){0,6}") {
            let _ = parse(&s);
        }
    }
}
