//! The `stateful` vocabulary end to end: programs evaluated on a grid keep every line's length
//! whatever the window, print back as written, and refuse bad parameters; DES and sliding DES
//! predict as Atlas's online algorithms do, the DES helpers use the parameters of Atlas's
//! `asl/des.md` table, and `:approx-distinct(-cumulative)` estimate from sketch registers.
//!
//! Design decision: the property runs whole programs through [`Interpreter::evaluate`] rather
//! than the window functions alone, so parsing, the expression tree and evaluation are all
//! covered by the same random inputs.

mod common;

use common::{MemorySource, same_values};
use plumb_atlas::{EvalContext, Interpreter};
use proptest::prelude::*;

const MINUTE: i64 = 60_000;

fn source(values: &[f64]) -> MemorySource {
    let mut source = MemorySource::default();
    source.add(&[("name", "x")], 10 * MINUTE, MINUTE, values);
    source
}

fn grid(len: usize) -> EvalContext {
    EvalContext::new(10 * MINUTE, (10 + len as i64 - 1) * MINUTE, MINUTE).unwrap()
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![Just(f64::NAN), Just(0.0), -1e6..1e6f64]
}

proptest! {
    #[test]
    fn random_windows_keep_the_grid_length(
        values in proptest::collection::vec(value(), 2..60),
        n in 0i64..100_000,
        min_values in 1i64..10,
        word in 0usize..13,
    ) {
        let op = match word {
            0 => format!("{n},:rolling-count"),
            1 => format!("{n},:rolling-min"),
            2 => format!("{n},:rolling-max"),
            3 => format!("{n},{min_values},:rolling-mean"),
            4 => format!("{n},:rolling-sum"),
            5 => format!("{n},:delay"),
            6 => ":integral".to_string(),
            7 => ":derivative".to_string(),
            8 => format!("{n}m,:trend"),
            9 => format!("{n},0.1,0.5,:des"),
            10 => format!("{n},0.1,0.5,:sdes"),
            11 => ":cumulative-max".to_string(),
            _ => format!("max,{n}m,:consolidate"),
        };
        let program = format!("name,x,:eq,:sum,{op}");
        let context = grid(values.len());
        match Interpreter::default().evaluate(&program, &context, &source(&values)) {
            Ok(lines) => {
                prop_assert_eq!(lines.len(), 1);
                prop_assert_eq!(lines[0].values.len(), values.len());
            }
            Err(e) => prop_assert!(n == 0 && !matches!(word, 5..=7 | 9 | 11), "{program}: {e}"),
        }
    }
}

#[test]
fn programs_print_back_as_written() {
    let interpreter = Interpreter::default();
    for program in [
        "name,x,:eq,:sum,5,:rolling-count",
        "name,x,:eq,:sum,5,3,:rolling-mean",
        "name,x,:eq,:sum,(,c,),:by,2,:delay",
        "name,x,:eq,:sum,:integral,:derivative",
        "name,x,:eq,:sum,10m,:trend",
        "name,x,:eq,:sum,5,0.1,0.5,:des",
        "name,x,:eq,:sum,(,c,),:by,10,0.05,0.03,:sdes",
        "name,x,:eq,:sum,:cumulative-max",
        "name,x,:eq,:sum,:des-fast",
        "name,x,:eq,:sum,:sdes-slow",
        "name,x,:eq,:sum,:approx-distinct-cumulative",
        "name,x,:eq,:sum,(,c,),:by,:approx-distinct-cumulative",
    ] {
        let exprs = interpreter.parse_expressions(program).unwrap();
        assert_eq!(exprs[0].to_string(), program);
        assert_eq!(interpreter.parse_expressions(&exprs[0].to_string()).unwrap(), exprs);
    }
    let grouped = interpreter.parse_expressions("name,x,:eq,(,c,),:by,3,:rolling-max").unwrap();
    assert_eq!(grouped[0].grouping(), ["c"], "keeps the input's grouping");
}

