//! Evaluation of the `filter` vocabulary on a small data set with exact expected values:
//! `:stat`, `:filter` with stat placeholders, `:topk`/`:bottomk` and their `--others--` line;
//! and a property that a priority filter returns at most `k` lines, plus one with others; and
//! `:consolidate` to larger buckets shown on the graph's grid.
//!
//! Design decision: the data set is four clusters whose statistics all differ and rank in
//! different orders by `max`, `avg` and `last`, so a ranking by the wrong statistic, or in the
//! wrong direction, picks different lines and fails.

mod common;

use common::{MemorySource, same_values};
use plumb_atlas::{EvalContext, Interpreter, TimeSeries};
use proptest::prelude::*;

const MINUTE: i64 = 60_000;

/// Clusters on a 3-minute grid: max a=5 b=4 c=none d=9; avg a=8/3 b=4 d=10/3; last a=2 b=4 d=1.
fn source() -> MemorySource {
    let mut source = MemorySource::default();
    let nan = f64::NAN;
    for (cluster, values) in
        [("a", [1.0, 5.0, 2.0]), ("b", [4.0, 4.0, nan]), ("c", [nan, nan, nan]), ("d", [0.0, 9.0, 1.0])]
    {
        source.add(&[("name", "sps"), ("nf.cluster", cluster)], MINUTE, MINUTE, &values);
    }
    source
}

fn run(program: &str) -> Vec<TimeSeries> {
    let context = EvalContext::new(MINUTE, 3 * MINUTE, MINUTE).unwrap();
    Interpreter::default().evaluate(program, &context, &source()).unwrap()
}

fn labels(lines: &[TimeSeries]) -> Vec<&str> {
    lines.iter().map(|l| l.label.as_str()).collect()
}

const BY_CLUSTER: &str = "name,sps,:eq,(,nf.cluster,),:by";

#[test]
fn stat_is_a_constant_line_per_input_line() {
    let lines = run(&format!("{BY_CLUSTER},avg,:stat"));
    assert_eq!(
        labels(&lines),
        [
            "stat-avg((nf.cluster=a))",
            "stat-avg((nf.cluster=b))",
            "stat-avg((nf.cluster=c))",
            "stat-avg((nf.cluster=d))"
        ]
    );
    assert!(same_values(&lines[0].values, &[8.0 / 3.0; 3]));
    assert!(same_values(&lines[1].values, &[4.0; 3]));
    assert!(lines[2].values.iter().all(|v| v.is_nan()), "no data, no statistic");
    let total = run("name,sps,:eq,total,:stat");
    assert!(same_values(&total[0].values, &[26.0; 3]), "{:?}", total[0].values);
    let max = run("name,sps,:eq,:sum,:stat-max-mf");
    assert!(same_values(&max[0].values, &[18.0; 3]), "max of the sum 5,18,3: {:?}", max[0].values);
}

#[test]
fn filter_keeps_lines_whose_condition_holds() {
    let lines = run(&format!("{BY_CLUSTER},:stat-avg,3,:gt,:filter"));
    assert_eq!(labels(&lines), ["(nf.cluster=b)", "(nf.cluster=d)"]);
    assert!(same_values(&lines[1].values, &[0.0, 9.0, 1.0]), "the original data, not the stat");
    let verbose = run(&format!("{BY_CLUSTER},:dup,avg,:stat,3,:gt,:filter"));
    assert_eq!(labels(&verbose), labels(&lines));
    assert!(run(&format!("{BY_CLUSTER},0,:filter")).is_empty());
    assert_eq!(run(&format!("{BY_CLUSTER},1,:filter")).len(), 4);
    let range = run(&format!("{BY_CLUSTER},:stat-max,4,:ge,:stat-last,3,:lt,:and,:filter"));
    assert_eq!(labels(&range), ["(nf.cluster=a)", "(nf.cluster=d)"]);
}

#[test]
fn topk_and_bottomk_pick_by_the_statistic() {
    assert_eq!(labels(&run(&format!("{BY_CLUSTER},max,2,:topk"))), ["(nf.cluster=d)", "(nf.cluster=a)"]);
    assert_eq!(labels(&run(&format!("{BY_CLUSTER},avg,2,:topk"))), ["(nf.cluster=b)", "(nf.cluster=d)"]);
    assert_eq!(labels(&run(&format!("{BY_CLUSTER},last,1,:bottomk"))), ["(nf.cluster=d)"]);
    assert_eq!(labels(&run(&format!("{BY_CLUSTER},max,10,:topk"))).len(), 4);
}

