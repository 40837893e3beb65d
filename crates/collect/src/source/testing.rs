//! Helpers shared by the sources' unit tests: captured test data and two-reading replays.

use std::path::PathBuf;

use plumb_model::{MetricDef, Sample, Snapshot};

use super::Source;
use crate::FsRoot;

/// `test_data/SOURCE/REL` of this crate.
pub fn data(source: &str, rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(source).join(rel)
}

/// Two cycles of `src` over `test_data/SOURCE/t0/` and `t1/`, as if `secs` passed between them:
/// the samples of the first and the snapshot of the second.
pub fn two_cycles(src: &mut impl Source, source: &str, secs: f64) -> (Vec<Sample>, Snapshot) {
    let mut first = Vec::new();
    src.collect(&FsRoot::under(data(source, "t0")), None, &mut first).unwrap();
    let mut snap = Snapshot::default();
    src.collect(&FsRoot::under(data(source, "t1")), Some(secs), &mut snap.samples).unwrap();
    (first, snap)
}

/// Checks the figures of the row tagged `key=value`, one per definition of `defs` in order, to
/// 1e-9 relative.
#[track_caller]
pub fn check_row(snap: &Snapshot, defs: &[MetricDef], (key, value): (&str, &str), want: &[f64]) {
    assert_eq!(defs.len(), want.len(), "one expected figure per metric");
    for (m, w) in defs.iter().zip(want) {
        let got = snap.value(m.name, &[(key, value)]);
        assert!(got.is_some_and(|g| (g - w).abs() <= 1e-9 * w.abs().max(1.0)), "{value} {}: {got:?}, want {w}", m.name);
    }
}
