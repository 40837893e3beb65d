//! From one snapshot to a [`Report`]: a row per resource instance (all CPUs, each CPU, memory,
//! swap, each disk, each interface, TCP, file handles, each PSI signal), each with the three
//! answers of the checklist.
//!
//! Design decision: the snapshot is the second of a pair taken INTERVAL apart by the caller's
//! `Collector`, so its rates already cover the interval; nothing here keeps state or reads files.
//! A value that cannot be had is never dropped: the cell says n/a and why, naming the /proc file
//! the metric comes from (looked up in the collector's catalogue).

use plumb_model::{Snapshot, Unit};

use crate::checklist::*;

/// The USE answers for every resource at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// When the snapshot was taken, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The seconds the rates cover; `None` for a first snapshot.
    pub interval_secs: Option<f64>,
    /// Online CPUs (per-CPU lines of /proc/stat); `None` when there were none.
    pub cpus: Option<usize>,
    /// One row per resource instance, in table order.
    pub rows: Vec<Row>,
}

/// One resource instance and its three answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The instance: `cpu` (all), `cpu0`, `memory`, `vda`, `eth0`, `psi.io`, ...
    pub resource: String,
    /// Its kind.
    pub resource_type: ResourceType,
    /// Utilization, saturation and errors, in that order.
    pub cells: [Cell; 3],
}

/// One answer: the check it comes from, the value, and whether it crossed its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The checklist entry: metric, unit, threshold and its reason.
    pub check: &'static Check,
    /// The measured value; `None` is n/a, with the reason in `note`.
    pub value: Option<f64>,
    /// The threshold's limit resolved for this machine (the CPU count for `> CPU count`).
    pub limit: Option<f64>,
    /// Whether the value crossed the limit.
    pub flagged: bool,
    /// Why the value is n/a, or why a threshold could not be applied.
    pub note: Option<String>,
}

impl Cell {
    /// The unit of the value, if the check is measured.
    pub fn unit(&self) -> Option<Unit> {
        match self.check.how {
            How::Measured { unit, .. } => Some(unit),
            How::Unmeasured => None,
        }
    }
}

impl Report {
    /// The flagged cells with their rows, in table order.
    pub fn flagged(&self) -> impl Iterator<Item = (&Row, &Cell)> {
        self.rows.iter().flat_map(|r| r.cells.iter().filter(|c| c.flagged).map(move |c| (r, c)))
    }
}

