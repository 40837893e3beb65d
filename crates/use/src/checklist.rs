//! The checklist itself: for each kind of resource, where its Utilization, Saturation and Errors
//! come from and the threshold that flags each, after Brendan Gregg's USE method checklist for
//! Linux (<https://www.brendangregg.com/USEmethod/use-linux.html>).
//!
//! Design decision: every cell of the checklist is one `const` [`Check`] carrying its metric, its
//! threshold and the reason for that threshold, and [`CHECKS`] lists them all; the evaluation in
//! `evaluate.rs` only picks values out of a snapshot. The long `--help` and the JSON thresholds
//! are rendered from these same constants, so the documentation cannot drift from the code. A
//! question plumb cannot answer on Linux from /proc and /sys (CPU error events, device I/O
//! errors) is still a `Check`, [`How::Unmeasured`], whose `why` says what would be needed.

use std::fmt::Write;

use plumb_model::Unit;

/// The kinds of resource the checklist covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// All CPUs together, and each CPU.
    Cpu,
    /// Main memory capacity.
    Memory,
    /// Swap space.
    Swap,
    /// A whole block device (partitions are covered by their disk).
    Disk,
    /// A network interface.
    Net,
    /// The TCP stack.
    Tcp,
    /// System-wide file handles.
    Fd,
    /// A pressure stall signal (cpu, memory, io).
    Psi,
}

impl ResourceType {
    /// The name in the table's TYPE column and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Cpu => "cpu",
            ResourceType::Memory => "memory",
            ResourceType::Swap => "swap",
            ResourceType::Disk => "disk",
            ResourceType::Net => "net",
            ResourceType::Tcp => "tcp",
            ResourceType::Fd => "fd",
            ResourceType::Psi => "psi",
        }
    }
}

/// Which of the three USE questions a check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// How busy the resource was.
    Utilization,
    /// How much work waited for it.
    Saturation,
    /// How many errors it reported.
    Errors,
}

impl Kind {
    /// The three kinds, in the table's column order.
    pub const ALL: [Kind; 3] = [Kind::Utilization, Kind::Saturation, Kind::Errors];

    /// The name in JSON and in the flag summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Utilization => "utilization",
            Kind::Saturation => "saturation",
            Kind::Errors => "errors",
        }
    }

    /// The one-letter form of the `--help` checklist.
    pub fn letter(self) -> char {
        match self {
            Kind::Utilization => 'U',
            Kind::Saturation => 'S',
            Kind::Errors => 'E',
        }
    }
}

/// How a value is compared with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Flagged when the value is at least the limit.
    AtLeast,
    /// Flagged when the value is above the limit.
    Above,
}

impl Op {
    /// `>=` or `>`.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::AtLeast => ">=",
            Op::Above => ">",
        }
    }

    /// Whether `value` crosses `limit`.
    pub fn trips(self, value: f64, limit: f64) -> bool {
        match self {
            Op::AtLeast => value >= limit,
            Op::Above => value > limit,
        }
    }
}

/// What a value is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// A fixed number in the check's unit.
    Fixed(f64),
    /// The number of online CPUs seen in the snapshot.
    CpuCount,
}

/// When a measured value flags a problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// The comparison.
    pub op: Op,
    /// The limit.
    pub limit: Limit,
}

/// Whether and how a check is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum How {
    /// Read from the snapshot in `unit`; `threshold` is `None` where nothing plumb collects says
    /// how much is too much (then `why` says so).
    Measured {
        /// The value's unit.
        unit: Unit,
        /// When the value flags a problem.
        threshold: Option<Threshold>,
    },
    /// Not measurable from what plumb collects; always shown as n/a with `why`.
    Unmeasured,
}

/// One cell of the checklist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    /// The resource it is about.
    pub resource: ResourceType,
    /// Which USE question it answers.
    pub kind: Kind,
    /// The metric of `plumb metrics` it reads, or the arithmetic over such metrics; for an
    /// unmeasured check, what would be needed.
    pub metric: &'static str,
    /// Measured or not, and the threshold.
    pub how: How,
    /// Why this metric and threshold (Gregg's checklist entry), or why it cannot be measured.
    pub why: &'static str,
}

