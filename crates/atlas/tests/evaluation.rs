//! Evaluation against an in-memory source: the numeric tables of Atlas's docs
//! (`test_data/value_tables.tsv`, every section of `doc_value_tables.md` classified in
//! `test_data/doc_tables.tsv`), the tutorial's data set and queries
//! (`test_data/tutorial_*.tsv`), and the rules of consolidation, offsets, joins, labels and
//! errors.
//!
//! Design decision: the tables are data files copied from the docs with their origin on each
//! row, and every row must produce exactly the documented values; a missing file or row fails.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{MemorySource, numbers, same_values};
use plumb_atlas::{EvalContext, Interpreter, Query, RawSeries, Reason, Source, TimeSeries};

const MINUTE: i64 = 60_000;

fn rows(name: &str) -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

fn evaluate(program: &str, context: &EvalContext, source: &dyn Source) -> Vec<TimeSeries> {
    Interpreter::default().evaluate(program, context, source).unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// A grid of `n` (at least 2, as Atlas's rounding gives) minutes starting at minute 10.
fn minutes(n: i64) -> EvalContext {
    EvalContext::new(10 * MINUTE, (10 + n - 1) * MINUTE, MINUTE).unwrap()
}

fn tags(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap())
        .collect()
}

#[test]
fn value_tables_from_the_docs() {
    let table = rows("value_tables.tsv");
    assert!(table.len() >= 20, "the tables are all there");
    for row in &table {
        let [program, input1, input2, expected, origin] = row.as_slice() else { panic!("bad row {row:?}") };
        let (a, b, want) = (numbers(input1), numbers(input2), numbers(expected));
        let mut source = MemorySource::default();
        source.add(&[("name", "input1")], 10 * MINUTE, MINUTE, &a);
        source.add(&[("name", "input2")], 10 * MINUTE, MINUTE, &b);
        let lines = evaluate(program, &minutes(a.len() as i64), &source);
        assert_eq!(lines.len(), 1, "{program} ({origin})");
        assert!(same_values(&lines[0].values, &want), "{program} ({origin}): {:?} != {want:?}", lines[0].values);
    }
    println!("value tables: {} rows match the docs", table.len());
}

#[test]
fn tutorial_queries_on_the_tutorial_data_set() {
    // 2012-01-01T05:00Z and 05:01Z.
    let t0 = 1_325_394_000_000;
    let mut source = MemorySource::default();
    for row in rows("tutorial_series.tsv") {
        let pairs: Vec<(&str, &str)> = [("name", &row[0]), ("app", &row[1]), ("node", &row[2])]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.as_str()))
            .collect();
        source.add(&pairs, t0, MINUTE, &numbers(&format!("{},{}", row[3], row[4])));
    }
    let context = EvalContext::new(t0, t0 + MINUTE, MINUTE).unwrap();
    let mut expected: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for row in rows("tutorial_queries.tsv") {
        match expected.last_mut() {
            Some((program, lines)) if *program == row[0] => lines.push(row),
            _ => expected.push((row[0].clone(), vec![row])),
        }
    }
    for (program, want) in &expected {
        let lines = evaluate(program, &context, &source);
        assert_eq!(lines.len(), want.len(), "{program}: {lines:?}");
        for (line, row) in lines.iter().zip(want) {
            assert_eq!(line.label, row[1], "{program} ({})", row[4]);
            assert_eq!(line.tags, tags(&row[2]), "{program} ({})", row[4]);
            assert!(same_values(&line.values, &numbers(&row[3])), "{program}: {:?}", line.values);
        }
    }
}

