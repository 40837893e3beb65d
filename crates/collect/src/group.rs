//! The groups of `plumb stat`, and which sources each needs.

use std::fmt;
use std::str::FromStr;

/// A group of related metrics, shown together by `plumb stat GROUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// All CPUs together, as `mpstat`: time shares by mode.
    Cpu,
    /// Each CPU, as `mpstat -P ALL`.
    Percpu,
    /// Load averages, runnable and blocked tasks, forks, context switches, interrupts, descriptors.
    Load,
    /// Pressure stall information for cpu, memory and io.
    Psi,
    /// Memory and swap capacity, as `free` and `sar -r -S`.
    Mem,
    /// Paging and faults, as `sar -B` and `vmstat`.
    Paging,
    /// Block devices, as `iostat -x`.
    Disk,
    /// Network interfaces, as `sar -n DEV,EDEV`.
    Net,
    /// TCP and UDP, as `sar -n TCP,ETCP,UDP`.
    Tcp,
    /// The busiest processes, as `pidstat -u -r -d`.
    Proc,
}

impl Group {
    /// Every group, in display order.
    pub const ALL: [Group; 10] = [
        Group::Cpu,
        Group::Percpu,
        Group::Load,
        Group::Psi,
        Group::Mem,
        Group::Paging,
        Group::Disk,
        Group::Net,
        Group::Tcp,
        Group::Proc,
    ];

    /// The group's name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Cpu => "cpu",
            Group::Percpu => "percpu",
            Group::Load => "load",
            Group::Psi => "psi",
            Group::Mem => "mem",
            Group::Paging => "paging",
            Group::Disk => "disk",
            Group::Net => "net",
            Group::Tcp => "tcp",
            Group::Proc => "proc",
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A group name that is not one of [`Group::ALL`] (nor `all`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown group {0:?}: expected one of cpu, percpu, load, psi, mem, paging, disk, net, tcp, proc, all")]
pub struct UnknownGroup(pub String);

impl FromStr for Group {
    type Err = UnknownGroup;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Group::ALL.into_iter().find(|g| g.as_str() == s).ok_or_else(|| UnknownGroup(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for g in Group::ALL {
            assert_eq!(g.as_str().parse::<Group>(), Ok(g));
        }
        assert!("cpus".parse::<Group>().is_err());
    }
}
