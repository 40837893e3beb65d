//! `plumb runqlat` and `plumb offcputime` against the real kernel: run-queue latency rises when
//! every CPU has four busy threads, and off-CPU time is attributed to the function that slept,
//! within 10% of the time it slept. These load BPF programs: where the kernel refuses (not
//! root, no BTF) they skip with the reason, and fail instead under `PLUMB_REQUIRE_PRIVILEGED=1`.
//! The tests take a lock so that one's busy threads never disturb the other's timing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

mod common;

use common::tracer::{required, start};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Threads of this test process: `spinners` busy loops, and one that naps 1 ms at a time so
/// there are wakeups to time even when nothing spins. Stopped when dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(spinners: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for _ in 0..spinners {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }));
        }
        let napper = stop.clone();
        threads.push(std::thread::spawn(move || {
            while !napper.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }));
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One 2-second `plumb runqlat -p <this process> --json` histogram under `spinners` busy threads.
fn runqlat_under(spinners: usize) -> Option<Value> {
    let pid = std::process::id().to_string();
    let _load = Load::start(spinners);
    let tool = start(&["runqlat", "-p", &pid, "--json", "2", "1"])?;
    let (stdout, _) = tool.wait();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one interval, one JSON line: {stdout}");
    Some(serde_json::from_str(lines[0]).unwrap())
}

#[test]
fn runqlat_shows_higher_latency_with_4_busy_threads_per_cpu_than_with_none() {
    let _serial = serial();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Some(idle) = runqlat_under(0) else { return };
    let busy = runqlat_under(4 * cpus).unwrap();
    eprintln!("idle: {idle}\nbusy: {busy}");
    for h in [&idle, &busy] {
        let count = h["count"].as_u64().unwrap();
        assert!(count > 100, "the napping thread alone wakes ~2000 times in 2 s: {h}");
        let bucket_sum: u64 = h["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(bucket_sum, count, "buckets add up to the count");
        assert_eq!(h["lost"], 0);
    }
    let mean = |h: &Value| h["mean_us"].as_f64().unwrap();
    let p99 = |h: &Value| h["p99_us"].as_u64().unwrap();
    assert!(mean(&busy) > 2.0 * mean(&idle), "mean: busy {} us vs idle {} us", mean(&busy), mean(&idle));
    assert!(p99(&busy) > p99(&idle), "p99: busy {} us vs idle {} us", p99(&busy), p99(&idle));
}

/// A program whose `sleepy_function` sleeps `NAPS` x `NAP_MS` through `nap` (both built with
/// frame pointers, so the kernel's user stack walk passes through them), started after one
/// byte on stdin and kept alive until stdin closes, so its maps are readable at the end.
const SLEEPY_C: &str = r#"
#include <time.h>
#include <unistd.h>
__attribute__((noinline)) void nap(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0) {}
}
__attribute__((noinline)) void sleepy_function(int n, long ms) {
    for (int i = 0; i < n; i++) nap(ms);
}
int main(void) {
    char c;
    if (read(0, &c, 1) != 1) return 1;
    sleepy_function(20, 50);
    write(1, "done\n", 5);
    while (read(0, &c, 1) > 0) {}
    return 0;
}
"#;
const SLEPT_NS: f64 = 20.0 * 50e6;