#[test]
fn finer_samples_consolidate_to_the_step() {
    let mut source = MemorySource::default();
    // Six samples per minute: 1..=6 in the interval ending at minute 10, 10..=60 in the next.
    source.add(&[("name", "a")], 9 * MINUTE + 10_000, 10_000, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    source.add(&[("name", "a")], 10 * MINUTE + 10_000, 10_000, &[10.0, 20.0, 30.0, 40.0, 50.0, f64::NAN]);
    let context = minutes(2);
    let cases = [
        ("name,a,:eq", [3.5, 30.0]),
        ("name,a,:eq,:cf-sum", [21.0, 150.0]),
        ("name,a,:eq,:cf-max", [6.0, 50.0]),
        ("name,a,:eq,:min", [1.0, 10.0]),
        ("name,a,:eq,:max", [6.0, 50.0]),
        ("name,a,:eq,:max,:cf-avg", [3.5, 30.0]),
    ];
    for (program, want) in cases {
        let lines = evaluate(program, &context, &source);
        assert!(same_values(&lines[0].values, &want), "{program}: {:?}", lines[0].values);
    }
}

#[test]
fn offsets_read_earlier_data_and_say_so_in_the_label() {
    let mut source = MemorySource::default();
    source.add(&[("name", "a")], 8 * MINUTE, MINUTE, &[1.0, 2.0, 3.0, 4.0]);
    let lines = evaluate("name,a,:eq,:sum,2m,:offset,name,a,:eq", &minutes(2), &source);
    assert_eq!(lines[0].label, "sum(name=a) (offset=2m)");
    assert!(same_values(&lines[0].values, &[1.0, 2.0]), "{:?}", lines[0].values);
    assert!(same_values(&lines[1].values, &[3.0, 4.0]));
    let lines = evaluate("name,a,:eq,(,name,),:by,1m,:offset", &minutes(2), &source);
    assert_eq!(lines[0].label, "(name=a) (offset=1m)");
    assert!(same_values(&lines[0].values, &[2.0, 3.0]));
}

fn grouped_source() -> MemorySource {
    let mut source = MemorySource::default();
    for (name, zone, v) in
        [("a", "z1", 10.0), ("a", "z1", 5.0), ("a", "z2", 20.0), ("a", "z3", 1.0), ("b", "z1", 2.0), ("b", "z2", 4.0)]
    {
        source.add(
            &[("name", name), ("zone", zone), ("node", &format!("{name}{zone}{v}"))],
            10 * MINUTE,
            MINUTE,
            &[v, v],
        );
    }
    source
}

#[test]
fn binary_operators_join_groups_by_key() {
    let source = grouped_source();
    let lines = evaluate("name,a,:eq,(,zone,),:by,name,b,:eq,(,zone,),:by,:div", &minutes(2), &source);
    let got: Vec<(String, f64)> = lines.iter().map(|l| (l.tags["zone"].clone(), l.values[0])).collect();
    assert_eq!(got, [("z1".into(), 7.5), ("z2".into(), 5.0)], "z3 has no partner and is dropped");
    assert_eq!(lines[0].label, "name=a, zone=z1");

    let lines = evaluate("name,b,:eq,name,a,:eq,(,zone,),:by,:sub", &minutes(2), &source);
    let got: Vec<f64> = lines.iter().map(|l| l.values[0]).collect();
    assert_eq!(got, [6.0 - 15.0, 6.0 - 20.0, 6.0 - 1.0], "the ungrouped side meets every group");
    assert_eq!(lines[0].tags, tags("name=a,zone=z1"), "tags of the grouped side");

    let err =
        Interpreter::default().evaluate("name,a,:eq,:all,name,b,:eq,:all,:add", &minutes(2), &source).unwrap_err();
    assert!(matches!(&err.reason, Reason::Evaluation(m) if m.contains("too many values for key")), "{err}");
    assert_eq!(err.token, "name,a,:eq,:all,name,b,:eq,:all,:add");
}

#[test]
fn math_aggregates_and_group_by_over_lines() {
    let source = grouped_source();
    let cases: [(&str, &[(&str, f64)]); 5] = [
        ("name,a,:eq,(,zone,),:by,:max", &[("max(name=a)", 20.0)]),
        ("name,a,:eq,(,zone,),:by,:count", &[("count(name=a)", 3.0)]),
        (
            "name,a,:eq,(,zone,node,),:by,:max,(,zone,),:by",
            &[("(zone=z1)", 10.0), ("(zone=z2)", 20.0), ("(zone=z3)", 1.0)],
        ),
        (
            "name,a,:eq,(,zone,),:by,:pct",
            &[
                ("name=a, zone=z1", 41.666_666_666_666_67),
                ("name=a, zone=z2", 55.555_555_555_555_56),
                ("name=a, zone=z3", 2.777_777_777_777_778),
            ],
        ),
        ("name,a,:eq,(,zone,),:by,zone,az,:as,(,az,),:by", &[("(az=z1)", 15.0), ("(az=z2)", 20.0), ("(az=z3)", 1.0)]),
    ];
    for (program, want) in cases {
        let lines = evaluate(program, &minutes(2), &source);
        let got: Vec<(&str, f64)> = lines.iter().map(|l| (l.label.as_str(), l.values[0])).collect();
        assert_eq!(got.len(), want.len(), "{program}: {got:?}");
        for ((label, v), (want_label, want_v)) in got.iter().zip(want) {
            assert_eq!(label, want_label, "{program}");
            assert!((v - want_v).abs() < 1e-9, "{program}: {v} != {want_v}");
        }
    }
    let stddev = evaluate("name,a,:eq,(,zone,),:by,:stddev", &minutes(2), &source);
    let mean = 12.0;
    let expected = (((15.0f64 - mean).powi(2) + (20.0f64 - mean).powi(2) + (1.0f64 - mean).powi(2)) / 3.0).sqrt();
    assert!((stddev[0].values[0] - expected).abs() < 1e-9, "{:?}", stddev[0].values);
}

#[test]
fn missing_data_is_nan_and_aggregates_say_no_data() {
    let source = MemorySource::default();
    let lines = evaluate("name,none,:eq,:sum", &minutes(2), &source);
    assert_eq!((lines.len(), lines[0].label.as_str()), (1, "NO DATA"));
    assert!(lines[0].values.iter().all(|v| v.is_nan()));
    assert!(evaluate("name,none,:eq,(,k,),:by", &minutes(2), &source).is_empty());
    assert!(evaluate("name,none,:eq,:all", &minutes(2), &source).is_empty());
}

#[test]
fn expressions_evaluate_bottom_first_and_fetch_once_per_input() {
    let mut source = MemorySource::default();
    source.add(&[("name", "a")], 10 * MINUTE, MINUTE, &[1.0, 1.0]);
    let lines = evaluate("name,a,:eq,:dup,2,:mul,:over,:max", &minutes(2), &source);
    let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["sum(name=a)", "name=a", "max(name=a)"]);
    assert_eq!(lines[1].values, [2.0, 2.0]);
    assert_eq!(source.fetches.get(), 2, "one fetch for the sums, one for the max (another consolidation)");
}

