//! The checklist on captured /proc trees: each case under `test_data/` is replayed through the
//! real collector (`Collector::collect_at` on `t0/` then `t1/`), evaluated, and checked twice:
//! against its `expected.txt` (table and JSON, `PLUMB_BLESS=1` rewrites it) and by hand-computed
//! U/S/E values and flags below, so a blessed file cannot hide a wrong number.

use std::path::{Path, PathBuf};

use plumb_collect::{Collector, FsRoot, Options};
use plumb_use::{Kind, Report, evaluate};

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// The report for a case, as `plumb use` would compute it.
fn replay(name: &str) -> Report {
    let dir = case_dir(name);
    let interval: f64 = std::fs::read_to_string(dir.join("interval")).unwrap().trim().parse().unwrap();
    let (t0, t1) = (FsRoot::under(dir.join("t0")), FsRoot::under(dir.join("t1")));
    let mut c = Collector::new(Options { root: t0.clone(), groups: plumb_use::GROUPS.to_vec(), top_processes: 0 });
    c.collect_at(&t0, 0, None);
    let (snap, _) = c.collect_at(&t1, (interval * 1000.0) as i64, Some(interval));
    evaluate(&snap)
}

/// `(value, flagged)` of a resource's cell; `value` is `None` for n/a.
fn get(r: &Report, resource: &str, kind: Kind) -> (Option<f64>, bool) {
    let row = r.rows.iter().find(|row| row.resource == resource).unwrap_or_else(|| panic!("no row {resource}"));
    let c = row.cells.iter().find(|c| c.check.kind == kind).unwrap();
    (c.value, c.flagged)
}

#[track_caller]
fn expect(r: &Report, resource: &str, kind: Kind, want: f64, flagged: bool) {
    let (v, f) = get(r, resource, kind);
    let v = v.unwrap_or_else(|| panic!("{resource} {kind:?} is n/a"));
    assert!((v - want).abs() <= 1e-6 * want.abs().max(1.0), "{resource} {kind:?}: {v}, want {want}");
    assert_eq!(f, flagged, "{resource} {kind:?} = {v}: flagged {f}, want {flagged}");
}

use Kind::{Errors as E, Saturation as S, Utilization as U};

#[test]
fn busy_two_cpus_flag_cpu_utilization_and_run_queue_only() {
    let r = replay("busy-2cpu");
    assert_eq!(r.cpus, Some(2));
    expect(&r, "cpu", U, 100.0, true);
    expect(&r, "cpu", S, 3.0, true);
    expect(&r, "cpu0", U, 100.0, true);
    expect(&r, "cpu1", U, 100.0, true);
    expect(&r, "memory", U, 100.0 * (24683656.0 - 24270992.0) / 24683656.0, false);
    expect(&r, "memory", S, 0.0, false);
    assert_eq!(get(&r, "swap", U), (None, false), "no swap configured");
    expect(&r, "swap", S, 0.0, false);
    expect(&r, "vda", U, 100.0 * 40.0 / 1300.0, false);
    expect(&r, "vda", S, 45.0 / 1300.0, false);
    expect(&r, "eth0", U, 0.0, false);
    expect(&r, "eth0", E, 0.0, false);
    expect(&r, "tcp", E, 0.0, false);
    expect(&r, "fd", U, 100.0 * 274.0 / 2466174.0, false);
    expect(&r, "psi.cpu", S, 6.27, false);
    expect(&r, "psi.io", S, 0.31, false);
    let flagged: Vec<String> = r.flagged().map(|(row, c)| format!("{} {:?}", row.resource, c.check.kind)).collect();
    assert_eq!(flagged, ["cpu Utilization", "cpu Saturation", "cpu0 Utilization", "cpu1 Utilization"]);
}

#[test]
fn every_measured_threshold_trips_in_the_all_flagged_case() {
    let r = replay("all-flagged");
    expect(&r, "cpu", U, 100.0, true);
    expect(&r, "cpu", S, 3.0, true);
    expect(&r, "memory", U, 100.0 * (24683656.0 - 1234183.0) / 24683656.0, true);
    expect(&r, "memory", S, 300.0, true);
    expect(&r, "swap", U, 100.0 * (1048576.0 - 104857.0) / 1048576.0, true);
    expect(&r, "swap", S, 120.0, true);
    expect(&r, "vda", U, 90.0, true);
    expect(&r, "vda", S, 2.5, true);
    expect(&r, "eth0", S, 5.0, true);
    expect(&r, "eth0", E, 5.0, true);
    expect(&r, "lo", E, 0.0, false);
    expect(&r, "tcp", S, 7.0, true);
    expect(&r, "tcp", E, 5.0, true);
    expect(&r, "fd", U, 100.0 * 2_000_000.0 / 2466174.0, true);
    expect(&r, "psi.cpu", S, 25.0, true);
    expect(&r, "psi.memory", S, 12.5, true);
    expect(&r, "psi.io", S, 40.0, true);
    // Every check that has a threshold trips somewhere in this case.
    for check in plumb_use::CHECKS {
        if let plumb_use::How::Measured { threshold: Some(_), .. } = check.how {
            assert!(r.flagged().any(|(_, c)| c.check == check), "{} never tripped", check.metric);
        }
    }
}

#[test]
fn a_kernel_without_psi_says_so_in_each_psi_row() {
    let r = replay("no-psi");
    for name in ["psi.cpu", "psi.memory", "psi.io"] {
        let row = r.rows.iter().find(|row| row.resource == name).unwrap();
        let sat = &row.cells[1];
        assert_eq!(sat.value, None);
        let note = sat.note.as_deref().unwrap();
        assert!(note.contains("/proc/pressure/") && note.contains("not readable"), "{note}");
    }
    expect(&r, "cpu", U, 100.0, true);
}

#[test]
fn reports_match_their_expected_files() {
    let mut failures = Vec::new();
    for name in ["busy-2cpu", "all-flagged", "no-psi"] {
        let r = replay(name);
        let json = serde_json::to_string_pretty(&plumb_use::json::report_json(&r, "T")).unwrap();
        let got = format!("{}\n{json}\n", plumb_use::table::render(&r, "T"));
        let path = case_dir(name).join("expected.txt");
        if std::env::var_os("PLUMB_BLESS").is_some() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(want) => {
                let line = want.lines().zip(got.lines()).position(|(a, b)| a != b);
                failures.push(format!(
                    "{name}: differs at line {:?}\n  expected: {:?}\n  got:      {:?}",
                    line.map(|i| i + 1),
                    line.and_then(|i| want.lines().nth(i)),
                    line.and_then(|i| got.lines().nth(i))
                ));
            }
            Err(e) => failures.push(format!("{}: {e} (run with PLUMB_BLESS=1 to create it)", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
