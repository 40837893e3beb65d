//! Property tests: random programs never panic, stay within their limits and evaluate (or fail)
//! cleanly; a query rendered with `Display` parses back to an equal query; escaping round-trips
//! through the lexer.
//!
//! Design decision: random queries are built through `and`/`or`/`not`, as the words build
//! them, so they are in the normal form that `Display` promises to preserve.

use plumb_atlas::{EvalContext, Interpreter, Limits, Pattern, Query, RawSeries, Source, lexer, vocab};
use proptest::prelude::*;

/// A store with nothing in it.
struct NoData;

impl Source for NoData {
    fn fetch(&self, _: &Query, _: i64, _: i64) -> Result<Vec<RawSeries>, String> {
        Ok(Vec::new())
    }
}

/// Tokens worth combining: words of every vocabulary, literals, parentheses, odd text.
fn token() -> impl Strategy<Value = String> {
    let words: Vec<String> = Interpreter::default().words().map(|w| format!(":{}", w.name)).collect();
    prop_oneof![
        4 => proptest::sample::select(words),
        2 => proptest::sample::select(vec!["(", ")", "0", "1", "2", "-1", "a", "name", "sps", "f"])
            .prop_map(str::to_string),
        1 => "[a-z(){}\\[\\]|*+?.^$\\\\:%0-9 ]{0,8}",
        1 => any::<String>(),
    ]
}

fn program() -> impl Strategy<Value = String> {
    proptest::collection::vec(token(), 0..40).prop_map(|tokens| tokens.join(","))
}

/// Tag keys and values, including characters the escaping must protect.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9._-]{1,10}",
        2 => "[a-z ,:()/*\\\\u0-9\t]{1,10}",
        1 => "\\PC{1,6}",
    ]
    .prop_filter("not empty", |s| !s.is_empty())
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z.]{1,6}", "[a-z]{1,3}\\.\\*", "\\(a\\|b\\)[0-9]?"]
}

fn leaf() -> impl Strategy<Value = Query> {
    prop_oneof![
        Just(Query::True),
        Just(Query::False),
        text().prop_map(Query::Has),
        (text(), text()).prop_map(|(k, v)| Query::Eq(k, v)),
        (text(), text()).prop_map(|(k, v)| Query::Lt(k, v)),
        (text(), text()).prop_map(|(k, v)| Query::Ge(k, v)),
        (text(), pattern(), any::<bool>())
            .prop_map(|(k, p, ic)| Query::Regex(k, Pattern::new(&p, ic, 1 << 20).expect("valid pattern"))),
        (text(), proptest::collection::vec(text(), 2..5)).prop_map(|(k, vs)| Query::In(k, vs)),
    ]
}

/// Queries built through the combinators, as the words build them (so in normal form).
fn query() -> impl Strategy<Value = Query> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(Query::not),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_programs_never_panic(program in program()) {
        let limits = Limits { max_work: 20_000, ..Limits::default() };
        let interpreter = Interpreter::new(vocab::ALL, limits.clone());
        if let Ok(stack) = interpreter.execute(&program) {
            prop_assert!(stack.len() <= limits.max_stack_depth);
            // Whatever the stack holds, evaluating it fails cleanly or fills the grid.
            let context = EvalContext::new(0, 180_000, 60_000).expect("valid grid");
            if let Ok(lines) = interpreter.evaluate(&program, &context, &NoData) {
                prop_assert!(lines.iter().all(|l| l.values.len() == 4));
            }
        }
    }

    #[test]
    fn displayed_queries_parse_back_equal(q in query()) {
        let text = q.to_string();
        let parsed = Interpreter::default().parse_query(&text);
        prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        prop_assert_eq!(parsed.ok(), Some(q), "{}", text);
    }

    #[test]
    fn escaped_strings_lex_back_to_themselves(value in text()) {
        let tokens = lexer::tokenize(&lexer::escape(&value)).expect("escaped text lexes");
        prop_assert_eq!(tokens.len(), 1);
        prop_assert_eq!(lexer::unescape(&tokens[0].text), value);
    }

    #[test]
    fn evaluation_agrees_with_the_parsed_copy(q in query(), key in text(), value in text()) {
        let parsed = Interpreter::default().parse_query(&q.to_string()).expect("round trip");
        let tags = |k: &str| if k == key { Some(value.as_str()) } else { None };
        prop_assert_eq!(q.matches(tags), parsed.matches(tags));
    }
}