/// The checklist evaluated on `snap`.
pub fn evaluate(snap: &Snapshot) -> Report {
    let cpu_ids = tag_values(snap, "percpu.busy", "cpu", |_| true);
    let cpus = (!cpu_ids.is_empty()).then_some(cpu_ids.len());
    let ctx = Ctx { snap, cpus };
    let mut rows = Vec::new();

    rows.push(ctx.row(
        "cpu",
        ResourceType::Cpu,
        [
            ctx.cell(&CPU_UTILIZATION, ctx.get("cpu.busy", &[])),
            ctx.cell(&CPU_SATURATION, ctx.get("load.runnable", &[])),
            ctx.unmeasured(&CPU_ERRORS),
        ],
    ));
    for id in &cpu_ids {
        rows.push(ctx.row(
            &format!("cpu{id}"),
            ResourceType::Cpu,
            [
                ctx.cell(&PERCPU_UTILIZATION, ctx.get("percpu.busy", &[("cpu", id)])),
                ctx.unmeasured(&PERCPU_SATURATION),
                ctx.unmeasured(&CPU_ERRORS),
            ],
        ));
    }

    rows.push(ctx.row(
        "memory",
        ResourceType::Memory,
        [
            ctx.cell(&MEMORY_UTILIZATION, ctx.get("mem.used_percent", &[])),
            ctx.cell(&MEMORY_SATURATION, ctx.get("paging.pgscan_direct", &[])),
            ctx.unmeasured(&MEMORY_ERRORS),
        ],
    ));

    let swap_used = ctx.get("mem.swap_used", &[]).and_then(|used| {
        let total = ctx.get("mem.swap_total", &[])?;
        if total > 0.0 { Ok(100.0 * used / total) } else { Err("no swap configured (mem.swap_total is 0)".to_string()) }
    });
    let swapping = ctx.get("paging.swapin", &[]).and_then(|i| Ok(i + ctx.get("paging.swapout", &[])?));
    rows.push(ctx.row(
        "swap",
        ResourceType::Swap,
        [ctx.cell(&SWAP_UTILIZATION, swap_used), ctx.cell(&SWAP_SATURATION, swapping), ctx.unmeasured(&SWAP_ERRORS)],
    ));

    let disks = tag_values(snap, "disk.util", "dev", |s| s.tag("kind") == Some("disk"));
    for dev in &disks {
        let t = [("dev", dev.as_str())];
        rows.push(ctx.row(
            dev,
            ResourceType::Disk,
            [
                ctx.cell(&DISK_UTILIZATION, ctx.get("disk.util", &t)),
                ctx.cell(&DISK_SATURATION, ctx.get("disk.queue_size", &t)),
                ctx.unmeasured(&DISK_ERRORS),
            ],
        ));
    }
    if disks.is_empty() {
        let why = ctx.absent("disk.util").unwrap_or_else(|| "no whole disk has done any I/O since boot".to_string());
        rows.push(ctx.missing_row(
            "disk",
            ResourceType::Disk,
            [&DISK_UTILIZATION, &DISK_SATURATION, &DISK_ERRORS],
            &why,
        ));
    }

    let ifaces = tag_values(snap, "net.rx_kb", "iface", |_| true);
    for iface in &ifaces {
        let t = [("iface", iface.as_str())];
        let sum = |a: &str, b: &str| ctx.get(a, &t).and_then(|x| Ok(x + ctx.get(b, &t)?));
        let busier = ctx.get("net.rx_kb", &t).and_then(|rx| Ok(rx.max(ctx.get("net.tx_kb", &t)?)));
        rows.push(ctx.row(
            iface,
            ResourceType::Net,
            [
                ctx.cell(&NET_UTILIZATION, busier),
                ctx.cell(&NET_SATURATION, sum("net.rx_drops", "net.tx_drops")),
                ctx.cell(&NET_ERRORS, sum("net.rx_errors", "net.tx_errors")),
            ],
        ));
    }
    if ifaces.is_empty() {
        let why = ctx.absent("net.rx_kb").unwrap_or_else(|| "/proc/net/dev lists no interface".to_string());
        rows.push(ctx.missing_row("net", ResourceType::Net, [&NET_UTILIZATION, &NET_SATURATION, &NET_ERRORS], &why));
    }

    let retrans = ctx.get("tcp.retrans_segs", &[]).and_then(|r| {
        let sent = ctx.get("tcp.out_segs", &[])? + r;
        Ok(if sent > 0.0 { 100.0 * r / sent } else { 0.0 })
    });
    rows.push(ctx.row(
        "tcp",
        ResourceType::Tcp,
        [
            ctx.cell(&TCP_UTILIZATION, ctx.get("tcp.established", &[])),
            ctx.cell(&TCP_SATURATION, ctx.get("tcp.listen_overflows", &[])),
            ctx.cell(&TCP_ERRORS, retrans),
        ],
    ));

    let fd_share = ctx.get("fd.used", &[]).and_then(|used| {
        let max = ctx.get("fd.max", &[])?;
        if max > 0.0 { Ok(100.0 * used / max) } else { Err("fs.file-max reads 0".to_string()) }
    });
    rows.push(ctx.row(
        "fd",
        ResourceType::Fd,
        [ctx.cell(&FD_UTILIZATION, fd_share), ctx.unmeasured(&FD_SATURATION), ctx.unmeasured(&FD_ERRORS)],
    ));

    for (name, check) in
        [("psi.cpu", &PSI_CPU_SATURATION), ("psi.memory", &PSI_MEMORY_SATURATION), ("psi.io", &PSI_IO_SATURATION)]
    {
        rows.push(ctx.row(
            name,
            ResourceType::Psi,
            [
                ctx.unmeasured(&PSI_UTILIZATION),
                ctx.cell(check, ctx.get(check.metric, &[])),
                ctx.unmeasured(&PSI_ERRORS),
            ],
        ));
    }

    Report { timestamp_ms: snap.timestamp_ms, interval_secs: snap.interval_secs, cpus, rows }
}

