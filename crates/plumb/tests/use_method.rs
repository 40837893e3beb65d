//! `plumb use` as a user runs it: the real binary on the real /proc. The JSON carries every
//! resource with its three cells, and a spinning shell on every CPU drives CPU utilization to
//! about 100% and flags it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::machine::{Spinner, lock};
use serde_json::Value;

fn plumb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
}

/// Online CPUs: the `cpuN` lines of /proc/stat, as plumb counts them.
fn online_cpus() -> usize {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    stat.lines().filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit)).count()
}

fn use_json(args: &[&str]) -> Vec<Value> {
    let run = common::Running::spawn("plumb use", plumb().arg("use").arg("--json").args(args));
    let out = run.finish(Duration::from_secs(60));
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn row<'a>(report: &'a Value, resource: &str) -> &'a Value {
    let rows = report["resources"].as_array().unwrap_or_else(|| panic!("no resources array: {report}"));
    rows.iter().find(|r| r["resource"] == resource).unwrap_or_else(|| panic!("no {resource} row: {report}"))
}

#[test]
fn json_has_every_resource_with_three_complete_cells() {
    let reports = use_json(&["0.5"]);
    assert_eq!(reports.len(), 1, "one report by default");
    let r = &reports[0];
    let secs = r["interval_secs"].as_f64().unwrap();
    assert!((0.4..1.5).contains(&secs), "interval {secs}");
    let cpus = online_cpus();
    assert_eq!(r["cpus"].as_u64(), Some(cpus as u64));
    let rows = r["resources"].as_array().unwrap();
    for t in ["cpu", "memory", "swap", "disk", "net", "tcp", "fd", "psi"] {
        assert!(rows.iter().any(|x| x["type"] == t), "no {t} row");
    }
    for i in 0..cpus {
        assert_eq!(row(r, &format!("cpu{i}"))["type"], "cpu");
    }
    assert_eq!(row(r, "lo")["type"], "net");
    let mut flagged = 0;
    for x in rows {
        for kind in ["utilization", "saturation", "errors"] {
            let c = &x[kind];
            assert!(c["metric"].is_string() && c["flagged"].is_boolean(), "{kind} of {x}");
            match c["value"].as_f64() {
                Some(_) => assert!(c["unit"].is_string(), "a value without a unit: {x}"),
                None => assert!(c["reason"].as_str().is_some_and(|s| !s.is_empty()), "n/a without a reason: {x}"),
            }
            if let Some(t) = c["threshold"].as_object() {
                assert!(t["op"].is_string() && t["limit"].is_number() && t["rule"].is_string(), "{x}");
            }
            flagged += usize::from(c["flagged"] == true);
        }
    }
    assert_eq!(r["flagged"].as_u64(), Some(flagged as u64));
    let fd = &row(r, "fd")["utilization"];
    assert_eq!((fd["metric"].as_str(), fd["threshold"]["limit"].as_f64()), (Some("fd.used/fd.max"), Some(80.0)));
}

#[test]
fn a_spinner_on_every_cpu_drives_utilization_to_100_and_flags_it() {
    let _machine = lock();
    let cpus = online_cpus();
    let spinners: Vec<Spinner> = (0..cpus).map(|_| Spinner::start()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let reports = use_json(&["1"]);
    drop(spinners);
    let r = &reports[0];
    let u = &row(r, "cpu")["utilization"];
    let busy = u["value"].as_f64().unwrap();
    assert!(busy >= 95.0, "cpu.busy {busy} with a spinner per CPU: {u}");
    assert_eq!(u["flagged"], true, "{u}");
    let s = &row(r, "cpu")["saturation"];
    assert!(s["value"].as_f64().unwrap() >= 1.0 && s["threshold"]["limit"].as_f64() == Some(cpus as f64), "{s}");
    for i in 0..cpus {
        let c = &row(r, &format!("cpu{i}"))["utilization"];
        assert!(c["value"].as_f64().unwrap() >= 90.0 && c["flagged"] == true, "cpu{i}: {c}");
    }
}

#[test]
fn table_and_count_and_bad_arguments() {
    let run = common::Running::spawn("plumb use", plumb().args(["use", "0.2", "2"]));
    let out = run.finish(Duration::from_secs(60));
    assert_eq!(out.matches("USE method over").count(), 2, "{out}");
    let header = out.lines().find(|l| l.starts_with("RESOURCE")).unwrap();
    for h in ["TYPE", "UTILIZATION", "SATURATION", "ERRORS"] {
        assert!(header.contains(h), "{header}");
    }
    assert!(out.lines().any(|l| l.starts_with("cpu ") && l.contains("cpu.busy")), "{out}");
    assert!(out.contains("no value crossed its threshold") || out.contains("past threshold:"), "{out}");
    assert_eq!(use_json(&["--count", "2", "0.2"]).len(), 2);

    for args in [&["use", "0"][..], &["use", "1", "0"], &["use", "x"], &["use", "1", "2", "--count", "3"]] {
        let out = plumb().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty() && out.stdout.is_empty(), "{args:?}");
    }
}