#[test]
fn common_query_restricts_every_query() {
    let source = grouped_source();
    let lines = evaluate("name,a,:eq,name,b,:eq,:add,zone,z1,:eq,:cq", &minutes(2), &source);
    assert_eq!(lines[0].values, [17.0, 17.0]);
}

#[test]
fn generators_fill_the_grid() {
    let source = MemorySource::default();
    // 2014-02-20T13:00Z and the two following minutes.
    let t0 = 1_392_901_200_000;
    let context = EvalContext::new(t0, t0 + 2 * MINUTE, MINUTE).unwrap();
    let values = |program: &str| evaluate(program, &context, &source).remove(0);
    assert_eq!(values("42").values, [42.0; 3]);
    assert_eq!(values("42").label, "42.0");
    assert_eq!(values("hourOfDay,:time").values, [13.0; 3]);
    assert_eq!(values("minuteOfHour,:time").values, [0.0, 1.0, 2.0]);
    let span = values("gs,s+1m,:time-span");
    assert_eq!((span.label.as_str(), span.values.as_slice()), ("gs to s+1m", [1.0, 1.0, 0.0].as_slice()));
    assert_eq!(values("e-1m,ge,:time-span").values, [0.0, 0.0, 1.0]);
    assert_eq!(values("2014-02-20T13:01,2014-02-20T13:01,:time-span").values, [0.0, 1.0, 0.0]);
    assert_eq!(values("5,:per-step").values, [300.0; 3]);
    let random = values(":random");
    assert_eq!(random.values, values(":random").values, "deterministic");
    assert!(random.values.iter().all(|v| (0.0..1.0).contains(v)));
    assert_ne!(values("1,:srandom").values, values("2,:srandom").values);
}

#[test]
fn percentiles_from_bucket_counters() {
    let mut source = MemorySource::default();
    // All samples in the distribution bucket with index 0x19 (85 < v <= 106), then none.
    source.add(&[("name", "lat"), ("percentile", "D0019"), ("nf.app", "x")], 10 * MINUTE, MINUTE, &[10.0, 0.0]);
    let lines = evaluate("name,lat,:eq,(,50,90,),:percentiles", &minutes(2), &source);
    let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["percentile(name=lat,  50.0)", "percentile(name=lat,  90.0)"]);
    assert!(same_values(&[lines[0].values[0], lines[1].values[0]], &[95.5, 103.9]), "85 + p * (106 - 85)");
    assert!(lines[0].values[1].is_nan(), "no samples, no estimate");
    assert_eq!(lines[0].tags, tags("name=lat,percentile= 50.0"));
    let grouped = evaluate("name,lat,:eq,(,nf.app,),:by,:median", &minutes(2), &source);
    assert_eq!(grouped[0].label, "percentile((nf.app=x),  50.0)");
    let count = evaluate("name,lat,:eq,0,100,:sample-count", &minutes(2), &source);
    assert_eq!(count[0].values, [10.0, 0.0]);
    let none = evaluate("name,lat,:eq,200,300,:sample-count", &minutes(2), &source);
    assert_eq!(none[0].label, "NO DATA");
}

