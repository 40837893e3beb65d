//! The query expression AST: what `name,sps,:eq,nf.cluster,foo,:eq,:and` builds, how it is
//! evaluated against a series' tags, and how it is written back in the stack language.
//!
//! Design decision: the combinators [`Query::and`], [`Query::or`] and [`Query::not`] fold the
//! constants `:true` and `:false` away exactly as Atlas's do, and the words use only them, so a
//! query has one normal form: rendering it with `Display` and parsing the text again gives an
//! equal query. `:contains`, `:starts` and `:ends` build [`Query::Regex`], so they render as `:re`.

use std::fmt;

use crate::lexer::escape_into;

/// A query over a series' tags. Tag values compare as strings (`:lt` is lexical, by code point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Matches every series (`:true`).
    True,
    /// Matches no series (`:false`).
    False,
    /// The key is present (`k,:has`).
    Has(String),
    /// The key's value equals the value (`k,v,:eq`).
    Eq(String, String),
    /// The key's value sorts before the value (`k,v,:lt`).
    Lt(String, String),
    /// The key's value sorts before or equals the value (`k,v,:le`).
    Le(String, String),
    /// The key's value sorts after the value (`k,v,:gt`).
    Gt(String, String),
    /// The key's value sorts after or equals the value (`k,v,:ge`).
    Ge(String, String),
    /// The key's value matches the pattern from its start (`k,p,:re` or `k,p,:reic`).
    Regex(String, Pattern),
    /// The key's value is one of at least two values (`k,(,a,b,),:in`).
    In(String, Vec<String>),
    /// Both match (`q1,q2,:and`).
    And(Box<Query>, Box<Query>),
    /// Either matches (`q1,q2,:or`).
    Or(Box<Query>, Box<Query>),
    /// The inner query does not match (`q,:not`).
    Not(Box<Query>),
}

/// A compiled regular expression anchored at the start of the value, as `:re` and `:reic`
/// use it. Two patterns are equal when their source text and case sensitivity are.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    ignore_case: bool,
    compiled: regex::Regex,
}

impl Pattern {
    /// Compiles `source` to match from the start of a value (Atlas prepends `^`), with the
    /// compiled program limited to `size_limit` bytes.
    pub fn new(source: &str, ignore_case: bool, size_limit: usize) -> Result<Self, regex::Error> {
        let compiled = regex::RegexBuilder::new(&format!("^(?:{source})"))
            .case_insensitive(ignore_case)
            .size_limit(size_limit)
            .dfa_size_limit(size_limit)
            .build()?;
        Ok(Pattern { source: source.to_string(), ignore_case, compiled })
    }

    /// The pattern as written, without the anchor.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether matching ignores case (`:reic`).
    pub fn ignore_case(&self) -> bool {
        self.ignore_case
    }

    /// Whether `value` matches from its start.
    pub fn is_match(&self, value: &str) -> bool {
        self.compiled.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.ignore_case == other.ignore_case
    }
}

impl Eq for Pattern {}

/// The size of a query: its node count and nesting depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Nodes in the expression tree.
    pub nodes: usize,
    /// Longest path from the root to a leaf, counting both (a leaf has depth 1).
    pub depth: usize,
}

impl Query {
    /// Both queries must match; `:true` and `:false` are folded away as Atlas does.
    pub fn and(self, other: Query) -> Query {
        match (self, other) {
            (q, Query::True) | (Query::True, q) => q,
            (_, Query::False) | (Query::False, _) => Query::False,
            (a, b) => Query::And(Box::new(a), Box::new(b)),
        }
    }

    /// Either query must match; `:true` and `:false` are folded away as Atlas does.
    pub fn or(self, other: Query) -> Query {
        match (self, other) {
            (_, Query::True) | (Query::True, _) => Query::True,
            (q, Query::False) | (Query::False, q) => q,
            (a, b) => Query::Or(Box::new(a), Box::new(b)),
        }
    }

