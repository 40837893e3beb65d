//! `/proc/diskstats`: I/O per block device and partition, with `iostat -x` arithmetic.
//!
//! Each line holds a device's cumulative counters (the kernel's `admin-guide/iostats.rst`). Over
//! an interval of `secs` seconds the source computes exactly what sysstat's `iostat -x` prints:
//! r/s, w/s, rrqm/s, wrqm/s, rkB/s and wkB/s (a sector is always 512 bytes, whatever the
//! device's block size); r_await and w_await, the milliseconds spent on the requests completed in
//! the interval divided by their number (0 when none completed); aqu-sz, the weighted
//! milliseconds in queue divided by the interval in milliseconds; %util, the milliseconds with I/O
//! in flight divided by the interval, clamped to 100 (it overshoots when the kernel's accounting
//! lands late).
//!
//! Which devices: like iostat without `ALL`, a device that has never done I/O (reads, writes,
//! discards and flushes all zero, e.g. an unused loop device) is skipped silently; that is not an
//! error and is counted nowhere. A device is a `partition` when `/sys/class/block/DEV/partition`
//! exists, else a `disk` (so `dm-N`, `loopN`, `mdN` are disks, as is anything sysfs does not
//! list); the answer is looked up once per device, when it is first reported, not every cycle. A
//! device that appears, disappears or changes major:minor between two readings gives no rates
//! that cycle.
//!
//! Formats: 14 fields before Linux 4.18, 18 with the discard counters (4.18), 20 with the flush
//! counters (5.5); later fields are ignored. The kernel prints the time fields as 32-bit
//! milliseconds, so they wrap (every 49.7 days of busy time, sooner for the weighted queue time of
//! a deep queue); a wrap reads as a counter going backwards, which gives 0 for that one interval.
//!
//! Hand-parsed rather than through `procfs_core::DiskStats`: that type allocates a `String` per
//! line and per device name every cycle, its errors carry no line number (and tell the user to
//! report a procfs bug when the input is malformed), and it silently turns a malformed discard or
//! flush field into `None`. A test checks both parsers agree on the captured file.

use std::collections::HashMap;
use std::path::Path;

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, counter_delta, rate};

use super::Source;

const SRC: &str = "/proc/diskstats";
const TAGS: &[&str] = &["dev", "kind"];