#[test]
fn others_lines_combine_the_rest() {
    let lines = run(&format!("{BY_CLUSTER},max,1,:topk-others-sum"));
    assert_eq!(labels(&lines), ["(nf.cluster=d)", "--others--"]);
    assert_eq!(lines[1].tags.get("nf.cluster").map(String::as_str), Some("--others--"));
    assert!(same_values(&lines[1].values, &[5.0, 9.0, 2.0]), "{:?}", lines[1].values);
    let avg = run(&format!("{BY_CLUSTER},max,1,:topk-others-avg"));
    assert!(same_values(&avg[1].values, &[2.5, 4.5, 2.0]), "{:?}", avg[1].values);
    let min = run(&format!("{BY_CLUSTER},avg,2,:bottomk-others-min"));
    assert_eq!(labels(&min), ["(nf.cluster=a)", "(nf.cluster=d)", "--others--"]);
    assert!(same_values(&min[2].values, &[4.0, 4.0, f64::NAN]), "{:?}", min[2].values);
    let max = run(&format!("{BY_CLUSTER},max,3,:bottomk-others-max"));
    assert_eq!(labels(&max), ["(nf.cluster=b)", "(nf.cluster=a)", "(nf.cluster=d)", "--others--"]);
    assert!(max[3].values.iter().all(|v| v.is_nan()), "only the empty cluster is left");
}

#[test]
fn placeholders_outside_filter_fail_at_evaluation() {
    let context = EvalContext::new(MINUTE, 3 * MINUTE, MINUTE).unwrap();
    let err = Interpreter::default().evaluate(":stat-avg", &context, &source()).unwrap_err();
    assert!(err.reason.to_string().contains(":filter"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn priority_filters_return_at_most_k_lines(
        rows in prop::collection::vec(prop::collection::vec(prop_oneof![4 => -1e3..1e3f64, 1 => Just(f64::NAN)], 3), 0..8),
        k in 1..6usize,
        stat in prop::sample::select(vec!["avg", "max", "min", "last", "total", "count"]),
        word in prop::sample::select(vec!["topk", "bottomk", "topk-others-min", "bottomk-others-avg", "topk-others-sum"]),
    ) {
        let mut source = MemorySource::default();
        for (i, values) in rows.iter().enumerate() {
            source.add(&[("name", "sps"), ("nf.cluster", &format!("c{i}"))], MINUTE, MINUTE, values);
        }
        let context = EvalContext::new(MINUTE, 3 * MINUTE, MINUTE).unwrap();
        let program = format!("{BY_CLUSTER},{stat},{k},:{word}");
        let lines = Interpreter::default().evaluate(&program, &context, &source).unwrap();
        let others = word.contains("others") && rows.len() > k;
        prop_assert_eq!(lines.len(), rows.len().min(k) + usize::from(others), "{}", program);
        prop_assert_eq!(lines.iter().filter(|l| l.label == "--others--").count(), usize::from(others));
    }
}

#[test]
fn consolidate_shows_each_bucket_on_the_graph_grid() {
    // Grid 1m..3m; 2m buckets end at 2m and 4m: (0,2] holds 1m and 2m, (2,4] holds 3m.
    let max = run("name,sps,:eq,(,nf.cluster,),:by,max,2m,:consolidate");
    assert_eq!(labels(&max), ["(nf.cluster=a)", "(nf.cluster=b)", "(nf.cluster=c)", "(nf.cluster=d)"]);
    assert!(same_values(&max[0].values, &[5.0, 5.0, 2.0]), "{:?}", max[0].values);
    assert!(same_values(&max[3].values, &[9.0, 9.0, 1.0]));
    let avg = run("name,sps,:eq,(,nf.cluster,),:by,avg,90s,:consolidate");
    assert!(same_values(&avg[0].values, &[3.0, 3.0, 2.0]), "90s rounds up to 2m: {:?}", avg[0].values);
    assert!(same_values(&avg[1].values, &[4.0, 4.0, f64::NAN]), "a bucket with no value is NaN");
    let sum = run("name,sps,:eq,(,nf.cluster,),:by,sum,3m,:consolidate");
    assert!(same_values(&sum[0].values, &[8.0, 8.0, 8.0]));
    let same_step = run("name,sps,:eq,(,nf.cluster,),:by,min,1m,:consolidate");
    assert!(same_values(&same_step[0].values, &[1.0, 5.0, 2.0]), "the graph's step changes nothing");
    let context = EvalContext::new(MINUTE, 3 * MINUTE, MINUTE).unwrap();
    let err = Interpreter::default().evaluate("name,sps,:eq,avg,45s,:consolidate", &context, &source()).unwrap_err();
    assert!(err.to_string().contains("multiple or a divisor"), "{err}");
}