    /// The query must not match; the constants flip, anything else is wrapped.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Query {
        match self {
            Query::True => Query::False,
            Query::False => Query::True,
            q => Query::Not(Box::new(q)),
        }
    }

    /// Whether a series with these tags is selected. `tags` returns a tag's value by key.
    pub fn matches<'v>(&self, tags: impl Fn(&str) -> Option<&'v str>) -> bool {
        self.eval(&tags)
    }

    fn eval<'v>(&self, tags: &impl Fn(&str) -> Option<&'v str>) -> bool {
        let value = |k: &str, check: &dyn Fn(&str) -> bool| tags(k).is_some_and(check);
        match self {
            Query::True => true,
            Query::False => false,
            Query::Has(k) => tags(k).is_some(),
            Query::Eq(k, v) => value(k, &|s| s == v),
            Query::Lt(k, v) => value(k, &|s| s < v.as_str()),
            Query::Le(k, v) => value(k, &|s| s <= v.as_str()),
            Query::Gt(k, v) => value(k, &|s| s > v.as_str()),
            Query::Ge(k, v) => value(k, &|s| s >= v.as_str()),
            Query::Regex(k, p) => value(k, &|s| p.is_match(s)),
            Query::In(k, vs) => value(k, &|s| vs.iter().any(|v| v == s)),
            Query::And(a, b) => a.eval(tags) && b.eval(tags),
            Query::Or(a, b) => a.eval(tags) || b.eval(tags),
            Query::Not(q) => !q.eval(tags),
        }
    }

    /// The tags fixed by `:eq` clauses joined with `:and`: Atlas's exact keys, which an aggregate
    /// keeps on its result (`name,sps,:eq,:sum` keeps `name=sps`).
    pub fn exact_tags(&self) -> std::collections::BTreeMap<String, String> {
        let mut tags = std::collections::BTreeMap::new();
        self.collect_exact(&mut tags);
        tags
    }

    fn collect_exact(&self, tags: &mut std::collections::BTreeMap<String, String>) {
        match self {
            Query::Eq(k, v) => {
                tags.insert(k.clone(), v.clone());
            }
            Query::And(a, b) => {
                a.collect_exact(tags);
                b.collect_exact(tags);
            }
            _ => {}
        }
    }

    /// The query as Atlas writes it in legends: `name=sps`, `(a=b) and (has(c))`.
    pub fn label(&self) -> String {
        match self {
            Query::True => "true".into(),
            Query::False => "false".into(),
            Query::Has(k) => format!("has({k})"),
            Query::Eq(k, v) => format!("{k}={v}"),
            Query::Lt(k, v) => format!("{k}<{v}"),
            Query::Le(k, v) => format!("{k}<={v}"),
            Query::Gt(k, v) => format!("{k}>{v}"),
            Query::Ge(k, v) => format!("{k}>={v}"),
            Query::Regex(k, p) => format!("{k}~/^{}/{}", p.source(), if p.ignore_case() { "i" } else { "" }),
            Query::In(k, vs) => format!("{k} in ({})", vs.join(",")),
            Query::And(a, b) => format!("({}) and ({})", a.label(), b.label()),
            Query::Or(a, b) => format!("({}) or ({})", a.label(), b.label()),
            Query::Not(q) => format!("not({})", q.label()),
        }
    }

    /// Node count and depth of the expression.
    pub fn shape(&self) -> Shape {
        match self {
            Query::And(a, b) | Query::Or(a, b) => {
                let (a, b) = (a.shape(), b.shape());
                Shape { nodes: a.nodes + b.nodes + 1, depth: a.depth.max(b.depth) + 1 }
            }
            Query::Not(q) => {
                let q = q.shape();
                Shape { nodes: q.nodes + 1, depth: q.depth + 1 }
            }
            _ => Shape { nodes: 1, depth: 1 },
        }
    }
}