#[test]
fn bad_parameters_are_refused() {
    let interpreter = Interpreter::default();
    for program in [
        "name,x,:eq,0,:rolling-sum",
        "name,x,:eq,-3,:rolling-min",
        "name,x,:eq,-1,:delay",
        "name,x,:eq,5,0,:rolling-mean",
        "name,x,:eq,0s,:trend",
        "name,x,:eq,abc,:rolling-count",
        "name,x,:eq,:des",
        "name,x,:eq,-1,0.1,0.5,:des",
        "name,x,:eq,0,0.1,0.5,:sdes",
        "name,x,:eq,5,a,0.5,:sdes",
        "42,:approx-distinct-cumulative",
        "name,x,:eq,10,0.1,0.5,0.2,0.2,:des-epic-signal",
    ] {
        assert!(interpreter.execute(program).is_err(), "{program}");
    }
}

#[test]
fn evaluates_per_line_in_time_order() {
    let mut source = MemorySource::default();
    source.add(&[("name", "x"), ("c", "a")], 10 * MINUTE, MINUTE, &[1.0, 2.0, 3.0, 4.0]);
    source.add(&[("name", "x"), ("c", "b")], 10 * MINUTE, MINUTE, &[10.0, f64::NAN, 30.0, 40.0]);
    let lines = Interpreter::default().evaluate("name,x,:eq,(,c,),:by,2,:rolling-sum", &grid(4), &source).unwrap();
    assert_eq!(lines.len(), 2);
    assert!(same_values(&lines[0].values, &[1.0, 3.0, 5.0, 7.0]), "{:?}", lines[0].values);
    assert!(same_values(&lines[1].values, &[10.0, 10.0, 30.0, 70.0]), "{:?}", lines[1].values);
    assert_eq!(lines[0].label, "(c=a)", "the input's label is kept");
    let delayed = Interpreter::default().evaluate("name,x,:eq,:sum,1,:delay", &grid(4), &source).unwrap();
    assert!(same_values(&delayed[0].values, &[f64::NAN, 11.0, 2.0, 33.0]), "{:?}", delayed[0].values);
}

/// Atlas's `asl/des.md` "Recommended Values" table, verbatim (doc_value_tables.md
/// `asl/des.md:65`): each helper is `:des` with a training of 10 and these alpha and beta.
const DES_HELPERS_TABLE: &str = "\
| Helper                             | Alpha  | Beta  |
|------------------------------------|--------|-------|
| [:des-fast](ref/des-fast.md)       | 0.1    | 0.02  |
| [:des-slower](ref/des-slower.md) | 0.05   | 0.03  |
| [:des-slow](ref/des-slow.md)     | 0.03   | 0.04  |
";

#[test]
fn des_helpers_use_the_documented_parameters() {
    let rows: Vec<Vec<&str>> = DES_HELPERS_TABLE
        .lines()
        .skip(2)
        .map(|row| row.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    let values: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 23) + if i > 20 { 40.0 } else { 0.0 }).collect();
    let context = grid(values.len());
    let interpreter = Interpreter::default();
    for row in rows {
        let [link, alpha, beta] = row.as_slice() else { panic!("bad row {row:?}") };
        let helper = link.trim_start_matches('[').split(']').next().unwrap();
        let macro_form = format!("name,x,:eq,:sum,{helper}");
        let explicit = format!("name,x,:eq,:sum,10,{alpha},{beta},:des");
        let via_macro = interpreter.evaluate(&macro_form, &context, &source(&values)).unwrap();
        let direct = interpreter.evaluate(&explicit, &context, &source(&values)).unwrap();
        assert!(same_values(&via_macro[0].values, &direct[0].values), "{helper} is {explicit}");
        assert!(via_macro[0].values[..10].iter().all(|v| v.is_nan()), "{helper} trains on 10 points");
        assert!(!via_macro[0].values[10].is_nan(), "{helper} predicts from the 11th point");
        // A different alpha or beta would predict differently on this input.
        let other = interpreter.evaluate("name,x,:eq,:sum,10,0.5,0.5,:des", &context, &source(&values)).unwrap();
        assert!(!same_values(&via_macro[0].values, &other[0].values), "{helper} is not 10,0.5,0.5");
    }
}

