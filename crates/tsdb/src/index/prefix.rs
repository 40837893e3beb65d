//! The literal prefix of a regular expression, so `:re` can use the index's sorted values.
//!
//! Atlas anchors `:re` at the start of the value, so most patterns in practice begin with a
//! literal (`ssCpu`, `^i-0a`, `cpu\.user.*`). [`analyze`] reads that literal and says whether it is
//! the whole pattern: then the regex is a plain prefix test (or an exact match when it ends in
//! `$`), and the index answers it from the range of sorted values that start with the prefix
//! without running the regex at all. Design decision: the reading is deliberately conservative
//! (any `|`, group, class or unknown escape ends the literal), because a wrong prefix would make
//! the index disagree with the regex; the disagreement is tested by proptest in the index.

/// What a case-sensitive, start-anchored pattern amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    /// The value equals this string (`^foo$`, `foo$`).
    Exact(String),
    /// The value starts with this string (`foo`, `^foo`, `foo.*`, `""`).
    Prefix(String),
    /// Only values starting with this string can match; the regex decides among them.
    Scan(String),
}

/// The shape of `pattern` as Atlas's `:re` reads it: matched from the start of the value, with
/// an optional redundant leading `^`.
pub(super) fn analyze(pattern: &str) -> Shape {
    if pattern.contains('|') {
        return Shape::Scan(String::new());
    }
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let mut literal = String::new();
    let mut rest = body;
    loop {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { return Shape::Prefix(literal) };
        let (lit, after) = match c {
            '\\' => match chars.next() {
                Some(e) if is_escapable_meta(e) => (e, chars.as_str()),
                _ => break,
            },
            c if is_meta(c) => break,
            c => (c, chars.as_str()),
        };
        // A quantifier applies to the literal just read, which is then optional or repeated.
        if after.starts_with(['*', '+', '?', '{']) {
            break;
        }
        literal.push(lit);
        rest = after;
    }
    match rest {
        ".*" => Shape::Prefix(literal),
        "$" => Shape::Exact(literal),
        _ => Shape::Scan(literal),
    }
}

/// Characters with a meaning of their own in a pattern (outside a class).
fn is_meta(c: char) -> bool {
    matches!(c, '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' | '\\')
}

/// Characters that a backslash turns into themselves in the `regex` crate's syntax.
fn is_escapable_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' | '#' | '&' | '-' | '~'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Shape {
        Shape::Prefix(s.into())
    }

    fn scan(s: &str) -> Shape {
        Shape::Scan(s.into())
    }

    #[test]
    fn shapes() {
        assert_eq!(analyze("ssCpu"), p("ssCpu"));
        assert_eq!(analyze("^ssCpu"), p("ssCpu"));
        assert_eq!(analyze("ssCpu.*"), p("ssCpu"));
        assert_eq!(analyze(""), p(""));
        assert_eq!(analyze("^"), p(""));
        assert_eq!(analyze(".*"), p(""));
        assert_eq!(analyze("cpu\\.user"), p("cpu.user"));
        assert_eq!(analyze("^cpu$"), Shape::Exact("cpu".into()));
        assert_eq!(analyze("cpu\\$"), p("cpu$"));
        assert_eq!(analyze("cpu.user"), scan("cpu"));
        assert_eq!(analyze("cpus?"), scan("cpu"));
        assert_eq!(analyze("cpu+"), scan("cp"));
        assert_eq!(analyze("cpu{2}"), scan("cp"));
        assert_eq!(analyze("i-[0-9]"), scan("i-"));
        assert_eq!(analyze("a|b"), scan(""));
        assert_eq!(analyze("(?i)abc"), scan(""));
        assert_eq!(analyze("ab\\d"), scan("ab"));
        assert_eq!(analyze("^^a"), scan(""));
        assert_eq!(analyze("a.*b"), scan("a"));
        assert_eq!(analyze("é.*"), p("é"));
    }
}