/// What this source emits, in the order of [`iostat`]'s result.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "disk.reads", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Read requests completed, after merges (iostat r/s)." },
    MetricDef { name: "disk.writes", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Write requests completed, after merges (iostat w/s)." },
    MetricDef { name: "disk.read_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: SRC, help: "Kilobytes read (iostat rkB/s)." },
    MetricDef { name: "disk.write_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: SRC, help: "Kilobytes written (iostat wkB/s)." },
    MetricDef { name: "disk.read_merges", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Read requests merged into others before reaching the device (iostat rrqm/s)." },
    MetricDef { name: "disk.write_merges", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Write requests merged into others before reaching the device (iostat wrqm/s)." },
    MetricDef { name: "disk.read_await", unit: Unit::Milliseconds, tags: TAGS, source: SRC, help: "Mean time of the reads completed, queueing included; 0 when none completed (iostat r_await)." },
    MetricDef { name: "disk.write_await", unit: Unit::Milliseconds, tags: TAGS, source: SRC, help: "Mean time of the writes completed, queueing included; 0 when none completed (iostat w_await)." },
    MetricDef { name: "disk.queue_size", unit: Unit::Number, tags: TAGS, source: SRC, help: "Mean number of requests queued or in service (iostat aqu-sz)." },
    MetricDef { name: "disk.util", unit: Unit::Percent, tags: TAGS, source: SRC, help: "Time the device had I/O in flight, at most 100 (iostat %util)." },
];

/// One device's cumulative counters. Times are milliseconds; sectors are 512 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskCounters {
    pub reads: u64,
    pub read_merges: u64,
    pub read_sectors: u64,
    pub read_ms: u64,
    pub writes: u64,
    pub write_merges: u64,
    pub write_sectors: u64,
    pub write_ms: u64,
    /// Requests in flight now (a gauge).
    pub in_flight: u64,
    /// Time with at least one request in flight.
    pub io_ms: u64,
    /// Time in flight summed over requests: the area under the queue length.
    pub queue_ms: u64,
    /// 0 before Linux 4.18, like the other discard fields.
    pub discards: u64,
    pub discard_merges: u64,
    pub discard_sectors: u64,
    pub discard_ms: u64,
    /// 0 before Linux 5.5, like `flush_ms`.
    pub flushes: u64,
    pub flush_ms: u64,
}

impl DiskCounters {
    /// Whether the device has ever completed a request; iostat shows only those.
    pub fn used(&self) -> bool {
        self.reads != 0 || self.writes != 0 || self.discards != 0 || self.flushes != 0
    }
}

/// One line of /proc/diskstats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLine<'a> {
    pub major: u32,
    pub minor: u32,
    /// The kernel's name, e.g. `vda1`, `dm-0`, `nvme0n1p1`, `cciss/c0d0`.
    pub name: &'a str,
    pub counters: DiskCounters,
}

/// Parses one line; `Ok(None)` for a blank one, `Err(reason)` for anything malformed.
pub fn parse_line(line: &str) -> Result<Option<DiskLine<'_>>, &'static str> {
    let mut fields = line.split_ascii_whitespace();
    let Some(major) = fields.next() else { return Ok(None) };
    let major = major.parse().map_err(|_| "major number is not a number")?;
    let minor = fields.next().ok_or("no minor number")?.parse().map_err(|_| "minor number is not a number")?;
    let name = fields.next().ok_or("no device name")?;
    let mut v = [0u64; 17];
    let mut n = 0;
    for (slot, field) in v.iter_mut().zip(fields) {
        *slot = field.parse().map_err(|_| "counter is not a number")?;
        n += 1;
    }
    if n < 11 {
        return Err("fewer than the 14 fields of any kernel since 2.6.25");
    }
    let counters = DiskCounters {
        reads: v[0],
        read_merges: v[1],
        read_sectors: v[2],
        read_ms: v[3],
        writes: v[4],
        write_merges: v[5],
        write_sectors: v[6],
        write_ms: v[7],
        in_flight: v[8],
        io_ms: v[9],
        queue_ms: v[10],
        discards: v[11],
        discard_merges: v[12],
        discard_sectors: v[13],
        discard_ms: v[14],
        flushes: v[15],
        flush_ms: v[16],
    };
    Ok(Some(DiskLine { major, minor, name, counters }))
}

/// Parses all of /proc/diskstats; the error names the first malformed line.
pub fn parse(text: &str) -> Result<Vec<DiskLine<'_>>, CollectError> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(l)) => lines.push(l),
            Ok(None) => {}
            Err(reason) => return Err(CollectError::parse(SRC, i + 1, reason)),
        }
    }
    Ok(lines)
}

/// The `iostat -x` figures of a device between two readings `secs` apart, in [`METRICS`] order.
/// `None` unless `secs` is positive and finite.
pub fn iostat(prev: &DiskCounters, cur: &DiskCounters, secs: f64) -> Option<[f64; 10]> {
    if !(secs.is_finite() && secs > 0.0) {
        return None;
    }
    let d = |a: u64, b: u64| counter_delta(a, b) as f64;
    let await_ms = |ios: f64, ms: f64| if ios > 0.0 { ms / ios } else { 0.0 };
    let interval_ms = secs * 1000.0;
    Some([
        rate(prev.reads, cur.reads, secs),
        rate(prev.writes, cur.writes, secs),
        rate(prev.read_sectors, cur.read_sectors, secs) / 2.0,
        rate(prev.write_sectors, cur.write_sectors, secs) / 2.0,
        rate(prev.read_merges, cur.read_merges, secs),
        rate(prev.write_merges, cur.write_merges, secs),
        await_ms(d(prev.reads, cur.reads), d(prev.read_ms, cur.read_ms)),
        await_ms(d(prev.writes, cur.writes), d(prev.write_ms, cur.write_ms)),
        d(prev.queue_ms, cur.queue_ms) / interval_ms,
        (d(prev.io_ms, cur.io_ms) / interval_ms * 100.0).min(100.0),
    ])
}

/// Whether a device is a whole disk or a partition of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Disk,
    Partition,
}

impl Kind {
    /// The value of the `kind` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Disk => "disk",
            Kind::Partition => "partition",
        }
    }

    /// Looks `name` up under `sys`: a partition has a `partition` file in its
    /// `class/block` directory. Sysfs spells a `/` in the kernel's name as `!` (`cciss!c0d0`).
    pub fn of(sys: &Path, name: &str) -> Kind {
        let dir = sys.join("class/block").join(name.replace('/', "!"));
        if dir.join("partition").exists() { Kind::Partition } else { Kind::Disk }
    }
}