const fn measured(unit: Unit, op: Op, limit: f64) -> How {
    How::Measured { unit, threshold: Some(Threshold { op, limit: Limit::Fixed(limit) }) }
}

/// All CPUs: busy share (100 minus idle minus iowait), flagged at 90% or more.
pub const CPU_UTILIZATION: Check = Check {
    resource: ResourceType::Cpu,
    kind: Kind::Utilization,
    metric: "cpu.busy",
    how: measured(Unit::Percent, Op::AtLeast, 90.0),
    why: "Gregg: sar -u / vmstat us+sy (100 minus %idle). At 90% busy the CPUs have little headroom \
          left for bursts and queueing delay grows steeply.",
};

/// All CPUs: tasks runnable or running, flagged above the CPU count.
pub const CPU_SATURATION: Check = Check {
    resource: ResourceType::Cpu,
    kind: Kind::Saturation,
    metric: "load.runnable",
    how: How::Measured { unit: Unit::Count, threshold: Some(Threshold { op: Op::Above, limit: Limit::CpuCount }) },
    why: "Gregg: vmstat 'r' > CPU count. More tasks runnable (running ones included) than CPUs to run \
          them means some wait. An instant's reading at the end of the interval, plumb itself included.",
};

/// CPUs: error events, which plumb does not read.
pub const CPU_ERRORS: Check = Check {
    resource: ResourceType::Cpu,
    kind: Kind::Errors,
    metric: "cpu error events",
    how: How::Unmeasured,
    why: "Gregg: processor error events (machine checks, ECC) through perf CPC counters or mcelog; \
          plumb reads no processor error counter.",
};

/// Each CPU: busy share, flagged at 90% or more.
pub const PERCPU_UTILIZATION: Check = Check {
    resource: ResourceType::Cpu,
    kind: Kind::Utilization,
    metric: "percpu.busy",
    how: measured(Unit::Percent, Op::AtLeast, 90.0),
    why: "Gregg: mpstat -P ALL. One hot CPU among idle ones is a single-threaded bottleneck the \
          all-CPU figure hides; same 90% as for all CPUs.",
};

/// Each CPU: its own run queue, not in /proc/stat.
pub const PERCPU_SATURATION: Check = Check {
    resource: ResourceType::Cpu,
    kind: Kind::Saturation,
    metric: "per-CPU run queue",
    how: How::Unmeasured,
    why: "/proc/stat gives one system-wide run-queue length; per-CPU queue lengths need \
          /proc/schedstat or scheduler tracing, which plumb use does not read (see the cpu row and psi.cpu).",
};

/// Memory: used share (total minus available), flagged at 90% or more.
pub const MEMORY_UTILIZATION: Check = Check {
    resource: ResourceType::Memory,
    kind: Kind::Utilization,
    metric: "mem.used_percent",
    how: measured(Unit::Percent, Op::AtLeast, 90.0),
    why: "Gregg: free -m 'Mem:'. Used is MemTotal minus MemAvailable, so cache the kernel can drop \
          does not count; past 90% new allocations soon force reclaim.",
};

/// Memory: pages scanned by allocating tasks, flagged above 0.
pub const MEMORY_SATURATION: Check = Check {
    resource: ResourceType::Memory,
    kind: Kind::Saturation,
    metric: "paging.pgscan_direct",
    how: measured(Unit::PerSecond, Op::Above, 0.0),
    why: "Gregg: sar -B pgscank + pgscand. Only direct scanning is flagged: an allocating task \
          stalled to reclaim memory itself, while kswapd's background scanning is routine on a host \
          full of page cache.",
};

/// Memory: OOM kills and physical errors, which plumb does not read.
pub const MEMORY_ERRORS: Check = Check {
    resource: ResourceType::Memory,
    kind: Kind::Errors,
    metric: "oom kills, ECC errors",
    how: How::Unmeasured,
    why: "Gregg: dmesg for OOM kills and physical failures; plumb collects neither the oom_kill \
          counter of /proc/vmstat nor EDAC error counts.",
};

