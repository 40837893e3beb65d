//! Tests of [`ProcsSource`] on the captured trees in `test_data/procs` (see its README for what
//! each pid stands for) and on the real /proc.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::*;

fn tree(name: &str) -> FsRoot {
    FsRoot::under(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/procs").join(name))
}

/// A source with USER_HZ 100 and 4 KiB pages, the constants the hand arithmetic below uses.
fn source(top: usize) -> ProcsSource {
    ProcsSource::with_constants(top, 100, 4096)
}

fn collect(src: &mut ProcsSource, name: &str, secs: Option<f64>) -> Vec<Sample> {
    let mut out = Vec::new();
    src.collect(&tree(name), secs, &mut out).unwrap();
    out
}

/// The pids of `out` in the order of their `proc.cpu` samples.
fn ranking(out: &[Sample]) -> Vec<&str> {
    out.iter().filter(|s| s.name == "proc.cpu").filter_map(|s| s.tag("pid")).collect()
}

fn value(out: &[Sample], name: &str, pid: &str) -> Option<f64> {
    out.iter().find(|s| s.name == name && s.tag("pid") == Some(pid)).map(|s| s.value)
}

#[test]
fn first_reading_emits_nothing() {
    let mut src = source(3);
    assert!(collect(&mut src, "t0", None).is_empty());
    // Rates need a previous reading even when the caller passes an interval.
    let mut src = source(3);
    assert!(collect(&mut src, "t0", Some(2.0)).is_empty());
}

#[test]
fn second_reading_ranks_the_top_n_with_pidstat_arithmetic() {
    let mut src = source(3);
    collect(&mut src, "t0", None);
    let out = collect(&mut src, "t1", Some(2.0));
    // 7119: utime 52 -> 155 over 2 s at 100 ticks/s = 51.5 %. 4321: (60 user + 20 system) / 2 =
    // 40 %. Then a tie at 5 %: pid 1 (10 user ticks) and pid 600 (utime went backwards, 0; 10
    // system ticks): the lower pid wins. 500 would lead with 445 % but is a new process (starttime
    // 1000 -> 9000) and has no rate.
    assert_eq!(ranking(&out), ["7119", "4321", "1"]);
    let v = |name, pid| value(&out, name, pid);
    assert_eq!(v("proc.cpu", "7119"), Some(51.5));
    assert_eq!(v("proc.cpu_user", "7119"), Some(51.5));
    assert_eq!(v("proc.cpu_system", "7119"), Some(0.0));
    assert_eq!(v("proc.rss", "7119"), Some(392.0 * 4096.0));
    assert_eq!(v("proc.minor_faults", "7119"), Some(200.0)); // 87 -> 487 over 2 s
    assert_eq!(v("proc.major_faults", "7119"), Some(1.0)); // 0 -> 2
    assert_eq!(v("proc.threads", "7119"), Some(1.0));
    // 4321 ran 20 of its 60 user ticks as a guest: %usr is (60 - 20) / 2.
    assert_eq!(v("proc.cpu", "4321"), Some(40.0));
    assert_eq!(v("proc.cpu_user", "4321"), Some(20.0));
    assert_eq!(v("proc.cpu_system", "4321"), Some(10.0));
    assert_eq!(v("proc.threads", "4321"), Some(4.0));
    assert_eq!(v("proc.cpu", "1"), Some(5.0));
    // I/O needs two consecutive cycles in the top N: none yet.
    assert!(out.iter().all(|s| s.name != "proc.read_kb" && s.name != "proc.write_kb"));
    assert_eq!(out.len(), 3 * 7);
    // pid 1's io is unreadable; 500 is a reused pid.
    assert_eq!(src.counts(), ProcCounts { vanished: 0, io_unavailable: 1, reused: 1, unparsable: 0 });
}

#[test]
fn samples_carry_pid_and_comm_and_are_declared() {
    let mut src = source(10);
    collect(&mut src, "t0", None);
    let out = collect(&mut src, "t1", Some(2.0));
    // Everything that used CPU, 500 (reused) left out; 2 and 800 were idle, so hidden.
    assert_eq!(ranking(&out), ["7119", "4321", "1", "600", "700"]);
    for s in &out {
        let def = METRICS.iter().find(|d| d.name == s.name).unwrap_or_else(|| panic!("{} undeclared", s.name));
        assert_eq!(s.tags.iter().map(|(k, _)| *k).collect::<Vec<_>>(), def.tags);
        assert!(s.value >= 0.0 && s.value.is_finite(), "{s:?}");
    }
    let comm = |pid| out.iter().find(|s| s.tag("pid") == Some(pid)).and_then(|s| s.tag("comm"));
    assert_eq!(comm("4321"), Some("x) S 9 (y z"));
    assert_eq!(comm("1"), Some("process_api"));
    // 600's utime and minflt went backwards: 0, never negative.
    assert_eq!(value(&out, "proc.cpu_user", "600"), Some(0.0));
    assert_eq!(value(&out, "proc.cpu_system", "600"), Some(5.0));
    assert_eq!(value(&out, "proc.minor_faults", "600"), Some(0.0));
}

#[test]
fn third_reading_has_io_rates_drops_exited_and_counts_vanished() {
    let mut src = source(3);
    collect(&mut src, "t0", None);
    collect(&mut src, "t1", Some(2.0));
    let out = collect(&mut src, "t2", Some(1.0));
    // Over 1 s: 7119 104 ticks = 104 %, 4321 40 + 10 = 50 %, kernel thread 2 30 system ticks =
    // 30 %; cut: 600 20 %, 500 (its first rate) 5 %, 1 3 %.
    assert_eq!(ranking(&out), ["7119", "4321", "2"]);
    let v = |name, pid| value(&out, name, pid);
    assert_eq!(v("proc.cpu", "7119"), Some(104.0));
    assert_eq!(v("proc.minor_faults", "7119"), Some(100.0));
    assert_eq!(v("proc.major_faults", "7119"), Some(0.0));
    // read_bytes 4096000 -> 4620288 (512 KiB), write_bytes 0 -> 2097152 (2 MiB), in 1 s.
    assert_eq!(v("proc.read_kb", "7119"), Some(512.0));
    assert_eq!(v("proc.write_kb", "7119"), Some(2048.0));
    assert_eq!(v("proc.cpu", "4321"), Some(50.0));
    assert_eq!(v("proc.cpu_user", "4321"), Some(40.0));
    // 4321's write_bytes went 8192 -> 4096: 0, not negative.
    assert_eq!(v("proc.read_kb", "4321"), Some(0.0));
    assert_eq!(v("proc.write_kb", "4321"), Some(0.0));
    // The kernel thread has no io file: its other metrics are there, its I/O is not.
    assert_eq!(v("proc.cpu_system", "2"), Some(30.0));
    assert_eq!(v("proc.read_kb", "2"), None);
    assert_eq!(out.len(), 2 * 9 + 7);
    // 800 was listed but its stat was gone; 700 exited. Neither is tracked any more.
    assert_eq!(src.counts(), ProcCounts { vanished: 1, io_unavailable: 2, reused: 1, unparsable: 0 });
    let mut pids: Vec<u32> = src.tracked.keys().copied().collect();
    pids.sort_unstable();
    assert_eq!(pids, [1, 2, 500, 600, 4321, 7119]);
}

#[test]
fn io_rates_need_the_previous_cycle_in_the_top_n() {
    // Top 1 at t1: only 7119's io is read. Top 2 at t2: 4321 enters without a previous io reading.
    let mut src = source(1);
    collect(&mut src, "t0", None);
    collect(&mut src, "t1", Some(2.0));
    src.top = 2;
    let out = collect(&mut src, "t2", Some(1.0));
    assert_eq!(ranking(&out), ["7119", "4321"]);
    assert_eq!(value(&out, "proc.read_kb", "7119"), Some(512.0));
    assert_eq!(value(&out, "proc.read_kb", "4321"), None);
    assert_eq!(value(&out, "proc.write_kb", "4321"), None);
    assert_eq!(value(&out, "proc.cpu", "4321"), Some(50.0));
    // An io reading older than the previous cycle (the process left the top N and came back)
    // would spread the traffic over the wrong interval: no rate either.
    let mut src = source(2);
    collect(&mut src, "t0", None);
    collect(&mut src, "t1", Some(2.0));
    let stale = src.tracked.get_mut(&4321).and_then(|t| t.io.as_mut()).expect("4321's io read at t1");
    stale.0 -= 1;
    let out = collect(&mut src, "t2", Some(1.0));
    assert_eq!(value(&out, "proc.read_kb", "7119"), Some(512.0));
    assert_eq!(value(&out, "proc.read_kb", "4321"), None);
}

#[test]
fn top_zero_emits_nothing_and_still_tracks() {
    let mut src = source(0);
    collect(&mut src, "t0", None);
    assert!(collect(&mut src, "t1", Some(2.0)).is_empty());
    assert_eq!(src.tracked.len(), 8);
}

#[test]
fn no_proc_is_absent_and_an_unknown_format_is_a_parse_error() {
    let mut out = Vec::new();
    let e = source(3).collect(&tree("no-such-tree"), None, &mut out).unwrap_err();
    assert!(matches!(e, CollectError::Absent { .. }), "{e}");
    let mut src = source(3);
    let e = src.collect(&tree("bad"), None, &mut out).unwrap_err();
    assert!(matches!(e, CollectError::ProcParse { line: 1, .. }), "{e}");
    assert_eq!(src.counts().unparsable, 1);
}

/// A busy `sh` loop, killed when dropped so a failing test leaves nothing spinning.
struct Busy(Child);

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn finds_a_busy_child_in_the_real_proc() {
    let busy = Busy(Command::new("sh").args(["-c", "while :; do :; done"]).spawn().expect("spawn sh"));
    let pid = busy.0.id().to_string();
    let root = FsRoot::default();
    let mut src = ProcsSource::new(10);
    let mut out = Vec::new();
    src.collect(&root, None, &mut out).unwrap();
    // The machine is shared: the spinning child may get less than half a CPU for a second while
    // other work runs, so it has three one-second windows to show it.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(1));
        out.clear();
        src.collect(&root, Some(start.elapsed().as_secs_f64()), &mut out).unwrap();
        let cpu = value(&out, "proc.cpu", &pid);
        seen.push(cpu);
        if cpu.is_some_and(|c| c > 50.0) {
            break;
        }
    }
    assert!(
        seen.last().copied().flatten().is_some_and(|c| c > 50.0),
        "busy sh {pid}: proc.cpu {seen:?}; top {:?}",
        ranking(&out)
    );
    let comm = out.iter().find(|s| s.tag("pid") == Some(pid.as_str())).and_then(|s| s.tag("comm"));
    assert_eq!(comm, Some("sh"));
    assert!(value(&out, "proc.rss", &pid).is_some_and(|r| r > 0.0));
    assert_eq!(value(&out, "proc.threads", &pid), Some(1.0));
}