struct FailingSource;

impl Source for FailingSource {
    fn fetch(&self, _: &Query, _: i64, _: i64) -> Result<Vec<RawSeries>, String> {
        Err("disk on fire".into())
    }
}

#[test]
fn failures_name_the_expression_and_the_reason() {
    let interpreter = Interpreter::default();
    let err = interpreter.evaluate("1,name,a,:eq,:max", &minutes(2), &FailingSource).unwrap_err();
    assert!(
        matches!(&err.reason, Reason::Fetch { query, message } if query == "name,a,:eq" && message == "disk on fire")
    );
    assert_eq!((err.token.as_str(), err.stack.as_str()), ("name,a,:eq,:max", "1.0,:const,name,a,:eq,:max"));

    let err = interpreter.evaluate("name,a,:eq,b", &minutes(2), &FailingSource).unwrap_err();
    assert!(matches!(&err.reason, Reason::NotAnExpression { found } if found == "String"), "{err}");
    let err = interpreter.evaluate("(,a,)", &minutes(2), &FailingSource).unwrap_err();
    assert!(matches!(&err.reason, Reason::NotAnExpression { found } if found == "List"), "{err}");

    let huge = EvalContext::new(0, 1_000_000_000, 1).unwrap();
    let err = interpreter.evaluate("1", &huge, &FailingSource).unwrap_err();
    assert!(matches!(err.reason, Reason::LimitExceeded(_)), "{err}");

    let err = interpreter.evaluate("s,e,:time-span", &minutes(2), &FailingSource).unwrap_err();
    assert!(matches!(&err.reason, Reason::Evaluation(m) if m.contains("relative to itself")), "{err}");
    let err = interpreter.evaluate("gs,gs%2B1m,:time-span", &minutes(2), &FailingSource).unwrap_err();
    assert!(matches!(&err.reason, Reason::Evaluation(m) if m.contains("invalid date")), "URL-decoding is the caller's");
}

/// The table cells of one section of `doc_value_tables.md`, separator rows left out.
fn doc_table(doc: &str, section: &str) -> Vec<Vec<String>> {
    let heading = format!("## {section}\n");
    let Some(at) = doc.find(&heading) else { panic!("no section {section}") };
    let body = &doc[at + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines()
        .filter(|l| l.contains('|') && !l.contains("---"))
        .map(|l| {
            let cells: Vec<String> = l.split('|').map(|c| c.trim().trim_matches('*').to_string()).collect();
            let start = usize::from(cells.first().is_some_and(String::is_empty));
            let end = cells.len() - usize::from(cells.len() > 1 && cells.last().is_some_and(String::is_empty));
            cells[start..end].to_vec()
        })
        .collect()
}

fn doc_number(cell: &str) -> f64 {
    match cell {
        "Inf" => f64::INFINITY,
        other => other.parse().unwrap_or_else(|_| panic!("not a number: {other:?}")),
    }
}

/// Input 1, input 2 (if any) and the output of `program` as a doc table gives them, in one of
/// the docs' three shapes: a `:word | out...` row over `Input 1` and `Input 2` rows; `Time | a |
/// b | out` rows; `Input | <program tail> ...` rows, the output column named by the program.
fn doc_columns(table: &[Vec<String>], program: &str) -> (Vec<f64>, Option<Vec<f64>>, Vec<f64>) {
    let header = &table[0];
    let numbers = |row: &[String]| row[1..].iter().map(|c| doc_number(c)).collect::<Vec<f64>>();
    if header[0].starts_with(':') {
        return (numbers(&table[1]), Some(numbers(&table[2])), numbers(&table[0]));
    }
    let column = |k: usize| table[1..].iter().map(|r| doc_number(&r[k])).collect::<Vec<f64>>();
    if header[0] == "Time" {
        return (column(1), Some(column(2)), column(3));
    }
    let out =
        header.iter().position(|h| program.ends_with(h.as_str())).unwrap_or_else(|| panic!("{program}: {header:?}"));
    (column(0), None, column(out))
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-3 * y.abs().max(1.0))
}

