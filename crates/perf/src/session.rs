//! A sampling session: the events opened for a [`SamplingConfig`], their ring buffers, and the
//! loop primitives `poll` / `drain` that turn ring bytes into [`Record`]s.
//!
//! Design decision: one ring buffer per CPU, whatever the target. For all CPUs that is one event
//! per CPU; for processes (one event per thread per CPU, as `perf record -p`) and for a child
//! command, the first event on a CPU owns the ring and the others are redirected into it with
//! PERF_EVENT_IOC_SET_OUTPUT, so memory and poll cost grow with CPUs, not threads. Inherited
//! per-task events need per-CPU rings anyway: the kernel refuses to mmap an inherited event
//! opened on every CPU (cpu -1).

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use crate::config::{SamplingConfig, Target};
use crate::cpus::{online_cpus, threads_of};
use crate::error::Error;
use crate::record::{Record, RecordLayout};
use crate::ring::{RingBuffer, split_records};
use crate::sys;

/// Counters of one session, cumulative since it opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Records handed to the caller.
    pub records: u64,
    /// Of those, samples.
    pub samples: u64,
    /// Bytes copied out of the ring buffers.
    pub bytes: u64,
    /// PERF_RECORD_LOST records seen (each reports a batch of lost records).
    pub lost_notices: u64,
    /// Records the kernel dropped because a ring buffer was full (sum of PERF_RECORD_LOST).
    pub lost_records: u64,
    /// Samples the kernel dropped (sum of PERF_RECORD_LOST_SAMPLES).
    pub lost_samples: u64,
    /// PERF_RECORD_THROTTLE records: the kernel lowered the sampling rate.
    pub throttles: u64,
    /// PERF_RECORD_UNTHROTTLE records.
    pub unthrottles: u64,
    /// Records of kinds this crate does not decode; skipped.
    pub unknown_records: u64,
    /// Records whose bytes did not parse, and runs of bytes that could not be cut into records.
    pub malformed_records: u64,
    /// Threads that exited between listing and opening (Target::Pids); not an error.
    pub threads_gone: u64,
}

/// What [`Session::poll`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Ring buffers with data past their wakeup watermark.
    pub readable: usize,
    /// Ring buffers whose owning event is gone (the watched task exited). Such a ring stays
    /// "hung up", so poll returns at once from then on. For [`Target::Pids`] a ring's owner is
    /// the first thread of the first pid; other threads may still be writing into it.
    pub hung_up: usize,
    /// Ring buffers in the session.
    pub rings: usize,
}

impl Readiness {
    /// Every ring's task is gone: a per-process session has nothing left to watch.
    pub fn all_hung_up(&self) -> bool {
        self.rings > 0 && self.hung_up == self.rings
    }
}

/// Open perf events and their ring buffers. Opened disabled: call [`Session::enable`] (or, for
/// [`Target::ChildExec`], let the child exec), then alternate [`Session::poll`] and
/// [`Session::drain`]. Dropping it closes everything.
#[derive(Debug)]
pub struct Session {
    rings: Vec<RingBuffer>,
    /// Events redirected into a ring (their own fds stay open here).
    redirected: Vec<OwnedFd>,
    layout: RecordLayout,
    scratch: Vec<u8>,
    stats: SessionStats,
    /// The events were opened with PERF_FORMAT_LOST.
    reads_lost: bool,
}

impl Session {
    /// Opens the events and maps the rings for `config`.
    pub fn open(config: &SamplingConfig) -> Result<Session, Error> {
        config.validate()?;
        let layout = config.layout()?;
        let cpus = online_cpus()?;
        let mut opener = Opener { config, attr: config.attr(), rings: BTreeMap::new(), redirected: Vec::new() };
        let mut threads_gone = 0;
        match &config.target {
            Target::AllCpus => {
                for &cpu in &cpus {
                    opener.open(-1, cpu)?;
                }
            }
            Target::ChildExec { pid } => {
                for &cpu in &cpus {
                    opener.open(pid_arg(*pid)?, cpu)?;
                }
            }
            Target::Pids(pids) => {
                for &pid in pids {
                    let mut opened = 0;
                    for tid in threads_of(pid)? {
                        match cpus.iter().try_for_each(|&cpu| opener.open(pid_arg(tid)?, cpu)) {
                            Ok(()) => opened += 1,
                            Err(Error::NoSuchProcess { .. }) => threads_gone += 1,
                            Err(e) => return Err(e),
                        }
                    }
                    if opened == 0 {
                        return Err(Error::NoSuchProcess { pid });
                    }
                }
            }
        }
        let stats = SessionStats { threads_gone, ..SessionStats::default() };
        let reads_lost = opener.attr.read_format != 0;
        let rings = opener.rings.into_values().collect();
        Ok(Session { rings, redirected: opener.redirected, layout, scratch: Vec::new(), stats, reads_lost })
    }

