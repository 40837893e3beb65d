//! `/proc/stat`: CPU time by mode (total and per CPU), context switches, interrupts, forks,
//! runnable and blocked tasks.
//!
//! Hand-parsed rather than through `procfs_core::KernelStats`, which drops the CPU number of
//! each `cpuN` line (wrong with offline CPUs) and allocates a string per line.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, rate};

use super::Source;

const SRC: &str = "/proc/stat";

#[rustfmt::skip]
macro_rules! cpu_defs {
    ($prefix:literal, $tags:expr, $what:literal) => {
        &[
            MetricDef { name: concat!($prefix, ".user"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " ran user code, guests excluded (mpstat %usr).") },
            MetricDef { name: concat!($prefix, ".nice"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " ran niced user code, guests excluded (mpstat %nice).") },
            MetricDef { name: concat!($prefix, ".system"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " ran the kernel, interrupts excluded (mpstat %sys).") },
            MetricDef { name: concat!($prefix, ".iowait"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " idled with disk I/O outstanding (mpstat %iowait).") },
            MetricDef { name: concat!($prefix, ".irq"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " served hardware interrupts (mpstat %irq).") },
            MetricDef { name: concat!($prefix, ".softirq"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " served softirqs (mpstat %soft).") },
            MetricDef { name: concat!($prefix, ".steal"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " waited while the hypervisor ran others (mpstat %steal).") },
            MetricDef { name: concat!($prefix, ".guest"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " ran a virtual CPU (mpstat %guest).") },
            MetricDef { name: concat!($prefix, ".guest_nice"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " ran a niced virtual CPU (mpstat %gnice).") },
            MetricDef { name: concat!($prefix, ".idle"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("Time ", $what, " idled without outstanding disk I/O (mpstat %idle).") },
            MetricDef { name: concat!($prefix, ".busy"), unit: Unit::Percent, tags: $tags, source: SRC, help: concat!("100 minus idle minus iowait: time ", $what, " did work.") },
        ]
    };
}

/// CPU shares of all CPUs together.
pub const CPU_METRICS: &[MetricDef] = cpu_defs!("cpu", &[], "all CPUs");
/// CPU shares of each CPU, tagged `cpu` with its number.
pub const PERCPU_METRICS: &[MetricDef] = cpu_defs!("percpu", &["cpu"], "the CPU");
/// Scheduler counters from /proc/stat.
#[rustfmt::skip]
pub const LOAD_METRICS: &[MetricDef] = &[
    MetricDef { name: "load.runnable", unit: Unit::Count, tags: &[], source: SRC, help: "Tasks runnable or running now (vmstat r, procs_running)." },
    MetricDef { name: "load.blocked", unit: Unit::Count, tags: &[], source: SRC, help: "Tasks blocked on I/O now (vmstat b, procs_blocked)." },
    MetricDef { name: "load.forks", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Tasks created (sar -w proc/s)." },
    MetricDef { name: "load.context_switches", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Context switches (vmstat cs, sar -w cswch/s)." },
    MetricDef { name: "load.interrupts", unit: Unit::PerSecond, tags: &[], source: SRC, help: "Interrupts serviced, all sources (vmstat in)." },
];

/// Ticks in each mode, as the kernel counts them (user includes guest, nice includes guest_nice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

impl CpuTicks {
    /// Total ticks; guest time is already inside user and nice.
    pub fn total(&self) -> u64 {
        self.user + self.nice + self.system + self.idle + self.iowait + self.irq + self.softirq + self.steal
    }
}

/// The parsed contents of /proc/stat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelStat {
    /// The `cpu` line.
    pub total: CpuTicks,
    /// The `cpuN` lines with their N.
    pub cpus: Vec<(u32, CpuTicks)>,
    pub ctxt: u64,
    pub intr: u64,
    pub processes: u64,
    pub procs_running: u64,
    pub procs_blocked: u64,
}

/// Parses /proc/stat. Missing optional fields (older kernels lack steal/guest) count as 0.
pub fn parse(text: &str) -> Result<KernelStat, CollectError> {
    let mut ks = KernelStat::default();
    let mut saw_total = false;
    for (i, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        let err = |reason: &str| CollectError::parse(SRC, i + 1, reason);
        let num = |s: Option<&str>| -> Result<u64, CollectError> {
            s.ok_or_else(|| err("missing value"))?.parse::<u64>().map_err(|_| err("not a number"))
        };
        if let Some(n) = key.strip_prefix("cpu") {
            let mut v = [0u64; 10];
            for (slot, f) in v.iter_mut().zip(fields) {
                *slot = f.parse().map_err(|_| err("cpu time is not a number"))?;
            }
            let t = CpuTicks {
                user: v[0],
                nice: v[1],
                system: v[2],
                idle: v[3],
                iowait: v[4],
                irq: v[5],
                softirq: v[6],
                steal: v[7],
                guest: v[8],
                guest_nice: v[9],
            };
            if n.is_empty() {
                ks.total = t;
                saw_total = true;
            } else {
                let id = n.parse().map_err(|_| err("cpu number is not a number"))?;
                ks.cpus.push((id, t));
            }
        } else {
            match key {
                "ctxt" => ks.ctxt = num(fields.next())?,
                "intr" => ks.intr = num(fields.next())?,
                "processes" => ks.processes = num(fields.next())?,
                "procs_running" => ks.procs_running = num(fields.next())?,
                "procs_blocked" => ks.procs_blocked = num(fields.next())?,
                _ => {}
            }
        }
    }
    if !saw_total {
        return Err(CollectError::parse(SRC, 0, "no `cpu` line"));
    }
    Ok(ks)
}

/// Shares of each mode between two readings, in percent, with mpstat's arithmetic: guest time
/// is taken out of user and nice. `None` when no tick passed (a CPU offline or a too short
/// interval), so no sample is made rather than a false 0.
pub fn shares(prev: &CpuTicks, cur: &CpuTicks) -> Option<[f64; 11]> {
    let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
    let total = d(prev.total(), cur.total());
    if total <= 0.0 {
        return None;
    }
    let pct = |x: f64| (x / total * 100.0).clamp(0.0, 100.0);
    let guest = d(prev.guest, cur.guest);
    let guest_nice = d(prev.guest_nice, cur.guest_nice);
    let user = (d(prev.user, cur.user) - guest).max(0.0);
    let nice = (d(prev.nice, cur.nice) - guest_nice).max(0.0);
    let idle = pct(d(prev.idle, cur.idle));
    let iowait = pct(d(prev.iowait, cur.iowait));
    Some([
        pct(user),
        pct(nice),
        pct(d(prev.system, cur.system)),
        iowait,
        pct(d(prev.irq, cur.irq)),
        pct(d(prev.softirq, cur.softirq)),
        pct(d(prev.steal, cur.steal)),
        pct(guest),
        pct(guest_nice),
        idle,
        (100.0 - idle - iowait).max(0.0),
    ])
}

/// Reads /proc/stat each cycle.
#[derive(Default)]
pub struct StatSource {
    buf: String,
    prev: Option<KernelStat>,
}

impl Source for StatSource {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("stat", &mut self.buf)?;
        let cur = parse(&self.buf)?;
        out.push(Sample::new("load.runnable", cur.procs_running as f64));
        out.push(Sample::new("load.blocked", cur.procs_blocked as f64));
        if let (Some(prev), Some(secs)) = (&self.prev, secs) {
            if let Some(v) = shares(&prev.total, &cur.total) {
                for (def, value) in CPU_METRICS.iter().zip(v) {
                    out.push(Sample::new(def.name, value));
                }
            }
            for (id, ticks) in &cur.cpus {
                let Some((_, before)) = prev.cpus.iter().find(|(p, _)| p == id) else { continue };
                if let Some(v) = shares(before, ticks) {
                    let tag = id.to_string();
                    for (def, value) in PERCPU_METRICS.iter().zip(v) {
                        out.push(Sample::tagged(def.name, "cpu", tag.clone(), value));
                    }
                }
            }
            out.push(Sample::new("load.forks", rate(prev.processes, cur.processes, secs)));
            out.push(Sample::new("load.context_switches", rate(prev.ctxt, cur.ctxt, secs)));
            out.push(Sample::new("load.interrupts", rate(prev.intr, cur.intr, secs)));
        }
        self.prev = Some(cur);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "cpu  100 10 50 800 20 1 2 3 5 1\n\
cpu0 50 5 25 400 10 1 1 2 5 1\n\
cpu2 50 5 25 400 10 0 1 1 0 0\n\
intr 12345 1 2 3\nctxt 999\nbtime 1700000000\nprocesses 4242\nprocs_running 3\nprocs_blocked 1\n\
softirq 55 1 2\n";

    #[test]
    fn parses_cpu_numbers_and_counters() {
        let ks = parse(SAMPLE).unwrap();
        assert_eq!(ks.total.user, 100);
        assert_eq!(ks.total.guest_nice, 1);
        assert_eq!(ks.cpus.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!((ks.ctxt, ks.intr, ks.processes), (999, 12345, 4242));
        assert_eq!((ks.procs_running, ks.procs_blocked), (3, 1));
    }

    #[test]
    fn short_cpu_lines_of_old_kernels_parse() {
        let ks = parse("cpu 1 2 3 4\ncpu0 1 2 3 4\n").unwrap();
        assert_eq!(ks.total.idle, 4);
        assert_eq!(ks.total.steal, 0);
    }

    #[test]
    fn garbage_is_an_error_with_a_line() {
        let e = parse("cpu 1 2 x\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse("ctxt 5\n").is_err());
    }

    #[test]
    fn shares_follow_mpstat() {
        let a = CpuTicks::default();
        let b = CpuTicks { user: 30, nice: 0, system: 10, idle: 50, iowait: 10, guest: 10, ..a };
        let s = shares(&a, &b).unwrap();
        // total = 100 ticks; user excludes the 10 guest ticks.
        assert_eq!(s[0], 20.0);
        assert_eq!(s[2], 10.0);
        assert_eq!(s[7], 10.0);
        assert_eq!(s[9], 50.0);
        assert_eq!(s[10], 40.0);
        assert!(shares(&b, &b).is_none());
        // backwards counters never make negative shares
        let s = shares(&b, &CpuTicks { user: 0, idle: 200, ..b }).unwrap();
        assert!(s.iter().all(|v| *v >= 0.0));
    }
}