/// What the source remembers of a device between cycles.
struct Device {
    major: u32,
    minor: u32,
    /// Looked up when the device is first reported.
    kind: Option<Kind>,
    counters: DiskCounters,
    /// The cycle that last saw the device; older ones are forgotten.
    cycle: u64,
}

/// Reads /proc/diskstats each cycle.
#[derive(Default)]
pub struct DiskstatsSource {
    buf: String,
    devices: HashMap<String, Device>,
    cycle: u64,
}

impl Source for DiskstatsSource {
    fn name(&self) -> &'static str {
        "diskstats"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("diskstats", &mut self.buf)?;
        let lines = parse(&self.buf)?;
        self.cycle = self.cycle.wrapping_add(1);
        for line in &lines {
            let Some(dev) = self.devices.get_mut(line.name) else {
                let dev = Device {
                    major: line.major,
                    minor: line.minor,
                    kind: None,
                    counters: line.counters,
                    cycle: self.cycle,
                };
                self.devices.insert(line.name.to_owned(), dev);
                continue;
            };
            if dev.cycle == self.cycle {
                continue; // the same name twice in one reading: keep the first
            }
            if (dev.major, dev.minor) != (line.major, line.minor) {
                // Another device under the old name: start over without rates.
                *dev = Device {
                    major: line.major,
                    minor: line.minor,
                    kind: None,
                    counters: line.counters,
                    cycle: self.cycle,
                };
                continue;
            }
            if line.counters.used()
                && let Some(values) = secs.and_then(|s| iostat(&dev.counters, &line.counters, s))
            {
                let kind = *dev.kind.get_or_insert_with(|| Kind::of(&root.sys, line.name));
                for (def, value) in METRICS.iter().zip(values) {
                    let tags = vec![("dev", line.name.to_owned()), ("kind", kind.as_str().to_owned())];
                    out.push(Sample { name: def.name, tags, value });
                }
            }
            dev.counters = line.counters;
            dev.cycle = self.cycle;
        }
        let cycle = self.cycle;
        self.devices.retain(|_, d| d.cycle == cycle);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Snapshot;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn data(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/diskstats").join(rel)
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(data(rel)).unwrap()
    }

    fn two_cycles(secs: f64) -> (Vec<Sample>, Snapshot) {
        super::super::testing::two_cycles(&mut DiskstatsSource::default(), "diskstats", secs)
    }

    #[track_caller]
    fn check(snap: &Snapshot, dev: &str, want: [f64; 10]) {
        super::super::testing::check_row(snap, METRICS, ("dev", dev), &want);
    }

    #[test]
    fn captured_file_parses_and_agrees_with_procfs_core() {
        let text = read("captured/proc/diskstats");
        let ours = parse(&text).unwrap();
        let theirs = text.lines().map(procfs_core::DiskStat::from_line).collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(ours.len(), theirs.len());
        assert!(ours.iter().any(|l| l.name == "vda" && l.counters.used()));
        for (a, b) in ours.iter().zip(&theirs) {
            let c = &a.counters;
            assert_eq!((a.major as i32, a.minor as i32, a.name), (b.major, b.minor, b.name.as_str()));
            assert_eq!(
                [c.reads, c.read_merges, c.read_sectors, c.read_ms, c.writes, c.write_merges, c.write_sectors],
                [b.reads, b.merged, b.sectors_read, b.time_reading, b.writes, b.writes_merged, b.sectors_written]
            );
            assert_eq!(
                [c.write_ms, c.in_flight, c.io_ms, c.queue_ms],
                [b.time_writing, b.in_progress, b.time_in_progress, b.weighted_time_in_progress]
            );
            assert_eq!(Some(c.discards), b.discards);
            assert_eq!(Some(c.discard_sectors), b.sectors_discarded);
            assert_eq!(Some(c.flush_ms), b.time_flushing);
        }
    }

