//! `plumb pmc`, `plumb showboost` and `plumb cputemp` on this machine, whatever it exposes: where
//! the PMU or event is absent they must exit 1 with one line naming the missing path; where it is
//! present they must measure and print their fields. Which branch runs is decided by the same
//! sysfs files the tools read, so the test checks the tool against the kernel, not against itself.

use std::path::Path;
use std::process::{Command, Output};

const PMUS: &str = "/sys/bus/event_source/devices";

fn plumb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb")).args(args).output().unwrap()
}

/// The failure's stderr, checked to be exactly one line starting with `plumb: `.
fn one_line_failure(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "a failed tool printed a measurement: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("plumb: "), "{stderr}");
    stderr
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The first of the msr PMU's `events` whose file is missing, as the tools must name it.
fn first_missing_msr_event(events: &[&str]) -> Option<String> {
    let msr = Path::new(PMUS).join("msr");
    if !msr.is_dir() {
        return Some(format!("no msr PMU: {} does not exist", msr.display()));
    }
    events
        .iter()
        .map(|e| msr.join("events").join(e))
        .find(|p| !p.exists())
        .map(|p| format!("{} is missing", p.display()))
}

#[test]
fn pmc_counts_or_names_the_missing_hardware_pmu() {
    let has_core_pmu = ["cpu", "cpu_core", "cpu_atom"].iter().any(|p| Path::new(PMUS).join(p).is_dir());
    let out = plumb(&["pmc", "-a", "-d", "0.3", "--json"]);
    if has_core_pmu {
        let report = &json_lines(&out)[0];
        let names: Vec<&str> =
            report["counters"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(&names[..2], ["cycles", "instructions"]);
        assert!(report["counters"][0]["scaled"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["ratios"]["ipc"].as_f64().unwrap() > 0.0, "{report}");
    } else {
        let line = one_line_failure(&out);
        let want = format!("no hardware PMU: {PMUS}/cpu does not exist");
        assert!(line.contains(&want), "{line}");
        assert!(line.contains("perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) failed: "), "{line}");
        // The per-process form fails the same way, not with a different story.
        let pid = std::process::id().to_string();
        assert_eq!(one_line_failure(&plumb(&["pmc", "-p", &pid, "-d", "0.3"])), line);
    }
}

#[test]
fn showboost_measures_or_names_the_missing_msr_event() {
    let out = plumb(&["showboost", "--per-cpu", "--json", "0.3", "2"]);
    match first_missing_msr_event(&["tsc", "aperf", "mperf"]) {
        Some(missing) => {
            let line = one_line_failure(&out);
            assert!(line.contains(&missing), "{line} does not say {missing}");
        }
        None => {
            let lines = json_lines(&out);
            assert_eq!(lines.len(), 2);
            let all = &lines[1]["lines"][0];
            assert!(all["cpu"].is_null() && all["util_pct"].as_f64().is_some(), "{all}");
            assert!(all["c0_mcyc"].as_u64().is_some() && all["c0_acyc"].as_u64().is_some(), "{all}");
        }
    }
}

#[test]
fn cputemp_measures_or_names_the_missing_msr_event() {
    let out = plumb(&["cputemp", "--tjmax", "100", "--json", "0.3", "1"]);
    match first_missing_msr_event(&["cpu_thermal_margin"]) {
        Some(missing) => {
            let line = one_line_failure(&out);
            assert!(line.contains(&missing), "{line} does not say {missing}");
        }
        None => {
            let lines = json_lines(&out);
            assert_eq!(lines[0]["tjmax"], 100);
            let cpus = lines[0]["cpus"].as_array().unwrap();
            assert!(!cpus.is_empty());
            let temp = cpus[0]["temp_c"].as_i64().unwrap();
            assert!((0..=100).contains(&temp), "{temp}");
        }
    }
}

#[test]
fn help_teaches_what_the_numbers_mean() {
    for (cmd, words) in [
        ("pmc", ["IPC", "stalled-cycles-frontend", "/sys/bus/event_source/devices"]),
        ("showboost", ["APERF", "MHz", "turbo"]),
        ("cputemp", ["TjMax", "IA32_THERM_STATUS", "--tjmax"]),
    ] {
        let out = plumb(&[cmd, "--help"]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for word in words {
            assert!(text.contains(word), "`plumb {cmd} --help` does not mention {word}:\n{text}");
        }
    }
}

#[test]
fn bad_intervals_are_refused_before_anything_is_opened() {
    for args in [["showboost", "0"], ["cputemp", "0"], ["pmc", "-d=0"]] {
        let line = one_line_failure(&plumb(&args));
        assert!(line.contains("the interval must be a positive number of seconds, not 0"), "{args:?}: {line}");
    }
}