#[test]
fn times_one_cycle_over_the_real_proc() {
    let root = FsRoot::default();
    let mut src = ProcsSource::new(10);
    let mut out = Vec::new();
    let t = Instant::now();
    src.collect(&root, None, &mut out).unwrap();
    let first = t.elapsed();
    let t = Instant::now();
    src.collect(&root, Some(0.01), &mut out).unwrap();
    let second = t.elapsed();
    println!(
        "procs: {} processes; first cycle {first:?}, second cycle (rank, io of the top 10) {second:?}; {:?}",
        src.tracked.len(),
        src.counts()
    );
    assert!(src.tracked.len() > 1, "found no processes in /proc");
}

#[test]
fn kept_stat_files_follow_processes_that_exit() {
    let root = FsRoot::default();
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id();
    let mut src = ProcsSource::new(10);
    let mut out = Vec::new();
    src.collect(&root, None, &mut out).unwrap();
    let kept = |src: &ProcsSource| src.tracked.values().filter(|t| t.stat_file.is_some()).count();
    assert!(src.tracked[&pid].stat_file.is_some(), "the child's stat is kept open");
    assert_eq!(src.files.open, kept(&src));
    child.kill().unwrap();
    child.wait().unwrap();
    src.collect(&root, Some(1.0), &mut out).unwrap();
    assert!(!src.tracked.contains_key(&pid), "an exited process is dropped with its file");
    assert_eq!(src.files.open, kept(&src), "the count of open files stays true");
    // A replayed tree elsewhere drops every kept file of the real /proc.
    let other = tree("t0");
    src.collect(&other, None, &mut out).unwrap();
    assert!(src.tracked.values().all(|t| t.stat_file.is_none() || t.seen == src.cycle));
}
