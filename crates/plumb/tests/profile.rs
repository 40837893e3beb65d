//! End-to-end tests of `plumb profile` and `plumb flame` through the real binary.
//!
//! The accuracy tests build `tests/fixtures/burn.c` with the machine's gcc, with and without
//! frame pointers, and profile it: its two leaves burn a known 70/30 share of its CPU through
//! known paths (main → run → burn_heavy → leaf_heavy, main → run → burn_light → leaf_light).
//!
//! Profiling needs perf_event_open. Where it is denied the tests print why and pass, unless
//! `PLUMB_REQUIRE_PRIVILEGED=1` (set by CI), where a denial fails them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn plumb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Whether a failed profile run was a permission denial we may skip.
fn denied(out: &Output) -> bool {
    let err = text(&out.stderr);
    if out.status.success() || !err.contains("perf_event_open was denied") {
        return false;
    }
    assert!(std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() != Ok("1"), "PLUMB_REQUIRE_PRIVILEGED=1: {err}");
    eprintln!("skipping: {err}");
    true
}

/// Compiles burn.c with `flags` into `dir`.
fn build_burn(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let exe = dir.join(name);
    let out = Command::new("gcc").args(flags).arg("-o").arg(&exe).arg(fixture("burn.c")).output().expect("gcc runs");
    assert!(out.status.success(), "gcc failed: {}", text(&out.stderr));
    exe
}

/// Folded stacks: stack -> samples.
fn read_folded(path: &Path) -> BTreeMap<String, u64> {
    let body = std::fs::read_to_string(path).unwrap();
    body.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (stack, n) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad folded line {l:?}"));
            (stack.to_string(), n.parse().unwrap_or_else(|_| panic!("bad count in {l:?}")))
        })
        .collect()
}

/// Profiles `exe 3` (3 s of CPU time) at 999 Hz, about 3,000 samples however busy the machine
/// is, so the 70% share is known to about ±1 point; returns the folded stacks, or None when
/// denied.
fn profile_burn(dir: &Path, exe: &Path) -> Option<BTreeMap<String, u64>> {
    let folded = dir.join(format!("{}.folded", exe.file_name().unwrap().to_string_lossy()));
    let out = plumb().args(["profile", "-F", "999", "-o"]).arg(&folded).arg("--").arg(exe).arg("3").output().unwrap();
    if denied(&out) {
        return None;
    }
    assert!(out.status.success(), "plumb profile failed: {}", text(&out.stderr));
    Some(read_folded(&folded))
}

fn check_accuracy(build: &str, stacks: &BTreeMap<String, u64>) {
    let leaf =
        |name: &str| -> u64 { stacks.iter().filter(|(s, _)| s.rsplit(';').next() == Some(name)).map(|(_, n)| n).sum() };
    let full_path = |path: &str, leaf_name: &str| -> u64 {
        stacks.iter().filter(|(s, _)| s.rsplit(';').next() == Some(leaf_name) && s.contains(path)).map(|(_, n)| n).sum()
    };
    let (heavy, light) = (leaf("leaf_heavy"), leaf("leaf_light"));
    let total = heavy + light;
    assert!(total >= 1500, "{build}: too few samples in the leaves ({total}): {stacks:?}");
    let share = heavy as f64 / total as f64 * 100.0;
    eprintln!("{build}: leaf_heavy {heavy}, leaf_light {light}: {share:.1}% heavy");
    assert!((share - 70.0).abs() <= 5.0, "{build}: heavy share {share:.1}%, expected 70 ± 5");
    for (path, leaf_name, n) in [
        ("main;run;burn_heavy;leaf_heavy", "leaf_heavy", heavy),
        ("main;run;burn_light;leaf_light", "leaf_light", light),
    ] {
        let whole = full_path(path, leaf_name);
        let fraction = whole as f64 / n as f64;
        assert!(fraction >= 0.9, "{build}: only {whole} of {n} {leaf_name} samples have the path {path}: {stacks:?}");
    }
}

#[test]
fn shares_and_paths_with_frame_pointers() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build_burn(dir.path(), "burn_fp", &["-O2", "-g", "-fno-omit-frame-pointer"]);
    if let Some(stacks) = profile_burn(dir.path(), &exe) {
        check_accuracy("with frame pointers", &stacks);
    }
}

#[test]
fn shares_and_paths_without_frame_pointers() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build_burn(dir.path(), "burn_nofp", &["-O2", "-fomit-frame-pointer"]);
    if let Some(stacks) = profile_burn(dir.path(), &exe) {
        check_accuracy("without frame pointers", &stacks);
    }
}

