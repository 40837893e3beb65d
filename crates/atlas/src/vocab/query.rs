//! The `query` vocabulary: words that build [`Query`] expressions over tag keys and values.
//!
//! Design decision: `:contains`, `:starts` and `:ends` escape their value and build a `:re`
//! query (`.*v`, `v`, `.*v$`), as Atlas does, so the index and the evaluator see one kind of
//! pattern query, and `:in` with one value is `:eq` and with none is `:false`.

use std::sync::Arc;

use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::query::Query;
use crate::word::{Param, Vocabulary, Word};

/// The `query` vocabulary, in Atlas's order.
pub static QUERY: Vocabulary = Vocabulary {
    name: "query",
    words: &[TRUE, FALSE, HAS, EQ, LT, LE, GT, GE, RE, REIC, CONTAINS, STARTS, ENDS, IN, AND, OR, NOT, CQ],
};

const fn word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word::native("query", name, params, signature, summary, examples, code)
}

const KEY_VALUE: &[Param] = &[Param::Str, Param::Str];
const KEY_VALUE_SIGNATURE: &str = "k:String v:String -- Query";
const KEY_VALUE_EXAMPLES: &[&str] = &["a,b", "nf.node,silverlight-003e", "ERROR:name"];

/// Replaces the key and value on top of the stack with the query `build` makes of them.
fn key_value(
    ctx: &mut Context<'_>,
    build: fn(&Context<'_>, String, String) -> Result<Query, Fail>,
) -> Result<(), Fail> {
    let key = ctx.peek_str(1)?.to_string();
    let value = ctx.peek_str(0)?.to_string();
    let query = build(ctx, key, value)?;
    ctx.stack.truncate(ctx.stack.len() - 2);
    Ok(ctx.push_query(query)?)
}

/// Builds a `:re` query, failing if the pattern does not compile.
fn regex(ctx: &Context<'_>, key: String, pattern: &str, ignore_case: bool) -> Result<Query, Fail> {
    Ok(Query::Regex(key, ctx.pattern(pattern, ignore_case)?))
}

/// Replaces the two queries on top of the stack with `combine(below, top)`.
fn combine(ctx: &mut Context<'_>, combine: fn(Query, Query) -> Query) -> Result<(), Fail> {
    let top = Arc::clone(ctx.peek_query(0)?);
    let below = Arc::clone(ctx.peek_query(1)?);
    ctx.stack.truncate(ctx.stack.len() - 2);
    let query = combine(Arc::unwrap_or_clone(below), Arc::unwrap_or_clone(top));
    Ok(ctx.push_query(query)?)
}

const TRUE: Word =
    word("true", &[], " -- Query", "Query expression that matches all input time series.", &[""], |ctx| {
        Ok(ctx.push_query(Query::True)?)
    });

const FALSE: Word =
    word("false", &[], " -- Query", "Query expression that will not match any input time series.", &[""], |ctx| {
        Ok(ctx.push_query(Query::False)?)
    });

const HAS: Word = word(
    "has",
    &[Param::Str],
    "k:String -- Query",
    "Query expression that matches time series that have a key with the specified name.",
    &["a", "name", "ERROR:"],
    |ctx| {
        let key = ctx.peek_str(0)?.to_string();
        ctx.pop()?;
        Ok(ctx.push_query(Query::Has(key))?)
    },
);

const EQ: Word = word(
    "eq",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series where the value for a given key is an exact match for the provided \
     value.",
    KEY_VALUE_EXAMPLES,
    |ctx| key_value(ctx, |_, k, v| Ok(Query::Eq(k, v))),
);

const LT: Word = word(
    "lt",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series where the value for a given key is less than the provided value.",
    KEY_VALUE_EXAMPLES,
    |ctx| key_value(ctx, |_, k, v| Ok(Query::Lt(k, v))),
);

const LE: Word = word(
    "le",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series where the value for a given key is less than or equal to the provided \
     value.",
    KEY_VALUE_EXAMPLES,
    |ctx| key_value(ctx, |_, k, v| Ok(Query::Le(k, v))),
);

const GT: Word = word(
    "gt",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series where the value for a given key is greater than the provided value.",
    KEY_VALUE_EXAMPLES,
    |ctx| key_value(ctx, |_, k, v| Ok(Query::Gt(k, v))),
);

const GE: Word = word(
    "ge",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series where the value for a given key is greater than or equal to the \
     provided value.",
    KEY_VALUE_EXAMPLES,
    |ctx| key_value(ctx, |_, k, v| Ok(Query::Ge(k, v))),
);

const REGEX_EXAMPLES: &[&str] = &["name,DiscoveryStatus_(UP|DOWN)", "name,discoverystatus_(Up|Down)", "ERROR:name"];

const RE: Word = word(
    "re",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series with a value that matches the provided regular expression.",
    REGEX_EXAMPLES,
    |ctx| key_value(ctx, |ctx, k, v| regex(ctx, k, &v, false)),
);

const REIC: Word = word(
    "reic",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series with a value that matches the provided regular expression with case \
     insensitive matching enabled.",
    REGEX_EXAMPLES,
    |ctx| key_value(ctx, |ctx, k, v| regex(ctx, k, &v, true)),
);

const CONTAINS: Word = word(
    "contains",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series with a value that contains the given sequence of characters.",
    &["name,request", "result,error"],
    |ctx| key_value(ctx, |ctx, k, v| regex(ctx, k, &format!(".*{}", regex::escape(&v)), false)),
);

const STARTS: Word = word(
    "starts",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series with a value that starts with the given sequence of characters.",
    &["name,req", "result,err"],
    |ctx| key_value(ctx, |ctx, k, v| regex(ctx, k, &regex::escape(&v), false)),
);

const ENDS: Word = word(
    "ends",
    KEY_VALUE,
    KEY_VALUE_SIGNATURE,
    "Query expression that matches time series with a value that ends with the given sequence of characters.",
    &["name,error", "result,failed"],
    |ctx| key_value(ctx, |ctx, k, v| regex(ctx, k, &format!(".*{}$", regex::escape(&v)), false)),
);

const IN: Word = word(
    "in",
    &[Param::Str, Param::StrList],
    "k:String vs:List[String] -- Query",
    "Query expression that matches time series where the value for a given key is in the provided set.",
    &["name,(,sps,)", "name,(,requestsPerSecond,sps,)", "name,(,)", "ERROR:name,sps"],
    |ctx| {
        let key = ctx.peek_str(1)?.to_string();
        let mut values: Vec<String> =
            ctx.peek_list(0)?.items().iter().filter_map(Item::as_text).map(Into::into).collect();
        let query = match values.len() {
            0 => Query::False,
            1 => Query::Eq(key, values.remove(0)),
            _ => Query::In(key, values),
        };
        ctx.stack.truncate(ctx.stack.len() - 2);
        Ok(ctx.push_query(query)?)
    },
);

const AND: Word = word(
    "and",
    &[Param::Query, Param::Query],
    "q1:Query q2:Query -- Query",
    "Query expression that matches if both sub queries match.",
    &[":false,:false", ":false,:true", ":true,:false", ":true,:true"],
    |ctx| combine(ctx, Query::and),
);

const OR: Word = word(
    "or",
    &[Param::Query, Param::Query],
    "q1:Query q2:Query -- Query",
    "Query expression that matches if either sub query matches.",
    &[":false,:false", ":false,:true", ":true,:false", ":true,:true"],
    |ctx| combine(ctx, Query::or),
);

const NOT: Word = word(
    "not",
    &[Param::Query],
    "q:Query -- Query",
    "Query expression that matches if the sub query does not matches.",
    &[":false", ":true"],
    |ctx| {
        let query = Arc::clone(ctx.peek_query(0)?);
        ctx.pop()?;
        Ok(ctx.push_query(Arc::unwrap_or_clone(query).not())?)
    },
);

const CQ: Word = word(
    "cq",
    &[Param::Any, Param::Query],
    "expr q:Query -- expr",
    "Recursively AND a common query to all queries in an expression.",
    &["name,ssCpuUser,:eq,name,DiscoveryStatus_UP,:eq,:or,nf.app,alerttest,:eq", "42,nf.app,alerttest,:eq"],
    |ctx| {
        let common = Arc::clone(ctx.peek_query(0)?);
        match ctx.peek(1)? {
            Item::Query(expr) => {
                let expr = Arc::clone(expr);
                ctx.stack.truncate(ctx.stack.len() - 2);
                Ok(ctx.push_query(Arc::unwrap_or_clone(expr).and(Arc::unwrap_or_clone(common)))?)
            }
            Item::Expr(expr) => {
                let expr = expr.with_common_query(&common);
                ctx.stack.truncate(ctx.stack.len() - 2);
                Ok(ctx.push_expr(expr)?)
            }
            // Not an expression: left as it is, only the common query is consumed.
            _ => {
                ctx.pop()?;
                Ok(())
            }
        }
    },
);

#[cfg(test)]
mod tests {
    use crate::Interpreter;
    use crate::item::render_capped;

    fn run(program: &str) -> String {
        match Interpreter::default().execute(program) {
            Ok(stack) => render_capped(&stack, 10_000),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn builds_normalized_queries() {
        let cases = [
            ("a,b,:eq", "a,b,:eq"),
            ("name,:has", "name,:has"),
            ("status,400,:lt", "status,400,:lt"),
            ("name,(,sps,),:in", "name,sps,:eq"),
            ("name,(,),:in", ":false"),
            ("name,(,a,b,),:in", "name,(,a,b,),:in"),
            ("name,(,a,:b,),:in", "name,(,a,\\u003ab,),:in"),
            ("a,b,:eq,:true,:and", "a,b,:eq"),
            (":true,a,b,:eq,:or", ":true"),
            (":true,:not", ":false"),
            ("name,re.q,:contains", "name,.*re\\.q,:re"),
            ("name,req,:starts", "name,req,:re"),
            ("name,a+,:ends", "name,.*a\\+$,:re"),
            ("name,x,:reic", "name,x,:reic"),
            ("a,b,:eq,c,d,:eq,:or,nf.app,x,:eq,:cq", "a,b,:eq,c,d,:eq,:or,nf.app,x,:eq,:and"),
            ("42,nf.app,x,:eq,:cq", "42"),
            ("a,b,:eq,:max,(,k,),:by,c,d,:eq,:cq", "a,b,:eq,c,d,:eq,:and,:max,(,k,),:by"),
            ("a,b,:eq,:avg,c,d,:eq,:cq", "a,b,:eq,c,d,:eq,:and,:avg"),
        ];
        for (program, expected) in cases {
            assert_eq!(run(program), expected, "{program}");
        }
    }

    #[test]
    fn bad_input_fails() {
        assert!(run("name,(,:re").starts_with("ERROR: ( at byte 5: unmatched opening parenthesis"));
        assert!(run("name,sps,:in").contains("wrong item types"));
        // Math's `:and` takes two time series too, so one query is still too few.
        assert!(run("name,sps,:eq,:and").contains("stack underflow"), "{}", run("name,sps,:eq,:and"));
        let queries_only = Interpreter::new(&[&super::super::STANDARD, &super::QUERY], Default::default());
        let err = queries_only.execute("name,sps,:eq,:and").unwrap_err();
        assert!(matches!(err.reason, crate::Reason::StackUnderflow { needed: 2, available: 1 }), "{err}");
        let err = Interpreter::default().execute("status,4(?!04),:re").unwrap_err();
        assert!(matches!(err.reason, crate::Reason::InvalidRegex { .. }), "{err}");
        assert_eq!(err.stack, "status,4(?!04)", "the stack as the word found it");
        let huge = "k,(a{1000}){1000},:re";
        assert!(matches!(Interpreter::default().execute(huge).unwrap_err().reason, crate::Reason::InvalidRegex { .. }));
    }

    #[test]
    fn queries_match_series() {
        let q =
            Interpreter::default().parse_query("name,sps,:eq,nf.cluster,NCCP-,:reic,:and,status,2,:lt,:and").unwrap();
        let series = [("name", "sps"), ("nf.cluster", "nccp-silverlight"), ("status", "199")];
        let get = |k: &str| series.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        assert!(q.matches(get));
        let other = [("name", "sps"), ("nf.cluster", "api")];
        assert!(!q.matches(|k: &str| other.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)));
    }
}