#[test]
fn des_and_sliding_des_predict_from_earlier_values() {
    let interpreter = Interpreter::default();
    let values = [1.0, 3.0, 5.0, f64::NAN, 7.0];
    let lines = interpreter.evaluate("name,x,:eq,:sum,1,0.5,0.5,:des", &grid(5), &source(&values)).unwrap();
    // s=1,b=0; s=2,b=0.5; s=3.75,b=1.125; NaN keeps them; then the level before 7 is 3.75.
    assert!(same_values(&lines[0].values, &[f64::NAN, 1.0, 2.0, 3.75, 3.75]), "{:?}", lines[0].values);

    // Sliding DES depends only on the data since a training boundary: two graphs starting on
    // boundaries 10 and 15 minutes agree once the later one has trained a window.
    let values: Vec<f64> = (0..30).map(|i| f64::from((i * 13) % 7)).collect();
    let mut source = MemorySource::default();
    source.add(&[("name", "x")], 10 * MINUTE, MINUTE, &values);
    let program = "name,x,:eq,:sum,5,0.3,0.2,:sdes";
    let early = EvalContext::new(10 * MINUTE, 39 * MINUTE, MINUTE).unwrap();
    let late = EvalContext::new(15 * MINUTE, 39 * MINUTE, MINUTE).unwrap();
    let early = interpreter.evaluate(program, &early, &source).unwrap();
    let late = interpreter.evaluate(program, &late, &source).unwrap();
    assert!(late[0].values[..5].iter().all(|v| v.is_nan()), "the first window trains");
    assert!(same_values(&early[0].values[10..], &late[0].values[5..]), "{:?} vs {:?}", early[0].values, late[0].values);
    let unaligned = EvalContext::new(12 * MINUTE, 39 * MINUTE, MINUTE).unwrap();
    let unaligned = interpreter.evaluate(program, &unaligned, &source).unwrap();
    assert!(unaligned[0].values[..3].iter().all(|v| v.is_nan()), "points before the 15m boundary are ignored");
}

#[test]
fn cumulative_max_runs_from_the_graph_start() {
    let lines = Interpreter::default()
        .evaluate("name,x,:eq,:sum,:cumulative-max", &grid(6), &source(&[1.0, 2.0, 0.0, f64::NAN, 5.0, 3.0]))
        .unwrap();
    assert!(same_values(&lines[0].values, &[1.0, 2.0, 2.0, 2.0, 5.0, 5.0]), "{:?}", lines[0].values);
}

#[test]
fn des_epic_signal_flags_values_outside_both_bounds() {
    // Training 1, alpha 1, beta 0: the prediction is the previous value. Bounds: 10% and a
    // noise of 1. 10 -> 10 is inside; 10 -> 20 is above both; 20 -> 19.5 is within the noise.
    let values = [10.0, 10.0, 20.0, 19.5, 5.0];
    let lines = Interpreter::default()
        .evaluate("name,x,:eq,:sum,1,1,0,0.1,0.1,1,:des-epic-signal", &grid(5), &source(&values))
        .unwrap();
    assert!(same_values(&lines[0].values, &[0.0, 0.0, 1.0, 0.0, 1.0]), "{:?}", lines[0].values);
}

const REGISTERS: usize = 64;

