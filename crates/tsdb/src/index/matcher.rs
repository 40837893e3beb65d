//! Tag queries: Atlas's query words as a tree ([`Matcher`]) and its checked, compiled form
//! ([`CompiledMatcher`]).
//!
//! The semantics are Atlas's (`asl/ref/{eq,re,reic,has,in,lt,le,gt,ge,not,and,or,true,false}.md`):
//! every word but `:has`, `:not`, `:true` and `:false` needs the key present; `:re` and `:reic`
//! match from the start of the value (`^` is implied, `$` anchors the end, case-insensitive for
//! `:reic`); `:lt`/`:le`/`:gt`/`:ge` compare strings; `:not` selects every series the inner
//! query does not, including those without the key. Design decision: [`CompiledMatcher::matches`]
//! always runs the regex on the value, while the index answers literal-prefix patterns from its
//! sorted values; the index tests hold the two to the same answers.

use regex::{Regex, RegexBuilder};

use super::IndexError;
use super::prefix::{self, Shape};
use crate::SeriesTags;

/// The deepest a matcher tree may nest (`:and`, `:or`, `:not`), so evaluation's recursion is bounded.
pub const MAX_DEPTH: usize = 256;
/// The most memory one compiled regex may take, in bytes.
pub const MAX_REGEX_BYTES: usize = 1 << 20;

/// A query over a series' tags, as Atlas's query vocabulary builds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Matcher {
    /// Every series (`:true`).
    True,
    /// No series (`:false`).
    False,
    /// `key` is present and equals the value (`:eq`).
    Eq(String, String),
    /// `key` is present and `pattern` matches its value from the start (`:re`, or `:reic` with
    /// `ignore_case`).
    Re { key: String, pattern: String, ignore_case: bool },
    /// `key` is present (`:has`).
    Has(String),
    /// `key` is present and its value is one of the list (`:in`).
    In(String, Vec<String>),
    /// `key` is present and its value sorts before the string (`:lt`).
    Lt(String, String),
    /// `key` is present and its value sorts before or equals the string (`:le`).
    Le(String, String),
    /// `key` is present and its value sorts after the string (`:gt`).
    Gt(String, String),
    /// `key` is present and its value sorts after or equals the string (`:ge`).
    Ge(String, String),
    /// The series the inner query does not select (`:not`).
    Not(Box<Matcher>),
    /// The series both queries select (`:and`).
    And(Box<Matcher>, Box<Matcher>),
    /// The series either query selects (`:or`).
    Or(Box<Matcher>, Box<Matcher>),
}

/// A string comparison of a tag's value against a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// True when `value` stands in this relation to `bound`.
    pub(super) fn holds(self, value: &str, bound: &str) -> bool {
        match self {
            CmpOp::Lt => value < bound,
            CmpOp::Le => value <= bound,
            CmpOp::Gt => value > bound,
            CmpOp::Ge => value >= bound,
        }
    }
}

/// A compiled `:re` or `:reic`.
#[derive(Debug, Clone)]
pub(super) struct CompiledRe {
    /// The pattern anchored at the start.
    pub(super) regex: Regex,
    /// What the index may use instead of (or before) running the regex.
    pub(super) shape: Shape,
}

