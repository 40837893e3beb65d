//! `plumb stat` as a user runs it: real binary, real /proc.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn plumb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
}

#[test]
fn json_prints_one_object_per_interval_with_the_requested_groups() {
    let out = plumb().args(["stat", "--json", "cpu", "disk", "net", "0.3", "3"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut last_ts = 0;
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let ts = v["timestamp_ms"].as_i64().unwrap();
        assert!(ts > last_ts);
        last_ts = ts;
        let secs = v["interval_secs"].as_f64().unwrap();
        assert!((0.2..0.6).contains(&secs), "interval {secs}");
        let cpu = &v["cpu"];
        let total: f64 = ["user", "nice", "system", "iowait", "irq", "softirq", "steal", "idle"]
            .iter()
            .map(|m| cpu[format!("cpu.{m}")].as_f64().unwrap())
            .sum();
        assert!((total - 100.0).abs() < 0.5, "cpu shares sum to {total}");
        assert!(v["disk"].is_array() && v["net"].is_array());
        let lo = v["net"].as_array().unwrap().iter().find(|r| r["iface"] == "lo");
        assert!(lo.is_some(), "loopback missing: {}", v["net"]);
        assert!(v.get("mem").is_none(), "mem was not asked for");
    }
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["stat", "cpux"][..],
        &["stat", "cpu", "0"],
        &["stat", "cpu", "1", "0"],
        &["stat", "1", "cpu"],
        &["stat", "--bogus"],
    ] {
        let out = plumb().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}: no message");
        if args[1] != "--bogus" {
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        }
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn table_has_aligned_headers_and_averages() {
    let out = plumb().args(["stat", "disk", "net", "0.3", "2"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("Device").count(), 3, "two intervals and the averages: {text}");
    assert_eq!(text.matches("IFACE").count(), 3, "{text}");
    assert!(text.contains("Average: lo"), "{text}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_cleanly_with_averages() {
    let mut child = plumb().args(["stat", "cpu", "0.2"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // header + two data rows
    for _ in 0..3 {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "plumb stat ignored SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert!(rest.contains("Average: all"), "{rest}");
}