#[test]
fn offcputime_attributes_a_sleep_to_the_sleeping_function_within_10_percent() {
    use std::io::Write;
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("sleepy.c");
    let binary = dir.path().join("sleepy");
    std::fs::write(&source, SLEEPY_C).unwrap();
    let gcc = Command::new("gcc").args(["-O1", "-fno-omit-frame-pointer", "-o"]).arg(&binary).arg(&source).status();
    match gcc {
        Ok(s) if s.success() => {}
        other => {
            assert!(!required(), "gcc is needed to build the test program: {other:?}");
            eprintln!("skipping: gcc could not build the test program: {other:?}");
            return;
        }
    }
    let mut sleepy = Command::new(&binary).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let pid = sleepy.id().to_string();
    let folded = dir.path().join("off.folded");
    let folded_arg = folded.to_str().unwrap();
    let Some(tool) = start(&["offcputime", "-p", &pid, "-d", "3", "-o", folded_arg, "--json"]) else {
        let _ = sleepy.kill();
        let _ = sleepy.wait();
        return;
    };
    let mut stdin = sleepy.stdin.take().unwrap();
    stdin.write_all(b"x").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(sleepy.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "done\n");
    let (stdout, stderr) = tool.wait();
    drop(stdin);
    assert!(sleepy.wait().unwrap().success());

    let text = std::fs::read_to_string(&folded).unwrap();
    eprintln!("{text}\n{stderr}");
    let mut in_sleepy = 0.0;
    for line in text.lines() {
        let (stack, weight) = line.rsplit_once(' ').unwrap();
        if stack.split(';').any(|frame| frame == "sleepy_function") {
            in_sleepy += weight.parse::<f64>().unwrap();
            // `nap` itself is absent: glibc's nanosleep keeps no frame pointer, so the kernel's
            // walk goes from the libc ip to nap's saved frame, whose return address is in
            // sleepy_function (the frame-pointer limit `plumb offcputime --help` describes).
            assert!(stack.contains("clock_nanosleep"), "the stack holds the libc call: {stack}");
            assert!(stack.contains("_[k]"), "the stack ends in kernel frames: {stack}");
        }
    }
    // --json: one summary object on stdout agreeing with the file.
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(summary["output"], folded_arg, "{summary}");
    assert_eq!(summary["format"], "folded", "{summary}");
    assert_eq!(summary["stacks"].as_u64(), Some(text.lines().count() as u64), "{summary}");
    let file_ns: f64 = text.lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap()).sum();
    assert_eq!(summary["blocked_ns"].as_f64(), Some(file_ns), "{summary}");
    for field in ["lost", "lost_table_full", "lost_kernel_stacks", "lost_user_stacks", "missing_kernel_stack_entries"] {
        assert_eq!(summary[field], 0, "{field}: {summary}");
    }
    let error = (in_sleepy - SLEPT_NS).abs() / SLEPT_NS;
    assert!(
        error <= 0.10,
        "blocked in sleepy_function {in_sleepy} ns, slept {SLEPT_NS} ns ({:.1}% off)",
        error * 100.0
    );
}

#[test]
fn heatmap_runq_filters_by_name_and_prints_the_matrix_as_json() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let napping = stop.clone();
    // A thread with its own name, waking about 1000 times a second.
    let napper = std::thread::Builder::new()
        .name("plumb-napper".to_string())
        .spawn(move || {
            while !napping.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .unwrap();
    let svg = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (named_svg, nobody_svg) = (svg("named.svg"), svg("nobody.svg"));
    let Some(named) = start(&["heatmap", "runq", "-n", "plumb-napper", "-d", "2", "-o", &named_svg, "--json"]) else {
        stop.store(true, Ordering::Relaxed);
        let _ = napper.join();
        return;
    };
    let nobody = start(&["heatmap", "runq", "-n", "zzq-no-such", "-d", "2", "-o", &nobody_svg, "--json"]).unwrap();
    let (named_out, _) = named.wait();
    let (nobody_out, _) = nobody.wait();
    stop.store(true, Ordering::Relaxed);
    napper.join().unwrap();
    let named: Value = serde_json::from_str(&named_out).unwrap_or_else(|e| panic!("{e}: {named_out}"));
    let nobody: Value = serde_json::from_str(&nobody_out).unwrap_or_else(|e| panic!("{e}: {nobody_out}"));
    eprintln!("{named}\n{nobody}");
    for (j, svg) in [(&named, &named_svg), (&nobody, &nobody_svg)] {
        assert_eq!(j["source"], "runq", "{j}");
        assert_eq!(j["output"], svg.as_str(), "{j}");
        assert_eq!(j["seconds"], 2, "{j}");
        assert_eq!(j["lost"], 0, "{j}");
        let buckets = j["buckets"].as_array().unwrap().len();
        let counts = j["counts"].as_array().unwrap();
        assert_eq!(counts.len(), 2, "one row of counts per second: {j}");
        let mut sum = 0;
        for second in counts {
            let second = second.as_array().unwrap();
            assert_eq!(second.len(), buckets, "one count per bucket: {j}");
            sum += second.iter().map(|n| n.as_u64().unwrap()).sum::<u64>();
        }
        assert_eq!(j["total"].as_u64(), Some(sum), "{j}");
        assert!(std::fs::read_to_string(svg).unwrap().starts_with("<svg"), "{svg}");
    }
    let total = named["total"].as_u64().unwrap();
    assert!(total > 500, "the napper wakes about 2000 times in 2 s; counted {total}");
    for bucket in named["buckets"].as_array().unwrap() {
        assert!(bucket["low_us"].as_u64().unwrap() < bucket["high_us"].as_u64().unwrap(), "{bucket}");
    }
    assert_eq!(nobody["total"], 0, "a name nobody has matched: {nobody}");
}
