//! Tests against the running kernel: real perf events, real ring buffers, real records.
//!
//! They need perf_event_open. Where it is denied they print why and pass, unless
//! `PLUMB_REQUIRE_PRIVILEGED=1` (set by CI), where a denial fails the test. Design decision: each
//! test makes its own work (a busy thread, an exec'd shell, page faults, sleeps) and asserts on
//! records that can only come from that work, so the tests do not depend on what else the machine
//! runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use plumb_perf::{Error, Event, Record, SampleMode, SampleRate, SamplingConfig, Session, Target};

/// Opens a session, or returns None (skip) when perf_event_open is denied and CI did not
/// demand privileges.
fn open_or_skip(config: &SamplingConfig) -> Option<Session> {
    match Session::open(config) {
        Ok(session) => Some(session),
        Err(e @ Error::PermissionDenied { .. }) => {
            assert!(std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() != Ok("1"), "PLUMB_REQUIRE_PRIVILEGED=1: {e}");
            eprintln!("skipping: {e}");
            None
        }
        Err(e) => panic!("opening the session failed: {e}"),
    }
}

/// Polls and drains until `until` says stop or `limit` passes, then disables and drains once more.
fn collect(session: &mut Session, limit: Duration, mut until: impl FnMut() -> bool) -> Vec<Record> {
    let mut records = Vec::new();
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && !until() {
        session.poll(Some(Duration::from_millis(20))).unwrap();
        session.drain(&mut records);
    }
    session.disable().unwrap();
    session.drain(&mut records);
    records
}

/// This thread's kernel thread id, from /proc/thread-self.
fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// A thread that spins until stopped; returns its tid.
fn busy_thread(stop: Arc<AtomicBool>) -> (u32, JoinHandle<u64>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        tx.send(gettid()).unwrap();
        let mut x = 0u64;
        while !stop.load(Ordering::Relaxed) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        x
    });
    (rx.recv().unwrap(), handle)
}

/// This thread's minor page faults so far (field 10 of /proc/thread-self/stat).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    after_comm.split(' ').nth(7).unwrap().parse().unwrap()
}

fn samples(records: &[Record]) -> impl Iterator<Item = &plumb_perf::Sample> {
    records.iter().filter_map(|r| if let Record::Sample(s) = r { Some(s) } else { None })
}

#[test]
fn all_cpus_sees_a_busy_thread_and_a_child_exec() {
    let config = SamplingConfig { rate: SampleRate::Frequency(499), ..SamplingConfig::default() };
    let Some(mut session) = open_or_skip(&config) else { return };
    assert_eq!(session.cpus(), plumb_perf::online_cpus().unwrap());
    session.enable().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (busy_tid, busy) = busy_thread(stop.clone());
    // A child that execs this test binary: the kernel must report its mapping and comm.
    let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
    let child = Command::new(&exe).arg("--list").stdout(Stdio::null()).status().unwrap();
    assert!(child.success());
    let started = Instant::now();
    let records = collect(&mut session, Duration::from_secs(5), || started.elapsed() > Duration::from_millis(600));
    stop.store(true, Ordering::Relaxed);
    busy.join().unwrap();

    let ours: Vec<_> = samples(&records).filter(|s| s.tid == busy_tid).collect();
    assert!(ours.len() >= 20, "only {} samples of the busy thread", ours.len());
    for s in &ours {
        assert_eq!(s.pid, std::process::id());
        assert!(!s.kernel_ips.is_empty() || !s.user_ips.is_empty(), "{s:?}");
        assert!(s.period > 0 && s.time.is_some());
    }
    let in_user: Vec<_> = ours.iter().filter(|s| s.cpu_mode == plumb_perf::CpuMode::User).collect();
    assert!(in_user.len() * 2 >= ours.len(), "a spinning thread is mostly in user space");
    for s in &in_user {
        let regs = s.user_regs.expect("user registers");
        assert_eq!(s.user_ips.first(), Some(&regs.ip), "the callchain starts at the sampled ip");
        assert_eq!(regs.ip, s.ip);
        assert!(regs.sp != 0 && !s.user_stack.is_empty() && s.user_stack.len() <= 16384);
    }
    assert!(samples(&records).any(|s| !s.kernel_ips.is_empty()), "some sample has a kernel callchain");

    let child_comm = records.iter().find_map(|r| match r {
        Record::Comm(c) if c.exec && exe.file_name().unwrap().to_string_lossy().starts_with(&c.comm) => Some(c.pid),
        _ => None,
    });
    let child_pid = child_comm.expect("a COMM exec record for the child");
    assert!(
        records.iter().any(|r| matches!(r, Record::Mmap(m) if m.pid == child_pid && m.executable && m.path == exe)),
        "an executable MMAP2 of {} in the child",
        exe.display()
    );
    assert!(records.iter().any(|r| matches!(r, Record::Fork(f) if f.pid == child_pid)));
    assert!(records.iter().any(|r| matches!(r, Record::Exit(e) if e.pid == child_pid)));

    let stats = session.stats();
    assert_eq!(stats.samples, samples(&records).count() as u64);
    assert_eq!(stats.records, records.len() as u64);
    assert_eq!((stats.malformed_records, stats.unknown_records), (0, 0));
}

