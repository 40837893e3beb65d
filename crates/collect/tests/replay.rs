//! Data-driven replay: each directory under `test_data/replay/` holds two captured trees, `t0/`
//! and `t1/` (made by `test_data/capture.sh`), the seconds between them in `interval`, and the
//! samples the whole collector must produce from them in `expected.txt`. A missing expected file
//! fails; `PLUMB_BLESS=1` rewrites it (then read the diff before committing).

use std::fmt::Write;
use std::path::Path;

use plumb_collect::{Collector, FsRoot, Group, Options};

fn render(samples: &[plumb_model::Sample]) -> String {
    let mut out = String::new();
    for s in samples {
        let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "{}{{{}}} {:.4}", s.name, tags.join(","), s.value);
    }
    out
}

#[test]
fn replayed_captures_give_the_expected_samples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/replay");
    let mut cases: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    assert!(!cases.is_empty(), "no replay cases under {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let interval: f64 = std::fs::read_to_string(case.join("interval")).unwrap().trim().parse().unwrap();
        let (t0, t1) = (FsRoot::under(case.join("t0")), FsRoot::under(case.join("t1")));
        let mut c = Collector::new(Options { root: t0.clone(), groups: Group::ALL.to_vec(), top_processes: 10 });
        let (_, notes0) = c.collect_at(&t0, 0, None);
        let (snap, notes1) = c.collect_at(&t1, (interval * 1000.0) as i64, Some(interval));
        let mut got = render(&snap.samples);
        for n in notes0.iter().chain(&notes1) {
            let _ = writeln!(got, "note: {n}");
        }
        let got = got.replace(case.to_str().unwrap(), "CASE");
        let expected_path = case.join("expected.txt");
        if std::env::var_os("PLUMB_BLESS").is_some() {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(exp) if exp == got => {}
            Ok(exp) => {
                let first = exp.lines().zip(got.lines()).position(|(a, b)| a != b);
                failures.push(format!(
                    "{}: differs at line {:?}\n  expected: {:?}\n  got:      {:?}",
                    case.display(),
                    first.map(|i| i + 1),
                    first.and_then(|i| exp.lines().nth(i)),
                    first.and_then(|i| got.lines().nth(i))
                ));
            }
            Err(e) => failures.push(format!("{}: {e} (run with PLUMB_BLESS=1 to create it)", expected_path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{} replay cases", cases.len());
}
