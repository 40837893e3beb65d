//! Counting-mode events, as `perf stat` uses them: no samples and no ring buffers, only counters
//! read with read(2) together with the time each was enabled and the time it actually ran on
//! the PMU.
//!
//! Design decision: counters are opened one by one, not as a group. A group is scheduled all or
//! nothing, so six hardware events on a CPU with four free counters would never count; alone,
//! each gets its share of PMU time and the kernel reports it in `time_running`, from which
//! [`CounterReading::scaled`] estimates the full count (perf stat's default, with the same
//! caveat: a scaled count is an estimate, and [`CounterReading::coverage`] says how much was
//! seen). The arithmetic on readings is pure and tested on recorded values.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use perf_event_open_sys::bindings::{self as b, perf_event_attr};

use crate::cpus::{online_cpus, threads_of};
use crate::error::Error;
use crate::pmu::{Pmu, RawEvent};
use crate::session::current_paranoid;
use crate::sys;

/// The generic hardware counters of `PERF_TYPE_HARDWARE`, which the kernel maps onto the CPU's
/// own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HardwareCounter {
    /// `PERF_COUNT_HW_CPU_CYCLES`: core cycles while not halted.
    CpuCycles,
    /// `PERF_COUNT_HW_INSTRUCTIONS`: instructions retired.
    Instructions,
    /// `PERF_COUNT_HW_CACHE_REFERENCES`: last-level cache accesses.
    CacheReferences,
    /// `PERF_COUNT_HW_CACHE_MISSES`: last-level cache misses.
    CacheMisses,
    /// `PERF_COUNT_HW_BRANCH_INSTRUCTIONS`: branches retired.
    BranchInstructions,
    /// `PERF_COUNT_HW_BRANCH_MISSES`: mispredicted branches.
    BranchMisses,
    /// `PERF_COUNT_HW_STALLED_CYCLES_FRONTEND`: cycles with no instruction issued.
    StalledCyclesFrontend,
    /// `PERF_COUNT_HW_STALLED_CYCLES_BACKEND`: cycles with no instruction retired.
    StalledCyclesBackend,
    /// `PERF_COUNT_HW_REF_CPU_CYCLES`: cycles at the reference (TSC-like) rate.
    RefCycles,
}

impl HardwareCounter {
    /// The kernel's name of the counter, used in messages.
    pub fn kernel_name(self) -> &'static str {
        match self {
            HardwareCounter::CpuCycles => "PERF_COUNT_HW_CPU_CYCLES",
            HardwareCounter::Instructions => "PERF_COUNT_HW_INSTRUCTIONS",
            HardwareCounter::CacheReferences => "PERF_COUNT_HW_CACHE_REFERENCES",
            HardwareCounter::CacheMisses => "PERF_COUNT_HW_CACHE_MISSES",
            HardwareCounter::BranchInstructions => "PERF_COUNT_HW_BRANCH_INSTRUCTIONS",
            HardwareCounter::BranchMisses => "PERF_COUNT_HW_BRANCH_MISSES",
            HardwareCounter::StalledCyclesFrontend => "PERF_COUNT_HW_STALLED_CYCLES_FRONTEND",
            HardwareCounter::StalledCyclesBackend => "PERF_COUNT_HW_STALLED_CYCLES_BACKEND",
            HardwareCounter::RefCycles => "PERF_COUNT_HW_REF_CPU_CYCLES",
        }
    }

    fn id(self) -> u32 {
        match self {
            HardwareCounter::CpuCycles => b::PERF_COUNT_HW_CPU_CYCLES,
            HardwareCounter::Instructions => b::PERF_COUNT_HW_INSTRUCTIONS,
            HardwareCounter::CacheReferences => b::PERF_COUNT_HW_CACHE_REFERENCES,
            HardwareCounter::CacheMisses => b::PERF_COUNT_HW_CACHE_MISSES,
            HardwareCounter::BranchInstructions => b::PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
            HardwareCounter::BranchMisses => b::PERF_COUNT_HW_BRANCH_MISSES,
            HardwareCounter::StalledCyclesFrontend => b::PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
            HardwareCounter::StalledCyclesBackend => b::PERF_COUNT_HW_STALLED_CYCLES_BACKEND,
            HardwareCounter::RefCycles => b::PERF_COUNT_HW_REF_CPU_CYCLES,
        }
    }
}