    fn all_fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        self.rings.iter().map(RingBuffer::fd).chain(self.redirected.iter().map(AsFd::as_fd))
    }

    /// Starts sampling on every event.
    pub fn enable(&self) -> Result<(), Error> {
        self.all_fds()
            .try_for_each(|fd| sys::enable(fd).map_err(|source| Error::Ioctl { op: "PERF_EVENT_IOC_ENABLE", source }))
    }

    /// Stops sampling on every event; records already written can still be drained.
    pub fn disable(&self) -> Result<(), Error> {
        self.all_fds()
            .try_for_each(|fd| sys::disable(fd).map_err(|source| Error::Ioctl { op: "PERF_EVENT_IOC_DISABLE", source }))
    }

    /// Waits until a ring passes its wakeup watermark, a watched task exits, or `timeout`
    /// passes (`None`: no limit). A signal ends the wait early with nothing ready.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<Readiness, Error> {
        let fds: Vec<BorrowedFd<'_>> = self.rings.iter().map(RingBuffer::fd).collect();
        let states = sys::poll(&fds, timeout).map_err(Error::Poll)?;
        Ok(Readiness {
            readable: states.iter().filter(|s| s.readable).count(),
            hung_up: states.iter().filter(|s| s.hung_up).count(),
            rings: fds.len(),
        })
    }

    /// Reads every ring buffer, appends the records to `out` and returns how many. The batch
    /// is sorted by timestamp (stably), so a mapping seen on one CPU precedes the samples that
    /// use it on another; records of different calls are not reordered. Lost, throttle and
    /// unknown records are counted in [`Session::stats`]; lost and throttle records are also
    /// returned, unknown kinds and malformed bytes are not.
    pub fn drain(&mut self, out: &mut Vec<Record>) -> usize {
        let first = out.len();
        for ring in &mut self.rings {
            self.scratch.clear();
            let read = ring.read_into(&mut self.scratch);
            self.stats.bytes += read as u64;
            for bytes in split_records(&self.scratch) {
                let Ok(bytes) = bytes else {
                    self.stats.malformed_records += 1;
                    continue;
                };
                match self.layout.parse(bytes) {
                    Ok(record) => {
                        if count(&mut self.stats, &record) {
                            out.push(record);
                        }
                    }
                    Err(_) => self.stats.malformed_records += 1,
                }
            }
        }
        if let Some(batch) = out.get_mut(first..) {
            batch.sort_by_key(|r| r.time().unwrap_or(0));
        }
        out.len() - first
    }

    /// The session's counters so far.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Samples the kernel dropped because a ring buffer was full, summed over the events
    /// (PERF_FORMAT_LOST, read with read(2)). Unlike PERF_RECORD_LOST, which the kernel writes
    /// only when a later record fits again, this count is current; it is the one to report at
    /// the end of a session. Inherited copies of an event (threads created after opening) are
    /// not included. `None` on kernels before 6.0.
    pub fn read_lost_samples(&self) -> Result<Option<u64>, Error> {
        if !self.reads_lost {
            return Ok(None);
        }
        self.all_fds()
            .map(|fd| sys::read_value_and_lost(fd).map(|[_, lost]| lost))
            .sum::<Result<u64, _>>()
            .map(Some)
            .map_err(|source| Error::Ioctl { op: "read", source })
    }

    /// The CPUs that have a ring buffer, in order.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(RingBuffer::cpu).collect()
    }

    /// How many events are open (rings plus events redirected into them).
    pub fn event_count(&self) -> usize {
        self.rings.len() + self.redirected.len()
    }
}

/// Updates the counters for one record; false when the record is not handed out.
fn count(stats: &mut SessionStats, record: &Record) -> bool {
    match record {
        Record::Sample(_) => stats.samples += 1,
        Record::Lost { count, .. } => {
            stats.lost_notices += 1;
            stats.lost_records += count;
        }
        Record::LostSamples { count, .. } => stats.lost_samples += count,
        Record::Throttle(_) => stats.throttles += 1,
        Record::Unthrottle(_) => stats.unthrottles += 1,
        Record::Unknown { .. } => {
            stats.unknown_records += 1;
            return false;
        }
        Record::Mmap(_) | Record::Comm(_) | Record::Fork(_) | Record::Exit(_) => {}
    }
    stats.records += 1;
    true
}

fn pid_arg(pid: u32) -> Result<i32, Error> {
    i32::try_from(pid).map_err(|_| Error::NoSuchProcess { pid })
}