    #[test]
    fn old_and_new_kernel_formats_parse() {
        let old_text = read("fields14.txt");
        let old = parse(&old_text).unwrap();
        assert_eq!(old.len(), 2);
        assert_eq!(old[1].name, "sda1");
        assert_eq!(old[1].counters.queue_ms, 1300);
        assert_eq!((old[1].counters.discards, old[1].counters.flushes), (0, 0));

        let mid_text = read("fields18.txt");
        let mid = parse(&mid_text).unwrap();
        assert_eq!(mid[0].counters.discard_ms, 44);
        assert_eq!(mid[0].counters.flushes, 0);

        let new_text = read("fields20.txt");
        let new = parse(&new_text).unwrap();
        let nvme = new.iter().find(|l| l.name == "nvme0n1p1").unwrap();
        assert_eq!((nvme.major, nvme.minor), (259, 1));
        assert_eq!((nvme.counters.flushes, nvme.counters.flush_ms), (0, 0));
        let disk = new.iter().find(|l| l.name == "nvme0n1").unwrap();
        assert_eq!((disk.counters.flushes, disk.counters.flush_ms), (4021, 1873));

        // A future kernel's extra fields are ignored.
        let more = parse("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n").unwrap();
        assert_eq!(more[0].counters.flush_ms, 17);
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        let cases = [
            ("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3\n", 2),
            ("\n\n8 0 sda 1 2 3 4 5 6 7 8 x 10 11\n", 3),
            ("eight 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", 1),
            ("8 0\n", 1),
            ("8\n", 1),
            ("8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n", 1),
            ("8 0 sda 1 2 3 4 5 6 7 8 9 10 99999999999999999999999\n", 1),
            // A truncated read: the last line stops mid-way.
            ("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3 4 5 6 7 8 9 1", 2),
        ];
        for (text, line) in cases {
            match parse(text) {
                Err(CollectError::ProcParse { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn iostat_arithmetic() {
        let prev = DiskCounters {
            reads: 100,
            read_sectors: 1000,
            read_ms: 50,
            io_ms: 10,
            queue_ms: 100,
            ..Default::default()
        };
        let cur = DiskCounters { reads: 140, read_sectors: 1800, read_ms: 130, io_ms: 510, queue_ms: 2100, ..prev };
        let v = iostat(&prev, &cur, 2.0).unwrap();
        // 40 reads in 2 s; 800 sectors = 400 kB in 2 s; 80 ms over 40 reads; 2000 queue-ms over
        // 2000 ms; 500 busy ms of 2000.
        assert_eq!(v, [20.0, 0.0, 200.0, 0.0, 0.0, 0.0, 2.0, 0.0, 1.0, 25.0]);
        assert!(iostat(&prev, &cur, 0.0).is_none());
        assert!(iostat(&prev, &cur, f64::NAN).is_none());
        // Busier than the interval: clamped.
        let over = DiskCounters { io_ms: 3000, ..prev };
        assert_eq!(iostat(&prev, &over, 2.0).unwrap()[9], 100.0);
        // Backwards: every figure 0.
        assert!(iostat(&cur, &prev, 2.0).unwrap().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn kind_comes_from_sysfs() {
        let sys = data("t1/sys");
        assert_eq!(Kind::of(&sys, "vda"), Kind::Disk);
        assert_eq!(Kind::of(&sys, "vda1"), Kind::Partition);
        assert_eq!(Kind::of(&sys, "nvme0n1p1"), Kind::Partition);
        assert_eq!(Kind::of(&sys, "dm-0"), Kind::Disk);
        assert_eq!(Kind::of(&sys, "cciss/c0d0p1"), Kind::Partition);
        assert_eq!(Kind::of(&sys, "not-in-sysfs"), Kind::Disk);
    }

    #[test]
    fn first_cycle_has_no_rates() {
        let (first, _) = two_cycles(2.0);
        assert!(first.is_empty(), "{first:?}");
    }

    #[test]
    fn two_cycles_match_hand_arithmetic() {
        let (_, snap) = two_cycles(2.0);
        // Order: r/s w/s rkB/s wkB/s rrqm/s wrqm/s r_await w_await aqu-sz %util.
        // vda (captured): +200 reads, +200 writes, +25600 sectors each way, +25 read ms,
        // +31 write ms, +64 io ms, +63 queue ms, over 2 s.
        check(&snap, "vda", [100.0, 100.0, 6400.0, 6400.0, 0.0, 0.0, 0.125, 0.155, 0.0315, 3.2]);
        // vda1: +100 reads, +50 writes, +800/+400 sectors, +4/+10 merges, +100/+100 ms,
        // +500 io ms, +1000 queue ms.
        check(&snap, "vda1", [50.0, 25.0, 200.0, 100.0, 2.0, 5.0, 1.0, 2.0, 0.5, 25.0]);
        // nvme0n1: +300 reads, +900 read ms, +2100 io ms in 2000 ms (clamped), +8000 queue ms.
        check(&snap, "nvme0n1", [150.0, 0.0, 300.0, 0.0, 0.0, 0.0, 3.0, 0.0, 4.0, 100.0]);
        // nvme0n1p1: no change at all.
        check(&snap, "nvme0n1p1", [0.0; 10]);
        // dm-0: +200 reads, +1600 sectors, +200 ms.
        check(&snap, "dm-0", [100.0, 0.0, 400.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        // loop2 did its first I/O in the interval: +10 reads, +80 sectors, +4 read ms, +4 io ms,
        // +4 queue ms.
        check(&snap, "loop2", [5.0, 0.0, 20.0, 0.0, 0.0, 0.0, 0.4, 0.0, 0.002, 0.2]);
        // sdd's counters went backwards (device reset): all 0, none negative.
        check(&snap, "sdd", [0.0; 10]);
        // loop1 is used but idle.
        check(&snap, "loop1", [0.0; 10]);
    }

    #[test]
    fn kinds_and_left_out_devices() {
        let (_, snap) = two_cycles(2.0);
        let kind = |dev: &str| snap.find("disk.util", &[("dev", dev)]).and_then(|s| s.tag("kind")).map(str::to_owned);
        assert_eq!(kind("vda").as_deref(), Some("disk"));
        assert_eq!(kind("vda1").as_deref(), Some("partition"));
        assert_eq!(kind("nvme0n1").as_deref(), Some("disk"));
        assert_eq!(kind("nvme0n1p1").as_deref(), Some("partition"));
        assert_eq!(kind("dm-0").as_deref(), Some("disk"));
        assert_eq!(kind("loop1").as_deref(), Some("disk"));
        // Never used (loop0, zram0), gone (sdb), new (sdc), replaced under its name (sde).
        for dev in ["loop0", "zram0", "sdb", "sdc", "sde"] {
            assert!(snap.find("disk.reads", &[("dev", dev)]).is_none(), "{dev}");
        }
        let devs: std::collections::BTreeSet<_> = snap.samples.iter().filter_map(|s| s.tag("dev")).collect();
        assert_eq!(devs.len(), 8, "{devs:?}");
        assert_eq!(snap.samples.len(), 8 * METRICS.len());
        for s in &snap.samples {
            assert!(METRICS.iter().any(|m| m.name == s.name && m.tags == ["dev", "kind"]));
            assert!(s.value.is_finite() && s.value >= 0.0, "{s:?}");
        }
    }

    #[test]
    fn devices_coming_back_start_over() {
        let mut src = DiskstatsSource::default();
        let mut out = Vec::new();
        let t0 = FsRoot::under(data("t0"));
        let t1 = FsRoot::under(data("t1"));
        src.collect(&t0, None, &mut out).unwrap();
        src.collect(&t1, Some(1.0), &mut out).unwrap();
        out.clear();
        // Back to t0: sdb reappears (no rates), sdc disappears; the others went backwards.
        src.collect(&t0, Some(1.0), &mut out).unwrap();
        assert!(out.iter().all(|s| s.tag("dev") != Some("sdb") && s.tag("dev") != Some("sdc")));
        assert!(out.iter().all(|s| s.value >= 0.0));
        assert!(out.iter().any(|s| s.tag("dev") == Some("vda")));
    }

    #[test]
    fn a_bad_file_is_an_error_and_keeps_the_previous_reading() {
        let mut src = DiskstatsSource::default();
        let mut out = Vec::new();
        src.collect(&FsRoot::under(data("t0")), None, &mut out).unwrap();
        let err = src.collect(&FsRoot::under(data("garbage")), Some(2.0), &mut out).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(out.is_empty());
        src.collect(&FsRoot::under(data("t1")), Some(2.0), &mut out).unwrap();
        assert_eq!(out.iter().find(|s| s.name == "disk.reads" && s.tag("dev") == Some("vda")).unwrap().value, 100.0);
        let missing = src.collect(&FsRoot::under(data("nowhere")), Some(1.0), &mut out).unwrap_err();
        assert!(matches!(missing, CollectError::Absent { .. }));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn numeric_noise_never_panics(text in "([0-9 ]{0,40}[a-z0-9/-]{0,8}[0-9 \\-]{0,60}\n){0,6}") {
            let _ = parse(&text);
        }

        #[test]
        fn figures_are_finite_and_never_negative(a in any::<[u64; 11]>(), b in any::<[u64; 11]>(), secs in 0.001f64..1e6) {
            let c = |v: [u64; 11]| DiskCounters {
                reads: v[0], read_merges: v[1], read_sectors: v[2], read_ms: v[3], writes: v[4], write_merges: v[5],
                write_sectors: v[6], write_ms: v[7], in_flight: v[8], io_ms: v[9], queue_ms: v[10], ..Default::default()
            };
            let v = iostat(&c(a), &c(b), secs).unwrap();
            prop_assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
            prop_assert!(v[9] <= 100.0);
        }
    }
}