/// One counter to open: what perf_event_attr needs, and how to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSpec {
    /// A short name for reports (`cycles`, `aperf`).
    pub name: String,
    /// The counter as perf_event_attr names it, for error messages.
    pub describe: String,
    /// Type and config words.
    pub raw: RawEvent,
}

impl CounterSpec {
    /// A generic hardware counter.
    pub fn hardware(name: &str, counter: HardwareCounter) -> CounterSpec {
        CounterSpec {
            name: name.to_owned(),
            describe: format!("PERF_TYPE_HARDWARE, {}", counter.kernel_name()),
            raw: RawEvent { pmu_type: b::PERF_TYPE_HARDWARE, config: u64::from(counter.id()), ..RawEvent::default() },
        }
    }

    /// A named event of a PMU from sysfs (`msr/aperf/`); fails naming the missing event file.
    pub fn from_pmu(pmu: &Pmu, event: &str) -> Result<CounterSpec, Error> {
        let raw = pmu.encode(event)?;
        Ok(CounterSpec {
            name: event.to_owned(),
            describe: format!("{}/{event}/ (type {}, config {:#x})", pmu.name, raw.pmu_type, raw.config),
            raw,
        })
    }

    fn attr(&self, inherit: bool) -> perf_event_attr {
        let mut attr = perf_event_attr {
            type_: self.raw.pmu_type,
            size: u32::try_from(std::mem::size_of::<perf_event_attr>()).unwrap_or(b::PERF_ATTR_SIZE_VER8),
            config: self.raw.config,
            read_format: u64::from(b::PERF_FORMAT_TOTAL_TIME_ENABLED | b::PERF_FORMAT_TOTAL_TIME_RUNNING),
            ..perf_event_attr::default()
        };
        attr.__bindgen_anon_3.config1 = self.raw.config1;
        attr.__bindgen_anon_4.config2 = self.raw.config2;
        attr.set_disabled(1);
        attr.set_inherit(u64::from(inherit));
        attr
    }
}

/// What to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountTarget {
    /// Every process, one counter per online CPU (pid -1), as `perf stat -a`.
    AllCpus,
    /// One process: a counter per existing thread on any CPU, inherited by threads and children
    /// created later, as `perf stat -p`.
    Pid(u32),
}

/// One read of a counter: its value and its time enabled and running, all cumulative since
/// the counter was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterReading {
    /// The raw count.
    pub value: u64,
    /// Nanoseconds the counter was enabled.
    pub time_enabled: u64,
    /// Nanoseconds the counter was actually on the PMU (less than enabled when multiplexed).
    pub time_running: u64,
}

impl CounterReading {
    /// What changed since `earlier`, field by field (0 where a field went backwards).
    pub fn delta(&self, earlier: &CounterReading) -> CounterReading {
        CounterReading {
            value: self.value.saturating_sub(earlier.value),
            time_enabled: self.time_enabled.saturating_sub(earlier.time_enabled),
            time_running: self.time_running.saturating_sub(earlier.time_running),
        }
    }

    /// The sum of two readings (counters of several CPUs or threads).
    pub fn plus(&self, other: &CounterReading) -> CounterReading {
        CounterReading {
            value: self.value.saturating_add(other.value),
            time_enabled: self.time_enabled.saturating_add(other.time_enabled),
            time_running: self.time_running.saturating_add(other.time_running),
        }
    }

    /// The count estimated over the whole enabled time: `value × enabled / running`. None when
    /// the counter never ran (nothing was measured, which is not zero).
    pub fn scaled(&self) -> Option<f64> {
        if self.time_running == 0 {
            return None;
        }
        if self.time_running >= self.time_enabled {
            return Some(self.value as f64);
        }
        Some(self.value as f64 * self.time_enabled as f64 / self.time_running as f64)
    }

    /// The share of enabled time the counter ran, 0 to 1 (1 when enabled time is 0).
    pub fn coverage(&self) -> f64 {
        if self.time_enabled == 0 { 1.0 } else { (self.time_running as f64 / self.time_enabled as f64).min(1.0) }
    }
}

/// One counter's readings, one per CPU (`Some(cpu)`) or per thread (`None`).
pub type Readings = Vec<(Option<u32>, CounterReading)>;

/// One open counter on one CPU or thread.
#[derive(Debug)]
struct OpenCounter {
    cpu: Option<u32>,
    fd: OwnedFd,
}