/// One node of a compiled matcher.
#[derive(Debug, Clone)]
pub(super) enum Node {
    True,
    False,
    Eq(String, String),
    Re(String, Box<CompiledRe>),
    Has(String),
    /// The values are sorted and unique.
    In(String, Vec<String>),
    Cmp(String, CmpOp, String),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

/// A [`Matcher`] checked and ready to run: regexes compiled once, depth within [`MAX_DEPTH`].
#[derive(Debug, Clone)]
pub struct CompiledMatcher(pub(super) Node);

impl Matcher {
    /// Compiles the regexes and checks the depth.
    pub fn compile(&self) -> Result<CompiledMatcher, IndexError> {
        compile_node(self, 1).map(CompiledMatcher)
    }
}

impl CompiledMatcher {
    /// True when a series with `tags` is selected.
    pub fn matches(&self, tags: &SeriesTags) -> bool {
        self.0.matches(tags)
    }
}

impl Node {
    fn matches(&self, tags: &SeriesTags) -> bool {
        match self {
            Node::True => true,
            Node::False => false,
            Node::Eq(k, v) => tags.get(k) == Some(v.as_str()),
            Node::Re(k, re) => tags.get(k).is_some_and(|v| re.regex.is_match(v)),
            Node::Has(k) => tags.get(k).is_some(),
            Node::In(k, vs) => tags.get(k).is_some_and(|v| vs.binary_search_by(|x| x.as_str().cmp(v)).is_ok()),
            Node::Cmp(k, op, bound) => tags.get(k).is_some_and(|v| op.holds(v, bound)),
            Node::Not(m) => !m.matches(tags),
            Node::And(a, b) => a.matches(tags) && b.matches(tags),
            Node::Or(a, b) => a.matches(tags) || b.matches(tags),
        }
    }
}

fn compile_node(m: &Matcher, depth: usize) -> Result<Node, IndexError> {
    if depth > MAX_DEPTH {
        return Err(IndexError::TooDeep { limit: MAX_DEPTH });
    }
    let sub = |m: &Matcher| compile_node(m, depth + 1).map(Box::new);
    Ok(match m {
        Matcher::True => Node::True,
        Matcher::False => Node::False,
        Matcher::Eq(k, v) => Node::Eq(k.clone(), v.clone()),
        Matcher::Re { key, pattern, ignore_case } => {
            Node::Re(key.clone(), Box::new(compile_re(pattern, *ignore_case)?))
        }
        Matcher::Has(k) => Node::Has(k.clone()),
        Matcher::In(k, vs) => {
            let mut vs = vs.clone();
            vs.sort_unstable();
            vs.dedup();
            Node::In(k.clone(), vs)
        }
        Matcher::Lt(k, v) => Node::Cmp(k.clone(), CmpOp::Lt, v.clone()),
        Matcher::Le(k, v) => Node::Cmp(k.clone(), CmpOp::Le, v.clone()),
        Matcher::Gt(k, v) => Node::Cmp(k.clone(), CmpOp::Gt, v.clone()),
        Matcher::Ge(k, v) => Node::Cmp(k.clone(), CmpOp::Ge, v.clone()),
        Matcher::Not(m) => Node::Not(sub(m)?),
        Matcher::And(a, b) => Node::And(sub(a)?, sub(b)?),
        Matcher::Or(a, b) => Node::Or(sub(a)?, sub(b)?),
    })
}

/// Compiles `pattern` anchored at the start of the value, as Atlas's `:re` and `:reic` do.
///
/// The pattern is first compiled on its own, so that an unbalanced one such as `a)|(b` is
/// refused instead of changing meaning inside the `^(?:...)` wrapper.
fn compile_re(pattern: &str, ignore_case: bool) -> Result<CompiledRe, IndexError> {
    let build = |p: &str| {
        RegexBuilder::new(p)
            .case_insensitive(ignore_case)
            .size_limit(MAX_REGEX_BYTES)
            .dfa_size_limit(MAX_REGEX_BYTES)
            .build()
            .map_err(|source| IndexError::InvalidRegex { pattern: pattern.to_string(), source })
    };
    build(pattern)?;
    let regex = build(&format!("^(?:{pattern})"))?;
    // Case-insensitive patterns have no usable literal prefix in the sorted values.
    let shape = if ignore_case { Shape::Scan(String::new()) } else { prefix::analyze(pattern) };
    Ok(CompiledRe { regex, shape })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> SeriesTags {
        SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    fn re(k: &str, p: &str, ic: bool) -> Matcher {
        Matcher::Re { key: k.into(), pattern: p.into(), ignore_case: ic }
    }

    fn check(m: &Matcher, t: &SeriesTags) -> bool {
        m.compile().unwrap().matches(t)
    }

    #[test]
    fn atlas_semantics() {
        let t = tags(&[("name", "ssCpuUser"), ("nf.app", "nccp")]);
        assert!(check(&re("name", "ssCpu", false), &t));
        assert!(!check(&re("name", "Cpu", false), &t), ":re is anchored at the start");
        assert!(!check(&re("name", "sscpu", false), &t));
        assert!(check(&re("name", "sscpu", true), &t), ":reic ignores case");
        assert!(!check(&re("name", "ssCpu$", false), &t));
        assert!(check(&re("name", "ssCpuUser$", false), &t));
        assert!(!check(&re("name", "a|User", false), &t), "alternation stays anchored");
        assert!(!check(&re("nf.node", ".*", false), &t), ":re needs the key");
        assert!(check(&Matcher::Has("nf.app".into()), &t));
        assert!(check(&Matcher::Not(Box::new(Matcher::Has("nf.node".into()))), &t));
        assert!(check(&Matcher::In("nf.app".into(), vec!["api".into(), "nccp".into()]), &t));
        assert!(check(&Matcher::Gt("name".into(), "ssCpuSystem".into()), &t));
        assert!(!check(&Matcher::Lt("nf.node".into(), "zzz".into()), &t), ":lt needs the key");
        assert!(check(&Matcher::Le("name".into(), "ssCpuUser".into()), &t));
        assert!(!check(&Matcher::Lt("name".into(), "ssCpuUser".into()), &t));
        assert!(check(&Matcher::Ge("name".into(), "ssCpuUser".into()), &t));
        assert!(check(&Matcher::True, &t) && !check(&Matcher::False, &t));
    }

    #[test]
    fn bad_regex_names_the_pattern() {
        let err = re("name", "a(b", false).compile().unwrap_err();
        assert!(err.to_string().contains("a(b"), "{err}");
        // Balanced only by the wrapper: refused rather than reinterpreted.
        assert!(re("name", "a)|(?:b", false).compile().is_err());
        assert!(re("name", "(?<=a)b", false).compile().is_err(), "no look-behind in the regex crate");
    }

    #[test]
    fn depth_is_limited() {
        let mut m = Matcher::True;
        for _ in 0..MAX_DEPTH - 1 {
            m = Matcher::Not(Box::new(m));
        }
        assert!(m.compile().is_ok());
        let m = Matcher::And(Box::new(m), Box::new(Matcher::True));
        assert!(matches!(m.compile(), Err(IndexError::TooDeep { .. })));
    }
}