/// The distinct values of tag `key` on samples named `name` that pass `keep`, in snapshot order.
fn tag_values(snap: &Snapshot, name: &str, key: &str, keep: impl Fn(&plumb_model::Sample) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in snap.samples.iter().filter(|s| s.name == name && keep(s)) {
        if let Some(v) = s.tag(key)
            && !out.iter().any(|o| o == v)
        {
            out.push(v.to_string());
        }
    }
    out
}

/// What every cell needs to know besides its own value.
struct Ctx<'a> {
    snap: &'a Snapshot,
    cpus: Option<usize>,
}

impl Ctx<'_> {
    fn row(&self, resource: &str, resource_type: ResourceType, cells: [Cell; 3]) -> Row {
        Row { resource: resource.to_string(), resource_type, cells }
    }

    /// A row whose resource is not in the snapshot at all: every cell n/a for `why`.
    fn missing_row(&self, resource: &str, t: ResourceType, checks: [&'static Check; 3], why: &str) -> Row {
        let cell = |check: &'static Check| match check.how {
            How::Unmeasured => self.unmeasured(check),
            How::Measured { .. } => self.cell(check, Err(why.to_string())),
        };
        self.row(resource, t, checks.map(cell))
    }

    /// The value of `name` with `tags`, or why it is missing.
    fn get(&self, name: &str, tags: &[(&str, &str)]) -> Result<f64, String> {
        self.snap
            .value(name, tags)
            .ok_or_else(|| self.absent(name).unwrap_or_else(|| format!("{name} was not collected")))
    }

    /// Why `name` has no sample at all, if it has none: its source was unreadable, or (for a
    /// rate) this is a first reading. `None` when some sample of `name` exists.
    fn absent(&self, name: &str) -> Option<String> {
        if self.snap.samples.iter().any(|s| s.name == name) {
            return None;
        }
        let def = plumb_collect::source::catalogue().into_iter().flat_map(|(_, defs)| defs).find(|d| d.name == name);
        Some(match def {
            Some(d)
                if self.snap.interval_secs.is_none()
                    && matches!(d.unit, Unit::PerSecond | Unit::KilobytesPerSecond) =>
            {
                format!("{name} is a rate and this is a first reading")
            }
            Some(d) => format!("{name} not collected: {} was not readable on this machine", d.source),
            None => format!("{name} is not a metric plumb collects"),
        })
    }

    fn unmeasured(&self, check: &'static Check) -> Cell {
        Cell { check, value: None, limit: None, flagged: false, note: Some(check.why.to_string()) }
    }

    /// A measured cell: the value against its threshold, resolved for this machine.
    fn cell(&self, check: &'static Check, value: Result<f64, String>) -> Cell {
        let threshold = match check.how {
            How::Measured { threshold, .. } => threshold,
            How::Unmeasured => return self.unmeasured(check),
        };
        let value = match value {
            Ok(v) => v,
            Err(why) => return Cell { check, value: None, limit: None, flagged: false, note: Some(why) },
        };
        let Some(t) = threshold else {
            return Cell { check, value: Some(value), limit: None, flagged: false, note: None };
        };
        let limit = match t.limit {
            Limit::Fixed(l) => l,
            Limit::CpuCount => match self.cpus {
                Some(n) => n as f64,
                None => {
                    let note = Some("CPU count unknown: /proc/stat had no per-CPU lines".to_string());
                    return Cell { check, value: Some(value), limit: None, flagged: false, note };
                }
            },
        };
        Cell { check, value: Some(value), limit: Some(limit), flagged: t.op.trips(value, limit), note: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Sample;

    fn snap(samples: Vec<Sample>) -> Snapshot {
        Snapshot { timestamp_ms: 0, interval_secs: Some(1.0), samples }
    }

    fn cell<'a>(r: &'a Report, resource: &str, kind: Kind) -> &'a Cell {
        let row = r.rows.iter().find(|row| row.resource == resource).unwrap_or_else(|| panic!("no row {resource}"));
        row.cells.iter().find(|c| c.check.kind == kind).unwrap()
    }

    #[test]
    fn thresholds_sit_on_their_boundaries() {
        let mut s = vec![
            Sample::new("cpu.busy", 89.9),
            Sample::tagged("percpu.busy", "cpu", "0", 90.0),
            Sample::tagged("percpu.busy", "cpu", "1", 80.0),
            Sample::new("load.runnable", 2.0),
        ];
        let r = evaluate(&snap(s.clone()));
        assert!(!cell(&r, "cpu", Kind::Utilization).flagged);
        assert!(cell(&r, "cpu0", Kind::Utilization).flagged, "90% is at the >= 90% line");
        assert!(!cell(&r, "cpu1", Kind::Utilization).flagged);
        assert_eq!(cell(&r, "cpu", Kind::Saturation).limit, Some(2.0));
        assert!(!cell(&r, "cpu", Kind::Saturation).flagged, "2 runnable on 2 CPUs is not > 2");
        s[3].value = 3.0;
        assert!(cell(&evaluate(&snap(s)), "cpu", Kind::Saturation).flagged);
    }

    #[test]
    fn nothing_is_silently_left_out() {
        let r = evaluate(&snap(Vec::new()));
        let names: Vec<&str> = r.rows.iter().map(|r| r.resource.as_str()).collect();
        assert_eq!(names, ["cpu", "memory", "swap", "disk", "net", "tcp", "fd", "psi.cpu", "psi.memory", "psi.io"]);
        for row in &r.rows {
            for c in &row.cells {
                assert!(c.value.is_none() && c.note.as_deref().is_some_and(|n| !n.is_empty()), "{row:?}");
            }
        }
        assert_eq!(
            cell(&r, "psi.io", Kind::Saturation).note.as_deref(),
            Some("psi.io.some.avg10 not collected: /proc/pressure/io was not readable on this machine")
        );
        let cpu_sat = cell(&evaluate(&snap(vec![Sample::new("load.runnable", 9.0)])), "cpu", Kind::Saturation).clone();
        assert_eq!((cpu_sat.value, cpu_sat.flagged), (Some(9.0), false));
        assert!(cpu_sat.note.unwrap().contains("CPU count unknown"));
    }

    #[test]
    fn first_reading_says_rates_need_two() {
        let r = evaluate(&Snapshot {
            timestamp_ms: 0,
            interval_secs: None,
            samples: vec![Sample::new("mem.used_percent", 5.0)],
        });
        assert_eq!(cell(&r, "memory", Kind::Utilization).value, Some(5.0));
        let sat = cell(&r, "memory", Kind::Saturation);
        assert_eq!(sat.note.as_deref(), Some("paging.pgscan_direct is a rate and this is a first reading"));
    }

    #[test]
    fn ratios_guard_their_denominators() {
        let r = evaluate(&snap(vec![
            Sample::new("mem.swap_used", 0.0),
            Sample::new("mem.swap_total", 0.0),
            Sample::new("tcp.retrans_segs", 0.0),
            Sample::new("tcp.out_segs", 0.0),
        ]));
        assert_eq!(
            cell(&r, "swap", Kind::Utilization).note.as_deref(),
            Some("no swap configured (mem.swap_total is 0)")
        );
        assert_eq!(cell(&r, "tcp", Kind::Errors).value, Some(0.0));
        let r = evaluate(&snap(vec![Sample::new("tcp.retrans_segs", 2.0), Sample::new("tcp.out_segs", 98.0)]));
        let e = cell(&r, "tcp", Kind::Errors);
        assert!((e.value.unwrap() - 2.0).abs() < 1e-12 && e.flagged);
    }

    #[test]
    fn partitions_are_left_to_their_disk() {
        let dev = |d: &str, kind: &str, v| Sample {
            name: "disk.util",
            tags: vec![("dev", d.to_string()), ("kind", kind.to_string())],
            value: v,
        };
        let r = evaluate(&snap(vec![dev("vda", "disk", 85.0), dev("vda1", "partition", 85.0)]));
        assert!(r.rows.iter().all(|row| row.resource != "vda1"));
        assert!(cell(&r, "vda", Kind::Utilization).flagged);
        assert!(cell(&r, "vda", Kind::Saturation).note.as_deref().unwrap().contains("disk.queue_size"));
    }
}