/// Open counting events: for each [`CounterSpec`], one fd per CPU or per thread. Opened
/// disabled; [`Counting::enable`] starts them.
#[derive(Debug)]
pub struct Counting {
    specs: Vec<CounterSpec>,
    counters: Vec<Vec<OpenCounter>>,
}

impl Counting {
    /// Opens every spec for `target`; the first counter the kernel refuses fails the whole set
    /// with an error naming it (see [`Counting::open_available`] to keep the rest).
    pub fn open(specs: &[CounterSpec], target: CountTarget) -> Result<Counting, Error> {
        let (counting, mut refused) = Counting::open_available(specs, target)?;
        match refused.drain(..).next() {
            Some((_, e)) => Err(e),
            None => Ok(counting),
        }
    }

    /// Opens every spec it can; a counter the machine lacks (or the kernel refuses) is returned
    /// beside the set with its error instead of failing the rest. A missing process fails all.
    pub fn open_available(
        specs: &[CounterSpec],
        target: CountTarget,
    ) -> Result<(Counting, Vec<(CounterSpec, Error)>), Error> {
        let places: Vec<(i32, i32, Option<u32>)> = match target {
            CountTarget::AllCpus => online_cpus()?
                .into_iter()
                .map(|cpu| Ok((-1, cpu_arg(cpu)?, Some(cpu))))
                .collect::<Result<_, Error>>()?,
            CountTarget::Pid(pid) => {
                threads_of(pid)?.into_iter().map(|tid| Ok((pid_arg(tid)?, -1, None))).collect::<Result<_, Error>>()?
            }
        };
        let inherit = matches!(target, CountTarget::Pid(_));
        let mut kept = Vec::new();
        let mut counters = Vec::new();
        let mut refused = Vec::new();
        for spec in specs {
            let attr = spec.attr(inherit);
            let mut fds = Vec::with_capacity(places.len());
            let mut failure = None;
            for &(pid, cpu, cpu_id) in &places {
                match sys::perf_event_open(&attr, pid, cpu) {
                    Ok(fd) => fds.push(OpenCounter { cpu: cpu_id, fd }),
                    // A thread that exited since it was listed is not a failure.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) && places.len() > 1 => {}
                    Err(e) => {
                        failure = Some(open_error(spec, e, pid, cpu, target));
                        break;
                    }
                }
            }
            match failure {
                Some(Error::NoSuchProcess { pid }) => return Err(Error::NoSuchProcess { pid }),
                Some(e) => refused.push((spec.clone(), e)),
                None if fds.is_empty() => {
                    let pid = match target {
                        CountTarget::Pid(pid) => pid,
                        CountTarget::AllCpus => 0,
                    };
                    return Err(Error::NoSuchProcess { pid });
                }
                None => {
                    kept.push(spec.clone());
                    counters.push(fds);
                }
            }
        }
        Ok((Counting { specs: kept, counters }, refused))
    }

    /// The counters that are open, in the order of [`Counting::read`].
    pub fn specs(&self) -> &[CounterSpec] {
        &self.specs
    }

    /// Starts every counter.
    pub fn enable(&self) -> Result<(), Error> {
        self.each_fd(|fd| sys::enable(fd).map_err(|source| Error::Ioctl { op: "PERF_EVENT_IOC_ENABLE", source }))
    }

    /// Stops every counter; their values can still be read.
    pub fn disable(&self) -> Result<(), Error> {
        self.each_fd(|fd| sys::disable(fd).map_err(|source| Error::Ioctl { op: "PERF_EVENT_IOC_DISABLE", source }))
    }

