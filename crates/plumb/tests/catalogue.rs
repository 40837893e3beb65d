//! docs/metrics.md is generated from the metric declarations; this test fails when it drifts.
//! `PLUMB_BLESS=1 cargo test -p plumb --test catalogue` rewrites it.

use std::path::Path;
use std::process::Command;

#[test]
fn docs_metrics_md_matches_the_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_plumb")).args(["metrics", "--markdown"]).output().unwrap();
    assert!(out.status.success(), "plumb metrics failed: {}", String::from_utf8_lossy(&out.stderr));
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metrics.md");
    if std::env::var_os("PLUMB_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{} is missing ({e}); run PLUMB_BLESS=1 cargo test -p plumb --test catalogue", path.display())
    });
    assert!(
        on_disk == generated,
        "docs/metrics.md differs from `plumb metrics --markdown`; run PLUMB_BLESS=1 cargo test -p plumb --test catalogue"
    );
}

#[test]
fn every_metric_is_declared_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_plumb")).args(["metrics", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "a metric name is declared twice");
    assert!(names.len() > 50, "only {} metrics declared", names.len());
}
