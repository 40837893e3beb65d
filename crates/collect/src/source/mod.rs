//! One module per kernel source. Each has a parser (bytes to raw counters, no I/O), a
//! `const METRICS: &[MetricDef]` declaring what it emits, and a [`Source`] that reads its files
//! through an [`FsRoot`] and turns two readings into samples.

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot, Group};

pub mod diskstats;
pub mod filenr;
pub mod loadavg;
pub mod meminfo;
pub mod netdev;
pub mod pressure;
pub mod procs;
pub mod snmp;
pub mod stat;
pub mod sysconf;
#[cfg(test)]
mod testing;
pub mod vmstat;

/// A kernel source the collector reads once per cycle.
pub trait Source: Send {
    /// A short name for notes and errors, e.g. `"diskstats"`.
    fn name(&self) -> &'static str;

    /// Reads the source and appends its samples to `out`. `secs` is the time since the previous
    /// call, `None` on the first call: sources then record their counters and emit only gauges.
    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError>;

    /// Running totals of what the source skipped without failing the cycle (a process that
    /// exited mid-read, an unreadable file), as `(what, count)`: reported, never silent.
    fn skipped(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// The metric declarations of each group, in display order: the metric catalogue.
pub fn catalogue() -> Vec<(&'static str, &'static [MetricDef])> {
    vec![
        ("cpu", stat::CPU_METRICS),
        ("percpu", stat::PERCPU_METRICS),
        ("load", stat::LOAD_METRICS),
        ("load", loadavg::METRICS),
        ("load", filenr::METRICS),
        ("psi", pressure::METRICS),
        ("mem", meminfo::METRICS),
        ("paging", vmstat::METRICS),
        ("disk", diskstats::METRICS),
        ("net", netdev::METRICS),
        ("tcp", snmp::METRICS),
        ("proc", procs::METRICS),
    ]
}

/// The sources that serve `groups`, each once, in a stable order.
pub fn sources_for(groups: &[Group], top_processes: usize) -> Vec<Box<dyn Source>> {
    let has = |g: Group| groups.contains(&g);
    let mut v: Vec<Box<dyn Source>> = Vec::new();
    if has(Group::Cpu) || has(Group::Percpu) || has(Group::Load) {
        v.push(Box::new(stat::StatSource::default()));
    }
    if has(Group::Load) {
        v.push(Box::new(loadavg::LoadavgSource::default()));
        v.push(Box::new(filenr::FileNrSource::default()));
    }
    if has(Group::Psi) {
        v.push(Box::new(pressure::PressureSource::default()));
    }
    if has(Group::Mem) {
        v.push(Box::new(meminfo::MeminfoSource::default()));
    }
    if has(Group::Paging) {
        v.push(Box::new(vmstat::VmstatSource::default()));
    }
    if has(Group::Disk) {
        v.push(Box::new(diskstats::DiskstatsSource::default()));
    }
    if has(Group::Net) {
        v.push(Box::new(netdev::NetdevSource::default()));
    }
    if has(Group::Tcp) {
        v.push(Box::new(snmp::SnmpSource::default()));
    }
    if has(Group::Proc) {
        v.push(Box::new(procs::ProcsSource::new(top_processes)));
    }
    v
}
