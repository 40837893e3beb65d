//! Runs every example of `test_data/word_examples.tsv` whose word is implemented and checks it
//! succeeds or fails as marked, counting per vocabulary; compares the resulting stacks with
//! `test_data/word_examples.expected` (`PLUMB_BLESS=1` rewrites it); and checks that the word
//! table agrees with `test_data/vocabulary.tsv` (names, kinds, summaries, example counts) and
//! the examples file.
//!
//! Design decision: the test reads Atlas's own example list (copied into `test_data/` from the
//! peer checkout) rather than restating the examples, and the word table must list the same
//! examples, so a word added or changed on either side shows up as a failure here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use plumb_atlas::{Interpreter, render_capped};

const IMPLEMENTED: &[&str] = &["standard", "query", "data", "math", "stateful", "filter", "style"];

/// Whether the examples of `:word` of `vocabulary` run: its vocabulary is implemented and so is
/// the word (every word is, today; a placeholder of a later vocabulary would be skipped).
fn runs(interpreter: &Interpreter, vocabulary: &str, word: &str) -> bool {
    IMPLEMENTED.contains(&vocabulary)
        && interpreter
            .words()
            .any(|w| w.vocabulary == vocabulary && format!(":{}", w.name) == word && w.is_implemented())
}

fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(test_data(name)).unwrap_or_else(|e| panic!("reading test_data/{name}: {e}"))
}

/// Rows of a tab-separated file, header skipped.
fn rows(name: &str) -> Vec<Vec<String>> {
    read(name).lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// What a program leaves, as one line: the rendered stack, or `ERROR <reason>`.
fn outcome(interpreter: &Interpreter, program: &str) -> Result<String, String> {
    interpreter.execute(program).map(|stack| render_capped(&stack, 2000)).map_err(|e| e.reason.to_string())
}

#[test]
fn word_examples_behave_as_marked() {
    let interpreter = Interpreter::default();
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    let mut per_vocabulary: BTreeMap<String, usize> = BTreeMap::new();
    let mut transcript = String::new();
    for row in rows("word_examples.tsv") {
        let [vocabulary, word, expectation, program] = row.as_slice() else { panic!("bad row {row:?}") };
        if !runs(&interpreter, vocabulary, word) {
            skipped += 1;
            continue;
        }
        let result = outcome(&interpreter, program);
        let line = match &result {
            Ok(stack) => format!("{program}\t=> {stack}\n"),
            Err(reason) => format!("{program}\t=> ERROR {reason}\n"),
        };
        transcript.push_str(&line);
        match (expectation.as_str(), &result) {
            ("ok", Ok(_)) | ("error", Err(_)) => {
                passed += 1;
                *per_vocabulary.entry(vocabulary.clone()).or_default() += 1;
            }
            _ => failed.push(format!("{vocabulary} {word}: {program} expected {expectation}, got {result:?}")),
        }
    }
    println!("word examples: {passed} passed, {} failed, {skipped} skipped (word not implemented)", failed.len());
    println!("passed per vocabulary: {per_vocabulary:?}");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    let expected_counts =
        [("data", 30), ("filter", 33), ("math", 77), ("query", 48), ("standard", 43), ("stateful", 27), ("style", 42)];
    for (vocabulary, count) in expected_counts {
        assert_eq!(per_vocabulary.get(vocabulary), Some(&count), "examples of {vocabulary} that ran");
    }

    let expected_path = test_data("word_examples.expected");
    if std::env::var_os("PLUMB_BLESS").is_some() {
        std::fs::write(&expected_path, &transcript).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with PLUMB_BLESS=1 to create it)", expected_path.display()));
    assert_eq!(transcript, expected, "stacks differ from test_data/word_examples.expected");
}

#[test]
fn every_word_runs_its_own_examples() {
    let interpreter = Interpreter::default();
    for word in interpreter.words().filter(|w| w.is_implemented()) {
        for example in word.examples {
            let (must_fail, prefix) = match example.strip_prefix("ERROR:") {
                Some(prefix) => (true, prefix),
                None => (false, *example),
            };
            let program =
                if prefix.is_empty() { format!(":{}", word.name) } else { format!("{prefix},:{}", word.name) };
            let result = interpreter.execute(&program);
            assert_eq!(result.is_err(), must_fail, "{program}: {result:?}");
        }
    }
}

#[test]
fn word_table_matches_vocabulary_tsv() {
    let interpreter = Interpreter::default();
    let tsv_rows = rows("vocabulary.tsv");
    let table: BTreeSet<(String, String, String, String, String)> = interpreter
        .words()
        .map(|w| {
            let kind = match w.kind {
                plumb_atlas::Kind::Word => "word",
                plumb_atlas::Kind::Macro => "macro",
            };
            let name = format!(":{}", w.name);
            // Placeholders carry no examples; take the count the tsv gives them.
            let examples = if w.is_implemented() {
                w.examples.len().to_string()
            } else {
                let row = tsv_rows.iter().find(|r| r[0] == w.vocabulary && r[1] == name && r[2] == kind);
                row.map_or_else(String::new, |r| r[3].clone())
            };
            (w.vocabulary.to_string(), name, kind.to_string(), examples, w.summary.to_string())
        })
        .collect();
    // The tsv cuts long summaries short with " ..."; compare those by prefix.
    let tsv: BTreeSet<(String, String, String, String, String)> = tsv_rows
        .iter()
        .map(|r| {
            let summary = match r[4].strip_suffix(" ...") {
                Some(prefix) => {
                    table.iter().find(|t| t.1 == r[1] && t.4.starts_with(prefix)).map_or(r[4].clone(), |t| t.4.clone())
                }
                None => r[4].clone(),
            };
            (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone(), summary)
        })
        .collect();
    let missing: Vec<_> = tsv.difference(&table).collect();
    let extra: Vec<_> = table.difference(&tsv).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing from the table: {missing:#?}\nnot in the tsv: {extra:#?}");
    assert_eq!(interpreter.words().filter(|w| w.is_implemented()).count(), 173, "every word of vocabulary.tsv");
}

#[test]
fn word_examples_match_the_examples_file() {
    let interpreter = Interpreter::default();
    let from_table: BTreeSet<String> = interpreter
        .words()
        .filter(|w| w.is_implemented())
        .flat_map(|w| {
            w.examples.iter().map(move |e| {
                let (expectation, prefix) = e.strip_prefix("ERROR:").map_or(("ok", *e), |p| ("error", p));
                let program = if prefix.is_empty() { format!(":{}", w.name) } else { format!("{prefix},:{}", w.name) };
                format!("{}\t:{}\t{expectation}\t{program}", w.vocabulary, w.name)
            })
        })
        .collect();
    let from_file: BTreeSet<String> = rows("word_examples.tsv")
        .into_iter()
        .filter(|r| runs(&interpreter, &r[0], &r[1]))
        .map(|r| r.join("\t"))
        .collect();
    assert_eq!(from_table, from_file);
}