    fn each_fd(&self, f: impl Fn(std::os::fd::BorrowedFd<'_>) -> Result<(), Error>) -> Result<(), Error> {
        self.counters.iter().flatten().try_for_each(|c| f(c.fd.as_fd()))
    }

    /// Reads every counter: for each spec, its readings by CPU (`Some(cpu)` for
    /// [`CountTarget::AllCpus`], `None` per thread otherwise). Readings are cumulative; take
    /// [`CounterReading::delta`]s between two reads.
    pub fn read(&self) -> Result<Vec<Readings>, Error> {
        self.counters
            .iter()
            .map(|fds| {
                fds.iter()
                    .map(|c| {
                        let [value, time_enabled, time_running] =
                            sys::read_counter(c.fd.as_fd()).map_err(|source| Error::Ioctl { op: "read", source })?;
                        Ok((c.cpu, CounterReading { value, time_enabled, time_running }))
                    })
                    .collect()
            })
            .collect()
    }
}

fn cpu_arg(cpu: u32) -> Result<i32, Error> {
    i32::try_from(cpu).map_err(|_| Error::InvalidConfig(format!("CPU {cpu} out of range")))
}

fn pid_arg(pid: u32) -> Result<i32, Error> {
    i32::try_from(pid).map_err(|_| Error::NoSuchProcess { pid })
}

/// Maps a failed perf_event_open of a counter to the error the user can act on.
fn open_error(spec: &CounterSpec, source: io::Error, pid: i32, cpu: i32, target: CountTarget) -> Error {
    match source.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => {
            let needed = if matches!(target, CountTarget::AllCpus) { 0 } else { 1 };
            Error::PermissionDenied { needed, current: current_paranoid(), source }
        }
        Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV) => {
            Error::CounterUnsupported { counter: spec.describe.clone(), source }
        }
        Some(libc::ESRCH) => Error::NoSuchProcess { pid: pid.unsigned_abs() },
        _ => Error::Open { pid, cpu, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(value: u64, time_enabled: u64, time_running: u64) -> CounterReading {
        CounterReading { value, time_enabled, time_running }
    }

    #[test]
    fn scales_multiplexed_counts() {
        // Recorded from perf stat on a 4-counter Intel core with 6 events: ran 2/3 of the time.
        let r = reading(2_000_000, 3_000_000, 2_000_000);
        assert_eq!(r.scaled(), Some(3_000_000.0));
        assert!((r.coverage() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(reading(5, 10, 10).scaled(), Some(5.0));
        assert_eq!(reading(0, 10, 0).scaled(), None, "never ran is not zero");
        assert_eq!(reading(0, 0, 0).coverage(), 1.0);
    }

    #[test]
    fn deltas_and_sums() {
        let a = reading(100, 1_000, 900);
        let b = reading(250, 2_000, 1_700);
        assert_eq!(b.delta(&a), reading(150, 1_000, 800));
        assert_eq!(a.delta(&b), reading(0, 0, 0), "backwards is zero");
        assert_eq!(a.plus(&b), reading(350, 3_000, 2_600));
    }

    #[test]
    fn hardware_specs_name_the_kernel_counter() {
        let spec = CounterSpec::hardware("cycles", HardwareCounter::CpuCycles);
        assert_eq!(spec.describe, "PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES");
        let attr = spec.attr(true);
        assert_eq!((attr.type_, attr.config, attr.inherit(), attr.disabled()), (0, 0, 1, 1));
        assert_eq!(attr.read_format, 3);
        let err = open_error(&spec, io::Error::from_raw_os_error(libc::ENOENT), -1, 0, CountTarget::AllCpus);
        assert_eq!(err.to_string(), "perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) failed");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(cause, Some(io::Error::from_raw_os_error(libc::ENOENT).to_string()));
    }

    #[test]
    fn software_counters_count_on_this_machine() {
        // Task-clock works on every machine, virtual or not, so the open/enable/read path is real.
        let spec = CounterSpec {
            name: "task-clock".to_owned(),
            describe: "PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK".to_owned(),
            raw: RawEvent {
                pmu_type: b::PERF_TYPE_SOFTWARE,
                config: u64::from(b::PERF_COUNT_SW_TASK_CLOCK),
                ..RawEvent::default()
            },
        };
        let counting = match Counting::open(&[spec], CountTarget::Pid(std::process::id())) {
            Ok(c) => c,
            Err(Error::PermissionDenied { .. }) if std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() != Ok("1") => {
                return;
            }
            Err(e) => panic!("{e}"),
        };
        // The kernel's own count of this thread's time on CPU, to compare with on a loaded machine.
        let on_cpu_ns = || -> u64 {
            let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
            text.split_whitespace().next().unwrap().parse().unwrap()
        };
        counting.enable().unwrap();
        let start = on_cpu_ns();
        let mut spin = 0u64;
        while on_cpu_ns() - start < 30_000_000 {
            spin = spin.wrapping_add(1);
        }
        let ran = on_cpu_ns() - start;
        counting.disable().unwrap();
        let reads = counting.read().unwrap();
        let total = reads[0].iter().fold(CounterReading::default(), |acc, (_, r)| acc.plus(r));
        assert!(total.value >= ran * 9 / 10, "task-clock {} ns, schedstat {ran} ns ({spin} spins)", total.value);
    }
}