#[test]
fn every_format_and_the_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build_burn(dir.path(), "burn_fmt", &["-O1", "-g"]);
    let pprof = dir.path().join("p.pb.gz");
    let out = plumb()
        .args(["profile", "-F", "199", "--per-process", "--json", "-o"])
        .arg(&pprof)
        .arg("--")
        .args(["sh", "-c"])
        .arg(format!("exec {} 2 > /dev/null", exe.display()))
        .output()
        .unwrap();
    if denied(&out) {
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints one JSON object");
    assert_eq!(summary["format"], "pprof");
    assert_eq!(summary["exit_code"], 0);
    assert!(summary["samples"].as_u64().unwrap() >= 30, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
    let top: Vec<&str> =
        summary["top_functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(top.contains(&"leaf_heavy") && top.contains(&"leaf_light"), "{top:?}");
    let gz = std::fs::read(&pprof).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "pprof output is gzip");

    // The pprof converts to every other format and keeps its stacks.
    let folded = dir.path().join("p.folded");
    let out = plumb().args(["flame", "render"]).arg(&pprof).arg("-o").arg(&folded).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stacks = read_folded(&folded);
    assert!(stacks.keys().any(|s| s.starts_with("burn_fmt [") && s.ends_with("burn_heavy;leaf_heavy")), "{stacks:?}");
    for (name, magic) in [("p.svg", "<svg"), ("p.speedscope.json", "speedscope")] {
        let path = dir.path().join(name);
        let out = plumb().args(["flame", "render"]).arg(&folded).arg("-o").arg(&path).output().unwrap();
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(body.contains(magic), "{name} lacks {magic}");
        assert!(body.contains("leaf_heavy"), "{name} lacks the leaf");
    }
}

#[test]
fn flame_diff_collapse_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.folded");
    let after = dir.path().join("after.folded");
    std::fs::write(&before, "main;a 10\nmain;b 10\n").unwrap();
    std::fs::write(&after, "main;a 30\nmain;b 10\n").unwrap();
    let svg = dir.path().join("diff.svg");
    let out = plumb().args(["flame", "diff"]).arg(&before).arg(&after).arg("-o").arg(&svg).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&svg).unwrap();
    assert!(body.contains("<svg") && body.contains("main"), "a diff SVG");

    let script = "burn 100/100 [000] 1.000: 10101010 cpu-clock:ppp: \n\
                  \t    55d0 leaf (/tmp/burn)\n\t    55e0 main (/tmp/burn)\n\n";
    let perf = dir.path().join("perf.txt");
    std::fs::write(&perf, script).unwrap();
    let out = plumb().args(["flame", "collapse"]).arg(&perf).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "burn;main;leaf 10101010");

    let junk = dir.path().join("junk");
    std::fs::write(&junk, [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    let out = plumb().args(["flame", "render"]).arg(&junk).arg("-o").arg(dir.path().join("x.svg")).output().unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.starts_with("plumb: cannot read a profile from") && err.lines().count() == 1, "{err}");

    let out = plumb().args(["flame", "render"]).arg(dir.path().join("missing")).output().unwrap();
    assert!(!out.status.success() && text(&out.stderr).contains("cannot open"), "{}", text(&out.stderr));
}

#[test]
fn bad_flags_are_one_line_errors() {
    for args in [
        &["profile", "-F", "0"][..],
        &["profile", "-d", "-1"],
        &["profile", "-d", "abc"],
        &["profile", "-e", "cycles"],
        &["profile", "-p", "1", "--", "true"],
        &["profile", "--json", "-o", "-"],
        &["profile", "-o", "/no/such/dir/p.svg"],
        &["profile", "--", "no-such-program-plumb"],
    ] {
        let out = plumb().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.lines().next().is_some_and(|l| l.contains("error") || l.starts_with("plumb:")), "{args:?}: {err}");
    }
}

#[test]
fn without_permission_the_error_names_the_fix() {
    // As nobody, with kernel.perf_event_paranoid >= 1, sampling all CPUs is denied.
    let paranoid: i32 = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(2);
    let is_root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    if !is_root || paranoid < 1 || !Path::new("/usr/bin/setpriv").exists() {
        assert!(
            std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "needs root, setpriv and perf_event_paranoid >= 1 (is {paranoid})"
        );
        eprintln!("skipping: needs root to drop privileges, setpriv, and perf_event_paranoid >= 1");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        .arg(env!("CARGO_BIN_EXE_plumb"))
        .args(["profile", "-a", "-d", "1", "-o"])
        .arg(dir.path().join("p.svg"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "profiling all CPUs as nobody must fail");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for fix in ["root", "CAP_PERFMON", "perf_event_paranoid"] {
        assert!(err.contains(fix), "the error should name {fix}: {err}");
    }
}

#[test]
fn ctrl_c_still_writes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("cpu.svg");
    let child = plumb().args(["profile", "-a", "-o"]).arg(&svg).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    if denied(&out) {
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&svg).unwrap();
    assert!(body.starts_with("<?xml") && body.contains("cpu-clock"), "an SVG flame graph after Ctrl-C");
}

#[test]
fn context_switch_stacks_show_where_threads_block() {
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("cs.folded");
    let out = plumb()
        .args(["profile", "-e", "context-switches", "-c", "1", "-o"])
        .arg(&folded)
        .args(["--", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.01; done"])
        .output()
        .unwrap();
    if denied(&out) {
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stacks = read_folded(&folded);
    let switches: u64 = stacks.values().sum();
    assert!(switches >= 10, "ten sleeps switch out at least ten times: {stacks:?}");
    let in_scheduler: u64 = stacks.iter().filter(|(s, _)| s.contains("sched")).map(|(_, n)| n).sum();
    assert!(in_scheduler * 10 >= switches * 9, "switches happen in the kernel's scheduler: {stacks:?}");
    assert!(stacks.keys().any(|s| s.contains("_[k]")), "kernel frames are annotated: {stacks:?}");
}

#[test]
fn jit_frames_are_named_from_the_perf_map() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("jit");
    let out = Command::new("gcc").args(["-O2", "-o"]).arg(&exe).arg(fixture("jit.c")).output().unwrap();
    assert!(out.status.success(), "gcc failed: {}", text(&out.stderr));
    let folded = dir.path().join("jit.folded");
    let out = plumb().args(["profile", "-F", "499", "-o"]).arg(&folded).arg("--").arg(&exe).arg("2").output().unwrap();
    if denied(&out) {
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stacks = read_folded(&folded);
    let total: u64 = stacks.values().sum();
    let in_jit: u64 = stacks.iter().filter(|(s, _)| s.contains("jit_spin_loop_[j]")).map(|(_, n)| n).sum();
    assert!(total >= 100 && in_jit * 10 >= total * 9, "{in_jit} of {total} samples in the JIT code: {stacks:?}");
}
