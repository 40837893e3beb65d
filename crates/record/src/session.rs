//! The recording loop: open the events, read the rings every 100 ms, hand records to the stack
//! table, stop on time, on request or when the command exits, and count what was lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plumb_perf::{Record, SampleMode, SampleRate, SamplingConfig, Session, Target as PerfTarget};
use plumb_profile::{Profile, ProfileMeta, Sampling, WeightUnit};
use plumb_symbolize::{Options as SymbolizeOptions, Symbolizer};

use crate::child::StoppedChild;
use crate::error::RecordError;
use crate::options::{RecordOptions, Target};
use crate::stacks::{SampleStack, StackTable};

/// How long one wait for ring data lasts; also the granularity of stopping.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often the progress callback runs.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

/// Where a recording is, for a live status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Time since sampling started.
    pub elapsed: Duration,
    /// Samples taken so far.
    pub samples: u64,
    /// Samples the kernel reported lost so far.
    pub lost: u64,
}

/// What a session counted besides the profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordingStats {
    /// Samples added to the profile.
    pub samples: u64,
    /// Samples lost: the kernel's count of samples it could not write (ring full), or the sum of
    /// its LOST records where that count is unavailable.
    pub lost: u64,
    /// Samples whose user stack was unwound from a stack copy.
    pub unwound: u64,
    /// Samples whose user stack came from the kernel's frame-pointer callchain.
    pub callchain_only: u64,
    /// Distinct stacks.
    pub distinct_stacks: u64,
    /// Addresses no symbol source could name (shown as module+offset).
    pub unresolved_addresses: u64,
    /// Times the kernel throttled sampling.
    pub throttled: u64,
    /// Warnings from symbolization (files that could not be read, hidden kernel addresses), at
    /// most a few dozen distinct ones.
    pub warnings: Vec<String>,
    /// The profiled command's exit code, when a command was run (`None` if killed by a signal).
    pub exit_code: Option<i32>,
}

/// A finished recording.
#[derive(Debug)]
pub struct Recording {
    /// The profile.
    pub profile: Profile,
    /// What the session counted.
    pub stats: RecordingStats,
}

/// Records a profile as `options` say, until the duration passes, `stop` is set, or the command
/// exits; `progress` is called about twice a second.
pub fn record(
    options: &RecordOptions,
    stop: &AtomicBool,
    mut progress: impl FnMut(Progress),
) -> Result<Recording, RecordError> {
    if options.duration.is_some_and(|d| d.is_zero()) {
        return Err(RecordError::Invalid("the duration must be more than 0 seconds".to_string()));
    }
    let mut child = match &options.target {
        Target::Command(argv) => Some(StoppedChild::spawn(argv)?),
        _ => None,
    };
    let config = SamplingConfig {
        event: options.event,
        rate: options.rate,
        target: match (&options.target, &child) {
            (Target::Pids(pids), _) => PerfTarget::Pids(pids.clone()),
            (_, Some(c)) => PerfTarget::ChildExec { pid: c.pid() },
            _ => PerfTarget::AllCpus,
        },
        // User-only keeps the samples taken in the kernel (charged to the user code that entered
        // it) and drops only their kernel frames; excluding kernel samples would hide system
        // time and leave context switches with no samples at all.
        mode: match options.mode {
            SampleMode::UserOnly => SampleMode::KernelAndUser,
            mode => mode,
        },
        kernel_callchain: options.mode != SampleMode::UserOnly,
        user_stack_bytes: options.user_stack_bytes,
        ..SamplingConfig::default()
    };
    let opened = Session::open(&config);
    let mut session = match opened {
        Ok(s) => s,
        Err(e) => {
            if let Some(c) = child.as_mut() {
                // The user asked for a profile and gets an error instead: the command must not
                // run unprofiled, nor stay behind stopped.
                c.kill_and_wait();
            }
            return Err(e.into());
        }
    };
    raise_open_file_limit();

    let mut meta = ProfileMeta {
        host: options.host.clone(),
        event: Some(options.event.name().to_string()),
        unit: WeightUnit::Samples,
        sampling: Some(match options.rate {
            SampleRate::Frequency(hz) => Sampling::FrequencyHz(hz),
            SampleRate::Period(p) => Sampling::Period(p),
        }),
        start_unix_nanos: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok()),
        ..ProfileMeta::default()
    };
    if let Some(c) = &child {
        meta.command_line = Some(c.command().to_string());
    }
    let roots = options.roots;
    let (batches, inbox) = std::sync::mpsc::channel::<Vec<Record>>();
    // The stacks are unwound and named on their own thread, so a slow first symbolization (a
    // large binary's DWARF) never keeps this thread from emptying the rings in time.
    let worker = std::thread::Builder::new()
        .name("plumb-stacks".to_string())
        .spawn(move || {
            let mut table = StackTable::new(Symbolizer::new(SymbolizeOptions::default()), Profile::new(meta), roots);
            for mut batch in inbox {
                handle(&mut table, &mut batch);
            }
            let counts = table.counts();
            let (profile, mut symbolizer) = table.finish();
            (profile, counts, symbolizer.stats().unresolved, symbolizer.take_warnings())
        })
        .map_err(|e| RecordError::Invalid(format!("cannot start a thread: {e}")))?;

    let start = Instant::now();
    match child.as_ref() {
        Some(c) => c.resume()?,
        None => session.enable()?,
    }
    let deadline = options.duration.map(|d| start + d);
    let mut tally = Tally::default();
    let mut last_progress = start;
    let mut exit_code = None;
    loop {
        let timeout =
            deadline.map_or(POLL_INTERVAL, |d| d.saturating_duration_since(Instant::now()).min(POLL_INTERVAL));
        let ready = session.poll(Some(timeout))?;
        tally.forward(&mut session, &batches);
        let now = Instant::now();
        if now.duration_since(last_progress) >= PROGRESS_INTERVAL {
            last_progress = now;
            progress(Progress { elapsed: now - start, samples: tally.samples, lost: tally.lost_records });
        }
        if let Some(c) = child.as_mut()
            && let Some(status) = c.try_wait()
        {
            exit_code = status.code();
            break;
        }
        if ready.all_hung_up() && matches!(options.target, Target::Pids(_)) {
            // The processes are gone (their main threads exited).
            break;
        }
        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d) {
            break;
        }
    }
    session.disable()?;
    let elapsed = start.elapsed();
    tally.forward(&mut session, &batches);
    drop(batches);
    if let Some(c) = child.as_mut()
        && exit_code.is_none()
    {
        // Stopped by Ctrl-C or the duration: the command got the same Ctrl-C (same process
        // group); wait for it so no zombie is left, but do not hang on one that ignores it.
        if let Ok(status) = wait_briefly(c) {
            exit_code = status;
        }
    }
    let lost = match session.read_lost_samples() {
        Ok(Some(n)) => n.max(tally.lost_records),
        _ => tally.lost_records,
    };
    let (mut profile, counts, unresolved, warnings) =
        worker.join().map_err(|_| RecordError::Invalid("the stack thread failed".to_string()))?;
    progress(Progress { elapsed, samples: counts.samples, lost });
    profile.meta.duration = Some(elapsed);
    profile.meta.lost_samples = lost;
    let stats = RecordingStats {
        samples: counts.samples,
        lost,
        unwound: counts.unwound,
        callchain_only: counts.callchain_only,
        distinct_stacks: counts.distinct,
        unresolved_addresses: unresolved,
        throttled: tally.throttled,
        warnings,
        exit_code,
    };
    Ok(Recording { profile, stats })
}