/// HyperLogLog's estimate as Spectator's `DistinctCountSketch.cardinality` computes it.
fn cardinality(ranks: &[f64; REGISTERS]) -> f64 {
    let m = REGISTERS as f64;
    let sum: f64 = ranks.iter().map(|r| 2f64.powf(-r)).sum();
    let zeros = ranks.iter().filter(|r| **r == 0.0).count();
    let estimate = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    if estimate <= 2.5 * m && zeros > 0 { m * (m / zeros as f64).ln() } else { estimate }
}

/// Register gauges of a sketch: register `i` of `region` gets `ranks(i)` at each point.
fn add_sketch(source: &mut MemorySource, region: &str, points: &[[f64; REGISTERS]]) {
    for register in 0..REGISTERS {
        let id = format!("R{register:02X}");
        let values: Vec<f64> = points.iter().map(|p| p[register]).collect();
        source.add(
            &[("name", "users"), ("statistic", "distinct"), ("distinct", &id), ("region", region)],
            10 * MINUTE,
            MINUTE,
            &values,
        );
    }
}

fn ranks(f: impl Fn(usize) -> f64) -> [f64; REGISTERS] {
    std::array::from_fn(f)
}

#[test]
fn approx_distinct_estimates_from_merged_registers() {
    let interpreter = Interpreter::default();
    let east = [ranks(|i| (i % 4) as f64), ranks(|i| (i % 7) as f64 + 1.0), ranks(|_| 0.0)];
    let west = [ranks(|i| (i % 3) as f64 + 2.0), ranks(|_| 0.0), ranks(|_| 0.0)];
    let mut source = MemorySource::default();
    add_sketch(&mut source, "east", &east);
    add_sketch(&mut source, "west", &west);
    let context = grid(3);

    let merged = interpreter.evaluate("name,users,:eq,:approx-distinct", &context, &source).unwrap();
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].label, "approx-distinct(name=users)");
    assert!(!merged[0].tags.contains_key("distinct"));
    let union = ranks(|i| east[0][i].max(west[0][i]));
    assert!((merged[0].values[0] - cardinality(&union)).abs() < 1e-9, "{:?}", merged[0].values);
    assert!((merged[0].values[1] - cardinality(&east[1])).abs() < 1e-9);
    assert!(merged[0].values[2].is_nan(), "every register unset: no data, not 0");

    let by_region = interpreter.evaluate("name,users,:eq,(,region,),:by,:approx-distinct", &context, &source).unwrap();
    let labels: Vec<&str> = by_region.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["(region=east)", "(region=west)"]);
    assert!((by_region[0].values[0] - cardinality(&east[0])).abs() < 1e-9);
    assert!((by_region[1].values[0] - cardinality(&west[0])).abs() < 1e-9);
    assert!(by_region[1].values[1].is_nan());

    // Cumulative: the registers' running maximum, so the estimate never decreases and holds
    // through the interval without data.
    let cumulative = interpreter.evaluate("name,users,:eq,:approx-distinct-cumulative", &context, &source).unwrap();
    let running = ranks(|i| union[i].max(east[1][i]));
    assert!((cumulative[0].values[0] - cardinality(&union)).abs() < 1e-9);
    assert!((cumulative[0].values[1] - cardinality(&running)).abs() < 1e-9, "{:?}", cumulative[0].values);
    assert!((cumulative[0].values[2] - cardinality(&running)).abs() < 1e-9);
}

#[test]
fn approx_distinct_refuses_two_lines_for_one_register() {
    let mut source = MemorySource::default();
    for id in ["R0A", "R0a"] {
        source.add(&[("name", "users"), ("distinct", id)], 10 * MINUTE, MINUTE, &[1.0]);
    }
    let err = Interpreter::default().evaluate("name,users,:eq,:approx-distinct", &grid(1), &source).unwrap_err();
    assert!(err.to_string().contains("invalid distinct encoding: [R0A,R0a]"), "{err}");
    let none = Interpreter::default().evaluate("name,nobody,:eq,:approx-distinct", &grid(1), &source).unwrap();
    assert!(none.is_empty(), "no register lines, no estimate: {none:?}");
}
