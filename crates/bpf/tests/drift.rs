//! The committed objects match their sources: rebuilds `src/bpf/*.bpf.c` with `build-bpf.sh`
//! into a temp dir and compares the bytes with `objects/`. Needs clang and llvm-strip of the
//! version recorded in `objects/CLANG_VERSION` (clang's output differs between versions); when
//! they are absent or another version, the test skips with a reason, and fails instead under
//! `PLUMB_REQUIRE_PRIVILEGED=1` (CI, which installs Debian's clang).

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("PLUMB_REQUIRE_PRIVILEGED").is_ok_and(|v| v == "1")
}

/// Skips (returns true) with a printed reason, or panics when CI requires the check.
fn skip(reason: &str) -> bool {
    assert!(!required(), "BPF object drift check cannot run: {reason}");
    eprintln!("skipping the BPF object drift check: {reason}");
    true
}

fn clang_version() -> Option<String> {
    let out = Command::new("clang").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string)
}

fn object_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".o"))
        .collect();
    names.sort();
    names
}

#[test]
fn committed_objects_match_their_sources() {
    let committed = crate_dir().join("objects");
    let recorded = std::fs::read_to_string(committed.join("CLANG_VERSION")).unwrap();
    let Some(local) = clang_version() else {
        skip("clang is not installed (apt-get install clang llvm)");
        return;
    };
    if local.trim() != recorded.trim() {
        skip(&format!("objects were built with `{}`, this machine has `{}`", recorded.trim(), local.trim()));
        return;
    }
    if Command::new("llvm-strip").arg("--version").output().is_err() {
        skip("llvm-strip is not installed (apt-get install llvm)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(crate_dir().join("build-bpf.sh")).arg(tmp.path()).status().unwrap();
    assert!(status.success(), "build-bpf.sh failed");

    let sources: Vec<String> = std::fs::read_dir(crate_dir().join("src/bpf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf.c"))
        .map(|n| n.replace(".bpf.c", ".bpf.o"))
        .collect();
    let mut sources = sources;
    sources.sort();
    assert_eq!(object_names(&committed), sources, "objects/ must hold exactly one object per source");
    assert_eq!(object_names(tmp.path()), sources);
    for name in &sources {
        let fresh = std::fs::read(tmp.path().join(name)).unwrap();
        let old = std::fs::read(committed.join(name)).unwrap();
        assert!(
            fresh == old,
            "crates/bpf/objects/{name} is stale: its source changed; run crates/bpf/build-bpf.sh and commit the result"
        );
    }
}