impl fmt::Display for Query {
    /// Writes the query in the stack language, normalized: `name,sps,:eq,nf.app,a,:eq,:and`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_value = |f: &mut fmt::Formatter<'_>, k: &str, v: &str, word: &str| {
            escape_into(f, k)?;
            f.write_str(",")?;
            escape_into(f, v)?;
            write!(f, ",:{word}")
        };
        match self {
            Query::True => f.write_str(":true"),
            Query::False => f.write_str(":false"),
            Query::Has(k) => {
                escape_into(f, k)?;
                f.write_str(",:has")
            }
            Query::Eq(k, v) => key_value(f, k, v, "eq"),
            Query::Lt(k, v) => key_value(f, k, v, "lt"),
            Query::Le(k, v) => key_value(f, k, v, "le"),
            Query::Gt(k, v) => key_value(f, k, v, "gt"),
            Query::Ge(k, v) => key_value(f, k, v, "ge"),
            Query::Regex(k, p) => key_value(f, k, p.source(), if p.ignore_case() { "reic" } else { "re" }),
            Query::In(k, vs) => {
                escape_into(f, k)?;
                f.write_str(",(")?;
                for v in vs {
                    f.write_str(",")?;
                    escape_into(f, v)?;
                }
                f.write_str(",),:in")
            }
            Query::And(a, b) => write!(f, "{a},{b},:and"),
            Query::Or(a, b) => write!(f, "{a},{b},:or"),
            Query::Not(q) => write!(f, "{q},:not"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn eq(k: &str, v: &str) -> Query {
        Query::Eq(k.into(), v.into())
    }

    fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn constants_fold_as_in_atlas() {
        assert_eq!(eq("a", "b").and(Query::True), eq("a", "b"));
        assert_eq!(Query::True.and(eq("a", "b")), eq("a", "b"));
        assert_eq!(eq("a", "b").and(Query::False), Query::False);
        assert_eq!(eq("a", "b").or(Query::True), Query::True);
        assert_eq!(Query::False.or(eq("a", "b")), eq("a", "b"));
        assert_eq!(Query::True.not(), Query::False);
        assert_eq!(eq("a", "b").not().not(), Query::Not(Box::new(Query::Not(Box::new(eq("a", "b"))))));
    }

    #[test]
    fn matches_by_tag_values() {
        let series = tags(&[("name", "sps"), ("nf.cluster", "nccp-ps3"), ("status", "200")]);
        let get = |k: &str| series.get(k).map(String::as_str);
        let re = |p: &str, ic: bool| Query::Regex("nf.cluster".into(), Pattern::new(p, ic, 1 << 20).unwrap());
        assert!(eq("name", "sps").and(re("nccp-", false)).matches(get));
        assert!(!re("ps3", false).matches(get), "anchored at the start");
        assert!(re("NCCP", true).matches(get));
        assert!(Query::Lt("status".into(), "3".into()).matches(get));
        assert!(!Query::Gt("status".into(), "3".into()).matches(get));
        assert!(!Query::Lt("missing".into(), "3".into()).matches(get), "absent key never compares");
        assert!(Query::Has("status".into()).matches(get));
        assert!(Query::Not(Box::new(Query::Has("missing".into()))).matches(get));
        assert!(Query::In("status".into(), vec!["404".into(), "200".into()]).matches(get));
        assert!(!Query::False.matches(get));
    }

    #[test]
    fn display_renders_normalized_asl() {
        let q = eq("name", "sps").and(eq("nf.cluster", "foo"));
        assert_eq!(q.to_string(), "name,sps,:eq,nf.cluster,foo,:eq,:and");
        let q = Query::In("k".into(), vec!["a,b".into(), " c".into()]).or(Query::Has("x".into()).not());
        assert_eq!(q.to_string(), "k,(,a\\u002cb,\\u0020c,),:in,x,:has,:not,:or");
    }

    #[test]
    fn exact_tags_and_labels_follow_atlas() {
        let q = eq("name", "sps").and(eq("nf.app", "www").or(Query::Has("x".into()))).and(eq("zone", "a"));
        let exact: Vec<_> = q.exact_tags().into_iter().collect();
        assert_eq!(exact, [("name".into(), "sps".into()), ("zone".into(), "a".into())]);
        assert_eq!(eq("name", "sps").label(), "name=sps");
        assert_eq!(eq("a", "b").and(Query::Has("c".into()).not()).label(), "(a=b) and (not(has(c)))");
        assert_eq!(Query::In("k".into(), vec!["a".into(), "b".into()]).label(), "k in (a,b)");
    }

    #[test]
    fn shape_counts_nodes_and_depth() {
        let q = eq("a", "b").and(eq("c", "d")).not();
        assert_eq!(q.shape(), Shape { nodes: 4, depth: 3 });
    }
}