/// Swap: used share, flagged at 80% or more.
pub const SWAP_UTILIZATION: Check = Check {
    resource: ResourceType::Swap,
    kind: Kind::Utilization,
    metric: "mem.swap_used/mem.swap_total",
    how: measured(Unit::Percent, Op::AtLeast, 80.0),
    why: "Gregg: free -m 'Swap:'. With swap 80% full, further demand for anonymous memory is \
          close to ending in the OOM killer.",
};

/// Swap: pages swapped in or out, flagged above 0.
pub const SWAP_SATURATION: Check = Check {
    resource: ResourceType::Swap,
    kind: Kind::Saturation,
    metric: "paging.swapin+paging.swapout",
    how: measured(Unit::PerSecond, Op::Above, 0.0),
    why: "Gregg: vmstat si/so, sar -W. Any swapping during the interval means the working set did \
          not fit in RAM and tasks waited on disk for their memory.",
};

/// Swap: device errors, which plumb does not read.
pub const SWAP_ERRORS: Check = Check {
    resource: ResourceType::Swap,
    kind: Kind::Errors,
    metric: "swap device errors",
    how: How::Unmeasured,
    why: "The kernel keeps no swap-specific error counter; errors of the swap device would show in \
          dmesg and on its disk.",
};

/// Disk: time busy, flagged at 80% or more.
pub const DISK_UTILIZATION: Check = Check {
    resource: ResourceType::Disk,
    kind: Kind::Utilization,
    metric: "disk.util",
    how: measured(Unit::Percent, Op::AtLeast, 80.0),
    why: "Gregg: iostat -xz %util. Gregg warns from 60% on a single spindle; %util understates the \
          capacity of devices that serve requests in parallel (SSD, NVMe, RAID), hence 80%.",
};

/// Disk: mean requests queued or in service, flagged above 1.
pub const DISK_SATURATION: Check = Check {
    resource: ResourceType::Disk,
    kind: Kind::Saturation,
    metric: "disk.queue_size",
    how: measured(Unit::Number, Op::Above, 1.0),
    why: "Gregg: iostat -x avgqu-sz > 1: on average more than one request was queued or in service, \
          so requests waited (await grows with it).",
};

/// Disk: device I/O errors, which plumb does not read.
pub const DISK_ERRORS: Check = Check {
    resource: ResourceType::Disk,
    kind: Kind::Errors,
    metric: "device I/O errors",
    how: How::Unmeasured,
    why: "Gregg: /sys/devices/.../ioerr_cnt, smartctl; plumb reads neither.",
};

/// Network interface: throughput, shown without a threshold.
pub const NET_UTILIZATION: Check = Check {
    resource: ResourceType::Net,
    kind: Kind::Utilization,
    metric: "max(net.rx_kb,net.tx_kb)",
    how: How::Measured { unit: Unit::KilobytesPerSecond, threshold: None },
    why: "Gregg: sar -n DEV rxkB/s, txkB/s against the link's bandwidth (the busier direction, links \
          being full duplex); plumb does not read the link speed, so there is no threshold.",
};

/// Network interface: packets dropped, flagged above 0.
pub const NET_SATURATION: Check = Check {
    resource: ResourceType::Net,
    kind: Kind::Saturation,
    metric: "net.rx_drops+net.tx_drops",
    how: measured(Unit::PerSecond, Op::Above, 0.0),
    why: "Gregg: ifconfig 'dropped', sar -n EDEV rxdrop/s txdrop/s: packets dropped for lack of \
          buffer or queue space.",
};

/// Network interface: errors, flagged above 0.
pub const NET_ERRORS: Check = Check {
    resource: ResourceType::Net,
    kind: Kind::Errors,
    metric: "net.rx_errors+net.tx_errors",
    how: measured(Unit::PerSecond, Op::Above, 0.0),
    why: "Gregg: ifconfig 'errors', sar -n EDEV rxerr/s txerr/s; a healthy link has none (FIFO, \
          frame, CRC and carrier errors are counted inside these).",
};

/// TCP: established connections, shown without a threshold.
pub const TCP_UTILIZATION: Check = Check {
    resource: ResourceType::Tcp,
    kind: Kind::Utilization,
    metric: "tcp.established",
    how: How::Measured { unit: Unit::Count, threshold: None },
    why: "Connections in ESTABLISHED or CLOSE-WAIT. TCP has no one capacity to compare with (ports, \
          memory and backlogs are limited per socket), so there is no threshold.",
};