#[test]
fn child_exec_is_profiled_from_its_exec() {
    // The shell waits for a line, then execs a second shell that spins: only the exec enables
    // the events.
    let mut child = Command::new("/bin/sh")
        .args(["-c", "read line; exec /bin/sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done'"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let config = SamplingConfig {
        target: Target::ChildExec { pid },
        rate: SampleRate::Frequency(499),
        ..SamplingConfig::default()
    };
    let Some(mut session) = open_or_skip(&config) else {
        child.kill().unwrap();
        child.wait().unwrap();
        return;
    };
    let mut early = Vec::new();
    std::thread::sleep(Duration::from_millis(50));
    session.drain(&mut early);
    assert!(samples(&early).next().is_none(), "nothing is sampled before the exec");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut exited = false;
    let records = collect(&mut session, Duration::from_secs(20), || {
        exited = exited || child.try_wait().unwrap().is_some();
        exited
    });
    assert!(exited, "the spinning shell finished");

    let ours: Vec<_> = samples(&records).filter(|s| s.pid == pid).collect();
    assert!(ours.len() >= 5, "only {} samples of the child", ours.len());
    assert!(samples(&records).all(|s| s.pid == pid), "only the child is sampled");
    assert!(records.iter().any(|r| matches!(r, Record::Comm(c) if c.pid == pid && c.exec)));
    let shell = PathBuf::from("/bin/sh").canonicalize().unwrap();
    assert!(
        records.iter().any(|r| matches!(r, Record::Mmap(m) if m.pid == pid && m.executable && m.path == shell)),
        "an MMAP2 of {} after the exec",
        shell.display()
    );
}

#[test]
fn pids_follow_existing_and_new_threads() {
    let stop = Arc::new(AtomicBool::new(false));
    let (before_tid, before) = busy_thread(stop.clone());
    let config = SamplingConfig {
        target: Target::Pids(vec![std::process::id()]),
        rate: SampleRate::Frequency(499),
        ..SamplingConfig::default()
    };
    let Some(mut session) = open_or_skip(&config) else {
        stop.store(true, Ordering::Relaxed);
        before.join().unwrap();
        return;
    };
    assert!(session.event_count() > session.cpus().len(), "one event per thread per CPU");
    session.enable().unwrap();
    let (after_tid, after) = busy_thread(stop.clone());
    let started = Instant::now();
    let records = collect(&mut session, Duration::from_secs(5), || started.elapsed() > Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    before.join().unwrap();
    after.join().unwrap();

    assert!(samples(&records).all(|s| s.pid == std::process::id()), "only this process is sampled");
    for tid in [before_tid, after_tid] {
        let n = samples(&records).filter(|s| s.tid == tid).count();
        assert!(n >= 10, "thread {tid} has only {n} samples");
    }
    assert!(records.iter().any(|r| matches!(r, Record::Fork(f) if f.tid == after_tid)), "the new thread's FORK");
}

#[test]
fn page_faults_and_context_switches_sample_their_events() {
    let faults = SamplingConfig {
        event: Event::PageFaults,
        rate: SampleRate::Period(1),
        target: Target::Pids(vec![std::process::id()]),
        mode: SampleMode::UserOnly,
        ..SamplingConfig::default()
    };
    let Some(mut session) = open_or_skip(&faults) else { return };
    session.enable().unwrap();
    let tid = gettid();
    let faults_before = minor_faults();
    let mut pages = vec![0u8; 4096 * 4096];
    for page in pages.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(&pages);
    let faulted = minor_faults() - faults_before;
    let records = collect(&mut session, Duration::ZERO, || true);
    let n = samples(&records).filter(|s| s.tid == tid).count() as u64;
    // Nothing reads the ring while this thread faults, so it fills: what does not fit must be
    // reported as lost, never silently missing.
    let lost = session.read_lost_samples().unwrap().expect("Linux 6.0+ counts lost samples");
    assert!(faulted > 0 && n + lost >= faulted, "{n} samples + {lost} lost for {faulted} faults of this thread");
    assert!(n >= 20 && lost > 0, "{n} samples, {lost} lost");
    assert!(samples(&records).all(|s| s.cpu_mode == plumb_perf::CpuMode::User), "user-only mode");

    // A switch happens in the kernel: with exclude_kernel (UserOnly) nothing would be sampled.
    let switches = SamplingConfig { event: Event::ContextSwitches, mode: SampleMode::KernelAndUser, ..faults };
    let Some(mut session) = open_or_skip(&switches) else { return };
    session.enable().unwrap();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let records = collect(&mut session, Duration::ZERO, || true);
    let n = samples(&records).filter(|s| s.tid == tid).count();
    assert!(n >= 20, "only {n} context-switch samples for 20 sleeps");
    assert_eq!(session.read_lost_samples().unwrap(), Some(0));
}

#[test]
fn a_tiny_ring_wraps_without_corrupt_records() {
    let config = SamplingConfig {
        rate: SampleRate::Frequency(2000),
        ring_pages: 2,
        user_stack_bytes: 1024,
        wakeup_watermark: Some(1024),
        ..SamplingConfig::default()
    };
    let Some(mut session) = open_or_skip(&config) else { return };
    session.enable().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (_, busy) = busy_thread(stop.clone());
    let started = Instant::now();
    let records = collect(&mut session, Duration::from_secs(5), || started.elapsed() > Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    busy.join().unwrap();
    let stats = session.stats();
    let ring_bytes = 2 * 4096 * session.cpus().len() as u64;
    assert!(stats.bytes > 4 * ring_bytes, "read {} bytes: the rings wrapped several times", stats.bytes);
    assert_eq!(stats.malformed_records, 0, "records crossing the end of a ring are reassembled");
    assert!(samples(&records).count() > 100);
    assert!(samples(&records).all(|s| s.user_stack.len() <= 1024));
}