/// What the reading thread counts as it forwards records.
#[derive(Default)]
struct Tally {
    samples: u64,
    lost_records: u64,
    throttled: u64,
}

impl Tally {
    /// Drains the rings and sends the records to the stack thread.
    fn forward(&mut self, session: &mut Session, to: &std::sync::mpsc::Sender<Vec<Record>>) {
        let mut batch = Vec::new();
        session.drain(&mut batch);
        for record in &batch {
            match record {
                Record::Sample(_) => self.samples += 1,
                Record::Lost { count, .. } | Record::LostSamples { count, .. } => self.lost_records += count,
                Record::Throttle(_) => self.throttled += 1,
                _ => {}
            }
        }
        if !batch.is_empty() {
            // The stack thread only ends after the sender is dropped, so this cannot fail.
            let _ = to.send(batch);
        }
    }
}

fn handle(table: &mut StackTable, records: &mut Vec<Record>) {
    for record in records.drain(..) {
        match record {
            Record::Sample(s) => table.add(SampleStack {
                pid: s.pid,
                tid: s.tid,
                kernel_ips: &s.kernel_ips,
                user_ips: &s.user_ips,
                user_copy: s.user_regs.map(|r| (r.ip, r.sp, r.bp, s.user_stack.as_slice())),
            }),
            Record::Mmap(m) => {
                if m.executable {
                    let path = m.path.to_string_lossy();
                    table.symbolizer().note_mmap(m.pid, m.start, m.len, m.pgoff, &path);
                }
            }
            Record::Comm(c) => table.note_comm(c.pid, c.tid, &c.comm, c.exec),
            Record::Fork(f) => {
                if f.pid != f.ppid {
                    table.symbolizer().note_fork(f.ppid, f.pid);
                }
            }
            Record::Exit(e) => {
                if e.pid == e.tid {
                    table.symbolizer().note_exit(e.pid);
                }
            }
            Record::Lost { .. }
            | Record::LostSamples { .. }
            | Record::Throttle(_)
            | Record::Unthrottle(_)
            | Record::Unknown { .. } => {}
        }
    }
}

/// Waits up to two seconds for the child to end.
fn wait_briefly(child: &mut StoppedChild) -> Result<Option<i32>, ()> {
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Some(status) = child.try_wait() {
            return Ok(status.code());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(())
}

/// The symbolizer keeps one descriptor per module file (two with blazesym's own); a system-wide
/// profile can see hundreds of modules, past the usual soft limit of 1024.
fn raise_open_file_limit() {
    sys::raise_nofile_to_hard_limit();
}

#[allow(unsafe_code)]
mod sys {
    /// Raises the soft RLIMIT_NOFILE to the hard limit; failures are harmless and ignored.
    pub fn raise_nofile_to_hard_limit() {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes one rlimit into the valid, exclusively borrowed `limit`.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            // SAFETY: setrlimit reads one rlimit from the valid `limit`.
            let _ = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        }
    }
}
