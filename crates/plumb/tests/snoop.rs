//! `plumb execsnoop` and `plumb opensnoop` against the real kernel: every one of 500 execs in a
//! burst and every one of 500 opens of a uniquely named file is seen, and `-x` shows failed
//! opens with their errno. These load BPF programs: where the kernel refuses (not root, no
//! BTF) they skip with the reason, and fail instead under `PLUMB_REQUIRE_PRIVILEGED=1`.

use std::collections::BTreeSet;
use std::process::{Child, Command};

use serde_json::Value;

mod common;

use common::tracer::{json_lines, start};

const BURST: usize = 500;

/// The final summary object; asserts it reports no loss.
fn assert_nothing_lost(lines: &[Value], stderr: &str) {
    let summary = &lines.last().expect("no output")["summary"];
    assert_eq!(summary["lost"], 0, "{summary}");
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert!(stderr.contains(", 0 lost (ring buffer full: 0, in-flight table full: 0)"), "{stderr}");
}

#[test]
fn execsnoop_sees_every_process_of_a_burst() {
    let Some(snoop) = start(&["execsnoop", "--json"]) else { return };
    let marker = format!("plumb-execsnoop-{}", std::process::id());
    let children: Vec<Child> = (0..BURST)
        .map(|i| Command::new("/bin/true").arg(format!("{marker}-{i}")).arg("second arg").spawn().unwrap())
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let (stdout, stderr) = snoop.finish(true);
    let lines = json_lines(&stdout);
    assert_nothing_lost(&lines, &stderr);

    let mut seen = BTreeSet::new();
    for event in lines.iter().filter(|e| e["args"][1].as_str().is_some_and(|a| a.starts_with(&marker))) {
        assert_eq!(event["ret"], 0, "{event}");
        assert_eq!(event["ppid"], std::process::id(), "{event}");
        assert_eq!(event["comm"], "true", "{event}");
        assert_eq!(event["args"][0], "/bin/true", "{event}");
        assert_eq!(event["args"][2], "second arg", "{event}");
        assert!(event["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{event}");
        let index: usize = event["args"][1].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
        assert!(seen.insert(index), "exec {index} reported twice");
    }
    let missing: Vec<usize> = (0..BURST).filter(|i| !seen.contains(i)).collect();
    assert!(missing.is_empty(), "execsnoop missed {} of {BURST} execs: {missing:?}", missing.len());
}

#[test]
fn execsnoop_reports_a_failed_exec_with_its_errno() {
    let Some(snoop) = start(&["execsnoop", "--json", "-p", &std::process::id().to_string()]) else { return };
    let missing = format!("/nonexistent/plumb-execsnoop-{}", std::process::id());
    assert!(Command::new(&missing).status().is_err());
    let (stdout, stderr) = snoop.finish(true);
    let lines = json_lines(&stdout);
    assert_nothing_lost(&lines, &stderr);
    let failed: Vec<&Value> = lines.iter().filter(|e| e["args"][0] == missing.as_str()).collect();
    assert!(!failed.is_empty(), "{stdout}");
    assert!(failed.iter().all(|e| e["ret"] == -2), "{failed:?}");
}

#[test]
fn opensnoop_sees_every_open_of_a_uniquely_named_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("plumb-opensnoop-{}", std::process::id()));
    std::fs::write(&path, b"x").unwrap();
    let pid = std::process::id().to_string();
    let Some(snoop) = start(&["opensnoop", "--json", "-p", &pid]) else { return };
    for _ in 0..BURST {
        drop(std::fs::File::open(&path).unwrap());
    }
    let (stdout, stderr) = snoop.finish(true);
    let lines = json_lines(&stdout);
    assert_nothing_lost(&lines, &stderr);
    let path = path.to_str().unwrap();
    let opens: Vec<&Value> = lines.iter().filter(|e| e["path"] == path).collect();
    assert_eq!(opens.len(), BURST, "opensnoop saw {} of {BURST} opens", opens.len());
    for event in opens {
        assert!(event["fd"].as_i64().is_some_and(|fd| fd >= 0), "{event}");
        assert_eq!(event["pid"], std::process::id(), "{event}");
        assert!(event.get("errno").is_none(), "{event}");
    }
    // -p is applied in the kernel: nothing from another process.
    assert!(lines.iter().all(|e| e.get("summary").is_some() || e["pid"] == std::process::id()));
}

#[test]
fn opensnoop_failed_only_shows_failures_with_their_errno() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("plumb-opensnoop-x-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let absent = dir.path().join("absent");
    let not_a_dir = file.join("child");
    let pid = std::process::id().to_string();
    // Text output, ending by itself after DURATION seconds.
    let Some(snoop) = start(&["opensnoop", "-x", "-p", &pid, "3"]) else { return };
    for _ in 0..50 {
        assert_eq!(std::fs::File::open(&absent).unwrap_err().raw_os_error(), Some(2));
        assert_eq!(std::fs::File::open(&not_a_dir).unwrap_err().raw_os_error(), Some(20));
        drop(std::fs::File::open(&file).unwrap());
    }
    let (stdout, stderr) = snoop.finish(false);
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TIME", "COMM", "PID", "FD", "ERR", "PATH"]);
    let (mut enoent, mut enotdir) = (0, 0);
    for line in lines {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.len(), 6, "{line}");
        assert_eq!(cols[3], "-1", "-x shows only failures: {line}");
        assert_ne!(cols[5], file.to_str().unwrap(), "{line}");
        if cols[5] == absent.to_str().unwrap() {
            assert_eq!(cols[4], "2", "{line}");
            enoent += 1;
        } else if cols[5] == not_a_dir.to_str().unwrap() {
            assert_eq!(cols[4], "20", "{line}");
            enotdir += 1;
        }
    }
    assert_eq!((enoent, enotdir), (50, 50), "{stdout}");
    assert!(stderr.contains(", 0 lost"), "{stderr}");
}

#[test]
fn bad_durations_and_intervals_get_one_line_not_a_panic() {
    // Parsed before anything is loaded, so no privilege is needed. 1e30 s overflows a Duration.
    for args in [
        &["execsnoop", "1e30"][..],
        &["opensnoop", "0"],
        &["iosnoop", "--", "-1"],
        &["tcplife", "1e30"],
        &["iolatency", "1e30"],
        &["runqlat", "0"],
        &["offcputime", "-d", "1e30"],
        &["showboost", "1e30"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_plumb")).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("must be a positive number of seconds") || stderr.contains("is too long"),
            "{args:?}: {stderr}"
        );
    }
}
