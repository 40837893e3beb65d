//! Which columns each group shows, under sysstat's headers.

use plumb_collect::Group;

/// One numeric column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header, as the sysstat tool that shows it spells it.
    pub header: &'static str,
    /// The metric whose value the column shows.
    pub metric: &'static str,
    /// Multiplied into the value before display (1/1024 turns bytes into kB).
    pub scale: f64,
    /// Digits after the decimal point.
    pub decimals: usize,
}

/// A text column taken from a tag of the row.
#[derive(Debug, Clone, Copy)]
pub struct TagColumn {
    pub header: &'static str,
    /// The tag key; `None` shows `all` (the single row of the `cpu` group, as mpstat).
    pub tag: Option<&'static str>,
    /// Minimum width.
    pub width: usize,
}

/// How one group is laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub group: Group,
    /// Tag columns before the numbers (CPU, DEVICE, IFACE, PID).
    pub lead: &'static [TagColumn],
    pub columns: &'static [Column],
    /// Tag columns after the numbers (pidstat's Command).
    pub trail: &'static [TagColumn],
}

const KB: f64 = 1.0 / 1024.0;

const fn c(header: &'static str, metric: &'static str) -> Column {
    Column { header, metric, scale: 1.0, decimals: 2 }
}

const fn n(header: &'static str, metric: &'static str) -> Column {
    Column { header, metric, scale: 1.0, decimals: 0 }
}

const fn kb(header: &'static str, metric: &'static str) -> Column {
    Column { header, metric, scale: KB, decimals: 0 }
}

macro_rules! cpu_columns {
    ($p:literal) => {
        const {
            &[
                c("%usr", concat!($p, ".user")),
                c("%nice", concat!($p, ".nice")),
                c("%sys", concat!($p, ".system")),
                c("%iowait", concat!($p, ".iowait")),
                c("%irq", concat!($p, ".irq")),
                c("%soft", concat!($p, ".softirq")),
                c("%steal", concat!($p, ".steal")),
                c("%guest", concat!($p, ".guest")),
                c("%gnice", concat!($p, ".guest_nice")),
                c("%idle", concat!($p, ".idle")),
            ]
        }
    };
}