/// Every section of Atlas's doc value tables is classified in `test_data/doc_tables.tsv`: a
/// numeric table of a word names the data file or test covering it, anything else says why it
/// is not one. Rows of `value_tables.tsv` must hold the doc's numbers unless their origin says
/// the doc was corrected against Atlas's source.
#[test]
fn every_doc_value_table_is_classified_and_the_numeric_ones_hold() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let doc = std::fs::read_to_string(dir.join("doc_value_tables.md")).unwrap();
    let sections: Vec<&str> = doc.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    let classes = rows("doc_tables.tsv");
    let listed: Vec<&str> = classes.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(listed, sections, "doc_tables.tsv lists every section, in order");
    let values = rows("value_tables.tsv");
    let tutorial = rows("tutorial_queries.tsv");
    let (mut checked, mut corrected, mut not_numeric) = (0, 0, 0);
    let mut covered: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &classes {
        let [section, by, class] = row.as_slice() else { panic!("bad row {row:?}") };
        if by == "-" {
            assert!(class.starts_with("not numeric: "), "{section}: a reason is given");
            not_numeric += 1;
            continue;
        }
        assert!(class.starts_with("numeric: "), "{section}");
        *covered.entry(by.as_str()).or_default() += 1;
        match by.as_str() {
            "value_tables.tsv" => {
                let table = doc_table(&doc, section);
                let mine: Vec<_> = values.iter().filter(|r| r[4].contains(section.as_str())).collect();
                assert!(!mine.is_empty(), "{section}: no row in value_tables.tsv");
                for r in mine {
                    let (in1, in2, out) = doc_columns(&table, &r[0]);
                    assert!(close(&numbers(&r[1]), &in1), "{section}: input 1 {} != {in1:?}", r[1]);
                    if let Some(in2) = in2 {
                        assert!(close(&numbers(&r[2]), &in2), "{section}: input 2 {} != {in2:?}", r[2]);
                    }
                    if close(&numbers(&r[3]), &out) {
                        checked += 1;
                    } else {
                        assert!(r[4].contains("corrected"), "{section}: {} != the doc's {out:?}", r[3]);
                        corrected += 1;
                    }
                }
            }
            "tutorial_queries.tsv" => {
                assert!(tutorial.iter().any(|r| r[4].starts_with(section.as_str())), "{section}");
            }
            "tutorial_series.tsv" => assert_eq!(rows("tutorial_series.tsv").len(), doc_table(&doc, section).len() - 1),
            "stateful.rs" => {
                let text = std::fs::read_to_string(dir.join("../tests/stateful.rs")).unwrap();
                assert!(text.contains(section.as_str()), "{section} is named in tests/stateful.rs");
            }
            other => {
                let name = other.strip_prefix("evaluation.rs ").unwrap_or_else(|| panic!("{section}: {other}"));
                assert!(include_str!("evaluation.rs").contains(&format!("fn {name}()")), "{name} exists");
            }
        }
    }
    let numeric: usize = covered.values().sum();
    println!(
        "doc value tables: {} sections, {numeric} numeric ({covered:?}), {not_numeric} not numeric; \
         value_tables.tsv rows: {checked} match the doc, {corrected} corrected from Atlas's source",
        sections.len()
    );
    assert_eq!(numeric + not_numeric, sections.len());
}

/// asl/ref/trend.md:31: the window is rounded down to whole steps (5m at 2m averages 2
/// datapoints, as 4m does); a window of one step or less leaves the input as it is.
#[test]
fn trend_windows_round_down_to_the_step() {
    let input = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
    let run = |program: &str, step: i64| {
        let mut source = MemorySource::default();
        source.add(&[("name", "input1")], 10 * MINUTE, step, &input);
        let context = EvalContext::new(10 * MINUTE, 10 * MINUTE + 5 * step, step).unwrap();
        evaluate(program, &context, &source).remove(0).values
    };
    let five_at_one = run("name,input1,:eq,:sum,5m,:trend", MINUTE);
    assert_eq!(five_at_one.iter().take_while(|v| v.is_nan()).count(), 4, "5 datapoints");
    assert_eq!(five_at_one[4], 6.0);
    let five_at_two = run("name,input1,:eq,:sum,5m,:trend", 2 * MINUTE);
    assert!(same_values(&five_at_two, &run("name,input1,:eq,:sum,4m,:trend", 2 * MINUTE)), "{five_at_two:?}");
    assert_eq!(five_at_two.iter().take_while(|v| v.is_nan()).count(), 1, "2 datapoints");
    assert_eq!(five_at_two[1], 3.0);
    assert!(same_values(&run("name,input1,:eq,:sum,2m,:trend", 5 * MINUTE), &input), "no-op");
}
