//! Atlas query expressions (`q=name,cpu,:eq,nf.app,www,:eq,:and`) as the store's matchers.
//!
//! [`matcher`] runs a `q` parameter through [`plumb_atlas`]'s query vocabulary and converts the
//! [`Query`] it leaves to a [`Matcher`] the store's index answers. The two enums mirror each
//! other word for word; the conversion is the seam between the language (which knows nothing of
//! storage) and the store (which knows nothing of the language).
//!
//! Design decision: one interpreter for the process ([`std::sync::OnceLock`]); parsing is pure and
//! the interpreter holds only its word table and limits.

use std::sync::OnceLock;

use plumb_atlas::{Interpreter, Query};
use plumb_tsdb::index::Matcher;

/// `q`, which must leave exactly one query on the stack, as a matcher; the error is the
/// interpreter's, naming the word, its position and the stack.
pub fn matcher(q: &str) -> Result<Matcher, plumb_atlas::Error> {
    static INTERPRETER: OnceLock<Interpreter> = OnceLock::new();
    let query = INTERPRETER.get_or_init(Interpreter::default).parse_query(q)?;
    Ok(to_matcher(&query))
}

/// The store matcher selecting what `query` selects.
pub fn to_matcher(query: &Query) -> Matcher {
    let pair = |k: &String, v: &String| (k.clone(), v.clone());
    match query {
        Query::True => Matcher::True,
        Query::False => Matcher::False,
        Query::Has(k) => Matcher::Has(k.clone()),
        Query::Eq(k, v) => {
            let (k, v) = pair(k, v);
            Matcher::Eq(k, v)
        }
        Query::Lt(k, v) => Matcher::Lt(k.clone(), v.clone()),
        Query::Le(k, v) => Matcher::Le(k.clone(), v.clone()),
        Query::Gt(k, v) => Matcher::Gt(k.clone(), v.clone()),
        Query::Ge(k, v) => Matcher::Ge(k.clone(), v.clone()),
        Query::Regex(k, p) => {
            Matcher::Re { key: k.clone(), pattern: p.source().to_string(), ignore_case: p.ignore_case() }
        }
        Query::In(k, vs) => Matcher::In(k.clone(), vs.clone()),
        Query::And(a, b) => Matcher::And(Box::new(to_matcher(a)), Box::new(to_matcher(b))),
        Query::Or(a, b) => Matcher::Or(Box::new(to_matcher(a)), Box::new(to_matcher(b))),
        Query::Not(a) => Matcher::Not(Box::new(to_matcher(a))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_word_converts() {
        let m = matcher("name,cpu,:eq,nf.node,i-,:re,:and,k,(,a,b,),:in,:or,z,:has,:not,:and").unwrap();
        let want = Matcher::And(
            Box::new(Matcher::Or(
                Box::new(Matcher::And(
                    Box::new(Matcher::Eq("name".into(), "cpu".into())),
                    Box::new(Matcher::Re { key: "nf.node".into(), pattern: "i-".into(), ignore_case: false }),
                )),
                Box::new(Matcher::In("k".into(), vec!["a".into(), "b".into()])),
            )),
            Box::new(Matcher::Not(Box::new(Matcher::Has("z".into())))),
        );
        assert_eq!(m, want);
        assert_eq!(matcher("a,b,:lt").unwrap(), Matcher::Lt("a".into(), "b".into()));
        assert_eq!(
            matcher("a,B,:reic").unwrap(),
            Matcher::Re { key: "a".into(), pattern: "B".into(), ignore_case: true }
        );
        assert_eq!(matcher(":true").unwrap(), Matcher::True);
    }

    #[test]
    fn errors_name_the_word() {
        let e = matcher("name,:eq").unwrap_err();
        assert_eq!(e.token, ":eq");
        assert!(matcher("name,cpu").is_err(), "two strings are not a query");
    }
}