/// Opens events one by one, giving the first event of each CPU a ring and redirecting the rest.
struct Opener<'a> {
    config: &'a SamplingConfig,
    attr: perf_event_open_sys::bindings::perf_event_attr,
    rings: BTreeMap<u32, RingBuffer>,
    redirected: Vec<OwnedFd>,
}

impl Opener<'_> {
    fn open(&mut self, pid: i32, cpu: u32) -> Result<(), Error> {
        let cpu_arg = i32::try_from(cpu).map_err(|_| Error::InvalidConfig(format!("CPU {cpu} out of range")))?;
        let fd = match sys::perf_event_open(&self.attr, pid, cpu_arg) {
            // Kernels before 6.0 know no PERF_FORMAT_LOST: retry once without it.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && self.attr.read_format != 0 => {
                self.attr.read_format = 0;
                sys::perf_event_open(&self.attr, pid, cpu_arg)
            }
            other => other,
        }
        .map_err(|e| open_error(self.config, e, pid, cpu_arg))?;
        match self.rings.get(&cpu) {
            Some(ring) => {
                sys::set_output(fd.as_fd(), ring.fd())
                    .map_err(|source| Error::Ioctl { op: "PERF_EVENT_IOC_SET_OUTPUT", source })?;
                self.redirected.push(fd);
            }
            None => {
                let pages = self.config.ring_pages;
                let ring = RingBuffer::new(fd, cpu, pages).map_err(|source| Error::Mmap {
                    cpu,
                    bytes: pages.saturating_add(1).saturating_mul(sys::page_size()),
                    source,
                })?;
                self.rings.insert(cpu, ring);
            }
        }
        Ok(())
    }
}

/// Maps a failed perf_event_open to the error the user can act on.
fn open_error(config: &SamplingConfig, source: io::Error, pid: i32, cpu: i32) -> Error {
    match source.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => {
            Error::PermissionDenied { needed: config.paranoid_level_needed(), current: current_paranoid(), source }
        }
        Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV) => Error::EventUnsupported { event: config.event, source },
        Some(libc::ESRCH) => Error::NoSuchProcess { pid: pid.unsigned_abs() },
        _ => Error::Open { pid, cpu, source },
    }
}

/// The current `kernel.perf_event_paranoid`, or why it could not be read.
pub fn current_paranoid() -> String {
    match std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid") {
        Ok(text) => text.trim().to_owned(),
        Err(e) => format!("unknown ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Event;

    #[test]
    fn open_errors_become_actionable() {
        let config = SamplingConfig { event: Event::PageFaults, ..SamplingConfig::default() };
        let err = |errno| open_error(&config, io::Error::from_raw_os_error(errno), -1, 0);
        let denied = err(libc::EACCES);
        assert!(matches!(denied, Error::PermissionDenied { needed: 0, .. }), "{denied:?}");
        let text = denied.to_string();
        for part in ["root", "CAP_PERFMON", "sysctl kernel.perf_event_paranoid=0", "current value is"] {
            assert!(text.contains(part), "{text}");
        }
        assert!(text.contains(&current_paranoid()), "{text}");
        assert!(matches!(err(libc::EPERM), Error::PermissionDenied { .. }));
        for errno in [libc::ENOENT, libc::EOPNOTSUPP, libc::ENODEV] {
            let e = err(errno);
            assert!(matches!(e, Error::EventUnsupported { event: Event::PageFaults, .. }));
            assert!(e.to_string().starts_with("the page-faults event is not supported"), "{e}");
        }
        let gone = open_error(&config, io::Error::from_raw_os_error(libc::ESRCH), 1234, 0);
        assert!(matches!(gone, Error::NoSuchProcess { pid: 1234 }));
        assert!(matches!(err(libc::EINVAL), Error::Open { pid: -1, cpu: 0, .. }));
    }

    #[test]
    fn counting_sorts_records_into_stats() {
        let mut stats = SessionStats::default();
        let sample_id = crate::record::SampleId::default();
        assert!(count(&mut stats, &Record::Lost { id: 1, count: 5, sample_id }));
        assert!(count(&mut stats, &Record::LostSamples { count: 2, sample_id }));
        assert!(!count(&mut stats, &Record::Unknown { kind: 99, size: 8 }));
        assert_eq!((stats.records, stats.lost_notices, stats.lost_records, stats.lost_samples), (2, 1, 5, 2));
        assert_eq!(stats.unknown_records, 1);
        let hung = Readiness { readable: 0, hung_up: 2, rings: 2 };
        assert!(hung.all_hung_up() && !Readiness::default().all_hung_up());
    }
}