/// The layout of `group`.
pub fn layout(group: Group) -> Layout {
    let (lead, columns, trail): (&[TagColumn], &[Column], &[TagColumn]) = match group {
        Group::Cpu => (&[TagColumn { header: "CPU", tag: None, width: 5 }], cpu_columns!("cpu"), &[]),
        Group::Percpu => (&[TagColumn { header: "CPU", tag: Some("cpu"), width: 5 }], cpu_columns!("percpu"), &[]),
        Group::Load => (
            &[],
            const {
                &[
                    n("runq-sz", "load.runnable"),
                    n("blocked", "load.blocked"),
                    n("plist-sz", "load.tasks"),
                    c("ldavg-1", "load.avg1"),
                    c("ldavg-5", "load.avg5"),
                    c("ldavg-15", "load.avg15"),
                    c("proc/s", "load.forks"),
                    c("cswch/s", "load.context_switches"),
                    c("intr/s", "load.interrupts"),
                    n("file-nr", "fd.used"),
                ]
            },
            &[],
        ),
        Group::Psi => (
            &[],
            const {
                &[
                    c("%scpu-10", "psi.cpu.some.avg10"),
                    c("%scpu", "psi.cpu.some.stalled"),
                    c("%smem-10", "psi.memory.some.avg10"),
                    c("%smem", "psi.memory.some.stalled"),
                    c("%fmem-10", "psi.memory.full.avg10"),
                    c("%fmem", "psi.memory.full.stalled"),
                    c("%sio-10", "psi.io.some.avg10"),
                    c("%sio", "psi.io.some.stalled"),
                    c("%fio-10", "psi.io.full.avg10"),
                    c("%fio", "psi.io.full.stalled"),
                ]
            },
            &[],
        ),
        Group::Mem => (
            &[],
            const {
                &[
                    kb("kbmemfree", "mem.free"),
                    kb("kbavail", "mem.available"),
                    kb("kbmemused", "mem.used"),
                    c("%memused", "mem.used_percent"),
                    kb("kbbuffers", "mem.buffers"),
                    kb("kbcached", "mem.cached"),
                    kb("kbdirty", "mem.dirty"),
                    kb("kbwback", "mem.writeback"),
                    kb("kbslab", "mem.slab"),
                    kb("kbswpused", "mem.swap_used"),
                    kb("kbswpcad", "mem.swap_cached"),
                ]
            },
            &[],
        ),
        Group::Paging => (
            &[],
            const {
                &[
                    c("pgpgin/s", "paging.pgpgin_kb"),
                    c("pgpgout/s", "paging.pgpgout_kb"),
                    c("fault/s", "paging.faults"),
                    c("majflt/s", "paging.major_faults"),
                    c("pgfree/s", "paging.pgfree"),
                    c("pgscank/s", "paging.pgscan_kswapd"),
                    c("pgscand/s", "paging.pgscan_direct"),
                    c("pgsteal/s", "paging.pgsteal"),
                    c("%vmeff", "paging.vmeff"),
                    c("pswpin/s", "paging.swapin"),
                    c("pswpout/s", "paging.swapout"),
                ]
            },
            &[],
        ),
        Group::Disk => (
            &[TagColumn { header: "Device", tag: Some("dev"), width: 8 }],
            const {
                &[
                    c("r/s", "disk.reads"),
                    c("rkB/s", "disk.read_kb"),
                    c("rrqm/s", "disk.read_merges"),
                    c("r_await", "disk.read_await"),
                    c("w/s", "disk.writes"),
                    c("wkB/s", "disk.write_kb"),
                    c("wrqm/s", "disk.write_merges"),
                    c("w_await", "disk.write_await"),
                    c("aqu-sz", "disk.queue_size"),
                    c("%util", "disk.util"),
                ]
            },
            &[],
        ),
        Group::Net => (
            &[TagColumn { header: "IFACE", tag: Some("iface"), width: 8 }],
            const {
                &[
                    c("rxpck/s", "net.rx_packets"),
                    c("txpck/s", "net.tx_packets"),
                    c("rxkB/s", "net.rx_kb"),
                    c("txkB/s", "net.tx_kb"),
                    c("rxerr/s", "net.rx_errors"),
                    c("txerr/s", "net.tx_errors"),
                    c("rxdrop/s", "net.rx_drops"),
                    c("txdrop/s", "net.tx_drops"),
                    c("coll/s", "net.collisions"),
                ]
            },
            &[],
        ),
        Group::Tcp => (
            &[],
            const {
                &[
                    c("active/s", "tcp.active_opens"),
                    c("passive/s", "tcp.passive_opens"),
                    c("iseg/s", "tcp.in_segs"),
                    c("oseg/s", "tcp.out_segs"),
                    c("retrans/s", "tcp.retrans_segs"),
                    c("isegerr/s", "tcp.in_errs"),
                    c("orsts/s", "tcp.out_rsts"),
                    c("atmptf/s", "tcp.attempt_fails"),
                    c("estres/s", "tcp.estab_resets"),
                    n("estab", "tcp.established"),
                    c("idgm/s", "udp.in_datagrams"),
                    c("odgm/s", "udp.out_datagrams"),
                    c("noport/s", "udp.no_ports"),
                    c("idgmerr/s", "udp.in_errors"),
                ]
            },
            &[],
        ),
        Group::Proc => (
            &[TagColumn { header: "PID", tag: Some("pid"), width: 7 }],
            const {
                &[
                    c("%usr", "proc.cpu_user"),
                    c("%system", "proc.cpu_system"),
                    c("%CPU", "proc.cpu"),
                    c("minflt/s", "proc.minor_faults"),
                    c("majflt/s", "proc.major_faults"),
                    kb("RSS", "proc.rss"),
                    c("kB_rd/s", "proc.read_kb"),
                    c("kB_wr/s", "proc.write_kb"),
                    n("threads", "proc.threads"),
                ]
            },
            &[TagColumn { header: "Command", tag: Some("comm"), width: 0 }],
        ),
    };
    Layout { group, lead, columns, trail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::group_metrics;

    /// Every column shows a metric its group declares, so a renamed metric cannot leave a
    /// column silently empty.
    #[test]
    fn every_column_names_a_declared_metric_of_its_group() {
        for g in Group::ALL {
            let defs = group_metrics(g);
            for col in layout(g).columns {
                assert!(
                    defs.iter().any(|d| d.name == col.metric),
                    "group {g}: column {} shows {}, which the group does not declare",
                    col.header,
                    col.metric
                );
            }
        }
    }
}