/// TCP: accept-queue overflows, flagged above 0.
pub const TCP_SATURATION: Check = Check {
    resource: ResourceType::Tcp,
    kind: Kind::Saturation,
    metric: "tcp.listen_overflows",
    how: measured(Unit::PerSecond, Op::Above, 0.0),
    why: "TcpExt ListenOverflows: handshakes completed while a listener's accept queue was full, so \
          they were dropped and clients retry after a timeout: an application accepts too slowly.",
};

/// TCP: share of segments retransmitted, flagged above 1%.
pub const TCP_ERRORS: Check = Check {
    resource: ResourceType::Tcp,
    kind: Kind::Errors,
    metric: "tcp.retrans_segs/(tcp.out_segs+tcp.retrans_segs)",
    how: measured(Unit::Percent, Op::Above, 1.0),
    why: "Gregg: netstat -s 'segments retransmitted', sar -n ETCP retrans/s. Over 1% of segments sent \
          being resends means loss or congestion on the path.",
};

/// File descriptors: handles in use against fs.file-max, flagged at 80% or more.
pub const FD_UTILIZATION: Check = Check {
    resource: ResourceType::Fd,
    kind: Kind::Utilization,
    metric: "fd.used/fd.max",
    how: measured(Unit::Percent, Op::AtLeast, 80.0),
    why: "Gregg: sar -v file-nr against /proc/sys/fs/file-max; past 80% a burst of opens can fail \
          with ENFILE.",
};

/// File descriptors: nothing queues for them.
pub const FD_SATURATION: Check = Check {
    resource: ResourceType::Fd,
    kind: Kind::Saturation,
    metric: "fd waits",
    how: How::Unmeasured,
    why: "Gregg: not applicable. Nothing waits for a file handle: an open that finds none fails at \
          once (see errors).",
};

/// File descriptors: failed opens, seen only by tracing.
pub const FD_ERRORS: Check = Check {
    resource: ResourceType::Fd,
    kind: Kind::Errors,
    metric: "EMFILE/ENFILE failures",
    how: How::Unmeasured,
    why: "Gregg: strace errno == EMFILE. The kernel counts no failed opens; only tracing system calls \
          sees them (plumb opensnoop -x).",
};

/// PSI: stall signals have no utilization.
pub const PSI_UTILIZATION: Check = Check {
    resource: ResourceType::Psi,
    kind: Kind::Utilization,
    metric: "-",
    how: How::Unmeasured,
    why: "Pressure stall information measures waiting only; the resource's use is on its own row.",
};

const PSI_WHY: &str = "Share of the last 10 s (the kernel's avg10) in which some task waited for the \
                       resource. Gregg's checklist predates PSI; over 10% a tenth of wall time was lost to \
                       waiting, enough to show in latency.";

/// PSI cpu: some avg10 above 10%.
pub const PSI_CPU_SATURATION: Check = Check {
    resource: ResourceType::Psi,
    kind: Kind::Saturation,
    metric: "psi.cpu.some.avg10",
    how: measured(Unit::Percent, Op::Above, 10.0),
    why: PSI_WHY,
};

/// PSI memory: some avg10 above 10%.
pub const PSI_MEMORY_SATURATION: Check = Check {
    resource: ResourceType::Psi,
    kind: Kind::Saturation,
    metric: "psi.memory.some.avg10",
    how: measured(Unit::Percent, Op::Above, 10.0),
    why: PSI_WHY,
};

/// PSI io: some avg10 above 10%.
pub const PSI_IO_SATURATION: Check = Check {
    resource: ResourceType::Psi,
    kind: Kind::Saturation,
    metric: "psi.io.some.avg10",
    how: measured(Unit::Percent, Op::Above, 10.0),
    why: PSI_WHY,
};

/// PSI: stall signals have no errors.
pub const PSI_ERRORS: Check = Check {
    resource: ResourceType::Psi,
    kind: Kind::Errors,
    metric: "-",
    how: How::Unmeasured,
    why: "Pressure stall information measures waiting only; errors are on the resource's own row.",
};

