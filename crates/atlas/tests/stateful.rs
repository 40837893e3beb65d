//! The `stateful` vocabulary end to end: programs evaluated on a grid keep every line's length
//! whatever the window, print back as written, and refuse bad parameters.
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
        word in 0usize..9,
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
            _ => format!("{n}m,:trend"),
        };
        let program = format!("name,x,:eq,:sum,{op}");
        let context = grid(values.len());
        match Interpreter::default().evaluate(&program, &context, &source(&values)) {
            Ok(lines) => {
                prop_assert_eq!(lines.len(), 1);
                prop_assert_eq!(lines[0].values.len(), values.len());
            }
            Err(e) => prop_assert!(n == 0 && !matches!(word, 5..=7), "{program}: {e}"),
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
