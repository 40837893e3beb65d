//! Every `q=` of `test_data/atlas-core-queries.txt` (URIs from Atlas's own docs and tests) must
//! lex; the ones that use only implemented vocabularies must run; the rest must stop at a word
//! of a vocabulary not implemented yet, never on a parse or type error of their own.
//!
//! Design decision: the URL-decoding lives here, in the test, because the crate leaves it to
//! its caller; the test decodes as a web server would before handing `q` over.

use std::path::PathBuf;

use plumb_atlas::{Interpreter, Reason, lexer};

/// Decodes `%XX` escapes and `+` as space, as a web server would before handing `q` over.
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn programs() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/atlas-core-queries.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|uri| uri.split_once('?'))
        .filter_map(|(_, query)| query.split('&').find_map(|p| p.strip_prefix("q=")))
        .map(url_decode)
        .collect()
}

#[test]
fn every_core_query_lexes_and_fails_only_on_pending_words() {
    let programs = programs();
    assert_eq!(programs.len(), 372, "one q= per URI");
    let interpreter = Interpreter::default();
    let (mut complete, mut pending, mut other) = (0, 0, Vec::new());
    for program in &programs {
        let tokens = lexer::tokenize(program).unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(!tokens.is_empty(), "{program}");
        match interpreter.execute(program) {
            Ok(_) => complete += 1,
            Err(e) if matches!(e.reason, Reason::NotImplemented { .. }) => pending += 1,
            Err(e) => other.push(format!("{program}\n    {e}")),
        }
    }
    println!(
        "core queries: {} lex, {complete} evaluate fully, {pending} stop at a word not implemented yet, {} fail otherwise",
        programs.len(),
        other.len()
    );
    assert!(other.is_empty(), "{}", other.join("\n"));
    assert_eq!(complete, programs.len(), "every word is implemented, so every core query runs");
}

#[test]
fn url_decoding_is_the_callers_job() {
    assert_eq!(url_decode("a+b%2Cc,:eq"), "a b,c,:eq");
    // Undecoded, `%2C` is just text to the lexer.
    assert_eq!(lexer::tokenize("a%2Cb").unwrap().len(), 1);
}