/// Every check, in table order: the checklist `--help` prints.
pub const CHECKS: &[Check] = &[
    CPU_UTILIZATION,
    CPU_SATURATION,
    CPU_ERRORS,
    PERCPU_UTILIZATION,
    PERCPU_SATURATION,
    MEMORY_UTILIZATION,
    MEMORY_SATURATION,
    MEMORY_ERRORS,
    SWAP_UTILIZATION,
    SWAP_SATURATION,
    SWAP_ERRORS,
    DISK_UTILIZATION,
    DISK_SATURATION,
    DISK_ERRORS,
    NET_UTILIZATION,
    NET_SATURATION,
    NET_ERRORS,
    TCP_UTILIZATION,
    TCP_SATURATION,
    TCP_ERRORS,
    FD_UTILIZATION,
    FD_SATURATION,
    FD_ERRORS,
    PSI_UTILIZATION,
    PSI_CPU_SATURATION,
    PSI_MEMORY_SATURATION,
    PSI_IO_SATURATION,
    PSI_ERRORS,
];

/// How a threshold reads in help and tables, e.g. `>= 90%` or `> CPU count`.
pub fn threshold_text(threshold: &Threshold, unit: Unit) -> String {
    match threshold.limit {
        Limit::Fixed(v) => format!("{} {}", threshold.op.symbol(), crate::format::limit(v, unit)),
        Limit::CpuCount => format!("{} CPU count", threshold.op.symbol()),
    }
}

/// The checklist as text for the end of `plumb use --help`: one entry per check with its
/// metric, threshold and reason, wrapped at `width` columns.
pub fn checklist_help(width: usize) -> String {
    let mut out =
        String::from("Checklist (U utilization, S saturation, E errors; ! marks a value past its threshold):\n");
    for c in CHECKS {
        let rule = match c.how {
            How::Measured { unit, threshold: Some(t) } => format!("flag {}", threshold_text(&t, unit)),
            How::Measured { threshold: None, .. } => "no threshold".to_string(),
            How::Unmeasured => "n/a".to_string(),
        };
        let _ = writeln!(out, "  {:<6} {} {}: {rule}", c.resource.as_str(), c.kind.letter(), c.metric);
        for line in wrap(c.why, width.saturating_sub(11).max(20)) {
            let _ = writeln!(out, "           {line}");
        }
    }
    out
}

/// Greedy word wrap; a word longer than `width` stands alone on its line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_answers_all_three_questions() {
        for r in [
            ResourceType::Cpu,
            ResourceType::Memory,
            ResourceType::Swap,
            ResourceType::Disk,
            ResourceType::Net,
            ResourceType::Tcp,
            ResourceType::Fd,
            ResourceType::Psi,
        ] {
            for k in Kind::ALL {
                assert!(CHECKS.iter().any(|c| c.resource == r && c.kind == k), "{r:?} has no {k:?} check");
            }
        }
    }

    #[test]
    fn measured_metrics_name_declared_metrics() {
        let declared: Vec<&str> =
            plumb_collect::source::catalogue().iter().flat_map(|(_, defs)| defs.iter().map(|d| d.name)).collect();
        for c in CHECKS.iter().filter(|c| matches!(c.how, How::Measured { .. })) {
            let names = c.metric.split(|ch: char| "+/(),".contains(ch)).filter(|s| s.contains('.'));
            for n in names {
                assert!(declared.contains(&n), "{} names {n}, which no collector declares", c.metric);
            }
        }
    }

    #[test]
    fn help_lists_every_check_with_its_threshold() {
        let help = checklist_help(100);
        for c in CHECKS {
            assert!(help.contains(c.metric), "{} missing from help", c.metric);
        }
        assert!(help.contains("cpu.busy: flag >= 90%"), "{help}");
        assert!(help.contains("load.runnable: flag > CPU count"), "{help}");
        assert!(help.contains("tcp.established: no threshold"), "{help}");
        assert!(help.lines().all(|l| l.len() <= 100 || !l.contains(' ')), "{help}");
    }

    #[test]
    fn ops_compare_as_named() {
        assert!(Op::AtLeast.trips(90.0, 90.0));
        assert!(!Op::Above.trips(0.0, 0.0));
        assert!(Op::Above.trips(0.1, 0.0));
    }
}
