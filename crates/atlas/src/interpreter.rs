//! The interpreter: runs a program's tokens against a stack, looking words up in its
//! vocabularies, and enforces the [`Limits`].
//!
//! Design decision: list literals are parsed into nested [`List`] items when the program is read
//! (words inside become [`Item::Word`]), where Atlas keeps the raw tokens and re-reads them on
//! each `:call`. The effect on programs is the same, but a string that happens to be `(` can never
//! turn into a parenthesis later, and running a list never re-lexes text.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, RENDERED_STACK_CHARS, Reason};
use crate::expr::Expr;
use crate::item::{Item, List, render_capped, type_summary};
use crate::lexer::{Token, tokenize, unescape};
use crate::limits::{Limit, Limits};
use crate::query::{Pattern, Query};
use crate::time::{parse_double, parse_duration};
use crate::vocab;
use crate::word::{Body, Vocabulary, Word};

/// Runs stack-language programs with a fixed set of vocabularies and limits. Cheap to share:
/// build one and use it from every request.
#[derive(Debug)]
pub struct Interpreter {
    words: HashMap<&'static str, Vec<&'static Word>>,
    vocabularies: Vec<&'static Vocabulary>,
    limits: Limits,
}

impl Default for Interpreter {
    /// Every vocabulary (later ones as "not implemented yet" placeholders), default limits.
    fn default() -> Self {
        Interpreter::new(vocab::ALL, Limits::default())
    }
}

impl Interpreter {
    /// An interpreter for these vocabularies; where several define a word, the earlier
    /// vocabulary's variant is tried first.
    pub fn new(vocabularies: &[&'static Vocabulary], limits: Limits) -> Self {
        let mut words: HashMap<&'static str, Vec<&'static Word>> = HashMap::new();
        for vocabulary in vocabularies {
            for word in vocabulary.words {
                words.entry(word.name).or_default().push(word);
            }
        }
        Interpreter { words, vocabularies: vocabularies.to_vec(), limits }
    }

    /// The limits this interpreter enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every word, vocabulary by vocabulary, in the order Atlas lists them.
    pub fn words(&self) -> impl Iterator<Item = &'static Word> + '_ {
        self.vocabularies.iter().flat_map(|v| v.words.iter())
    }

    /// Runs `program` (already URL-decoded) and returns the final stack, bottom first, frozen
    /// items below the rest.
    pub fn execute(&self, program: &str) -> Result<Vec<Item>, Error> {
        self.execute_with(program, &HashMap::new())
    }

    /// Runs `program` with variables set beforehand (`:freeze` resets to these).
    pub fn execute_with(&self, program: &str, variables: &HashMap<String, Item>) -> Result<Vec<Item>, Error> {
        if program.len() > self.limits.max_program_bytes {
            let reason = Reason::LimitExceeded(Limit::ProgramBytes(self.limits.max_program_bytes));
            return Err(Error::lexical("", 0, reason));
        }
        let tokens = tokenize(program)?;
        let mut context = Context {
            interpreter: self,
            stack: Vec::new(),
            frozen: Vec::new(),
            variables: variables.clone(),
            initial_variables: variables.clone(),
            call_depth: 0,
            work: 0,
            position: 0,
        };
        context.run_tokens(&tokens)?;
        let mut result = context.frozen;
        result.append(&mut context.stack);
        Ok(result)
    }

    /// Runs `program`, which must leave exactly one query on the stack (as the `q` of
    /// `/api/v1/tags` must), and returns it.
    pub fn parse_query(&self, program: &str) -> Result<Query, Error> {
        let mut stack = self.execute(program)?;
        match (stack.pop(), stack.is_empty()) {
            (Some(Item::Query(query)), true) => Ok(Arc::unwrap_or_clone(query)),
            (last, _) => {
                stack.extend(last);
                Err(Error {
                    token: String::new(),
                    position: program.len(),
                    reason: Reason::NotOneQuery { found: type_summary(&stack) },
                    stack: render_capped(&stack, RENDERED_STACK_CHARS),
                })
            }
        }
    }
}

/// Why a word's code stopped: a reason about this word, or an error from a word it ran.
#[derive(Debug)]
pub(crate) enum Fail {
    Here(Reason),
    Nested(Box<Error>),
}

impl From<Reason> for Fail {
    fn from(reason: Reason) -> Self {
        Fail::Here(reason)
    }
}

impl From<Limit> for Fail {
    fn from(limit: Limit) -> Self {
        Fail::Here(Reason::LimitExceeded(limit))
    }
}

impl From<Error> for Fail {
    fn from(error: Error) -> Self {
        Fail::Nested(Box::new(error))
    }
}

/// The state of one execution: the stack, the frozen stack, variables and budgets.
pub(crate) struct Context<'i> {
    interpreter: &'i Interpreter,
    /// The stack, bottom first.
    pub(crate) stack: Vec<Item>,
    /// Items moved aside by `:freeze`, bottom first.
    pub(crate) frozen: Vec<Item>,
    pub(crate) variables: HashMap<String, Item>,
    pub(crate) initial_variables: HashMap<String, Item>,
    call_depth: usize,
    work: usize,
    /// Byte offset of the top-level token being executed.
    position: usize,
}

impl Context<'_> {
    fn limits(&self) -> &Limits {
        &self.interpreter.limits
    }

    fn error(&self, token: &str, reason: Reason) -> Error {
        Error {
            token: token.to_string(),
            position: self.position,
            reason,
            stack: render_capped(&self.stack, RENDERED_STACK_CHARS),
        }
    }

    fn run_tokens(&mut self, tokens: &[Token]) -> Result<(), Error> {
        let mut i = 0;
        while let Some(token) = tokens.get(i) {
            self.position = token.position;
            self.charge(1).map_err(|r| self.error(&token.text, r))?;
            match token.text.as_str() {
                "(" => {
                    let (list, close) = self.read_list(tokens, i)?;
                    self.push(Item::List(list)).map_err(|r| self.error("(", r))?;
                    i = close;
                }
                ")" => return Err(self.error(")", Reason::UnmatchedClose)),
                text => match token.word() {
                    Some(name) => self.execute_word(name)?,
                    None => self.push(Item::Str(unescape(text))).map_err(|r| self.error(text, r))?,
                },
            }
            i += 1;
        }
        Ok(())
    }

    /// Reads the list opened at `tokens[open]`; returns it and the index of its `)`.
    fn read_list(&mut self, tokens: &[Token], open: usize) -> Result<(List, usize), Error> {
        let max_nesting = self.limits().max_list_nesting;
        let mut frames: Vec<Vec<Item>> = vec![Vec::new()];
        let mut i = open + 1;
        while let Some(token) = tokens.get(i) {
            self.charge(1).map_err(|r| self.error("(", r))?;
            match token.text.as_str() {
                "(" => {
                    if frames.len() >= max_nesting {
                        self.position = token.position;
                        return Err(self.error("(", Reason::LimitExceeded(Limit::ListNesting(max_nesting))));
                    }
                    frames.push(Vec::new());
                }
                ")" => {
                    let list = List::new(frames.pop().unwrap_or_default());
                    match frames.last_mut() {
                        Some(parent) => parent.push(Item::List(list)),
                        None => return Ok((list, i)),
                    }
                }
                text => {
                    let item = match token.word() {
                        Some(name) => Item::Word(name.to_string()),
                        None => Item::Str(unescape(text)),
                    };
                    if let Some(frame) = frames.last_mut() {
                        frame.push(item);
                    }
                }
            }
            if frames.is_empty() {
                break;
            }
            i += 1;
        }
        Err(self.error("(", Reason::UnmatchedOpen))
    }

    /// Runs the word `name`: the first variant whose parameters fit the stack.
    pub(crate) fn execute_word(&mut self, name: &str) -> Result<(), Error> {
        let token = format!(":{name}");
        let Some(candidates) = self.interpreter.words.get(name) else {
            return Err(self.error(&token, Reason::UnknownWord));
        };
        let Some(word) = candidates.iter().find(|w| w.accepts(&self.stack)) else {
            return Err(self.error(&token, self.mismatch(candidates)));
        };
        let outcome = match word.body {
            Body::Native(code) => code(self),
            Body::Macro(body) => self.run_macro(body),
            Body::Pending => Err(Fail::Here(Reason::NotImplemented { vocabulary: word.vocabulary })),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Fail::Here(reason)) => Err(self.error(&token, reason)),
            Err(Fail::Nested(error)) => Err(*error),
        }
    }

    /// Why no variant of a word fits: too few items for all of them, or wrong types.
    fn mismatch(&self, candidates: &[&Word]) -> Reason {
        let needed = candidates.iter().map(|w| w.params.len()).min().unwrap_or(0);
        let widest = candidates.iter().map(|w| w.params.len()).max().unwrap_or(0);
        if self.stack.len() < needed {
            return Reason::StackUnderflow { needed, available: self.stack.len() };
        }
        let expected = candidates.iter().map(|w| w.signature).collect::<Vec<_>>().join(" | ");
        let top = self.stack.get(self.stack.len().saturating_sub(widest)..).unwrap_or(&[]);
        Reason::WrongTypes { expected, found: type_summary(top) }
    }

    /// Runs a macro's tokens: `:words` execute, `(` ... `)` push a list, the rest is pushed as
    /// strings.
    fn run_macro(&mut self, body: &[&str]) -> Result<(), Fail> {
        self.enter()?;
        let mut lists: Vec<Vec<Item>> = Vec::new();
        for token in body {
            self.charge(1)?;
            let item = match (*token, token.strip_prefix(':')) {
                ("(", _) => {
                    lists.push(Vec::new());
                    continue;
                }
                (")", _) => match lists.pop() {
                    Some(items) => Item::List(List::new(items)),
                    None => return Err(Fail::Here(Reason::UnmatchedClose)),
                },
                (_, Some(name)) if lists.is_empty() => {
                    self.execute_word(name)?;
                    continue;
                }
                (_, Some(name)) => Item::Word(name.to_string()),
                (text, None) => Item::Str(text.to_string()),
            };
            match lists.last_mut() {
                Some(list) => list.push(item),
                None => self.push(item)?,
            }
        }
        if !lists.is_empty() {
            return Err(Fail::Here(Reason::UnmatchedOpen));
        }
        self.call_depth -= 1;
        Ok(())
    }

    /// Runs the items of `list` as a program: words execute, everything else is pushed.
    pub(crate) fn call(&mut self, list: &List) -> Result<(), Fail> {
        self.enter()?;
        for item in list.items() {
            self.charge(1)?;
            match item {
                Item::Word(name) => self.execute_word(name)?,
                other => self.push(other.clone())?,
            }
        }
        self.call_depth -= 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Limit> {
        if self.call_depth >= self.limits().max_call_depth {
            return Err(Limit::CallDepth(self.limits().max_call_depth));
        }
        self.call_depth += 1;
        Ok(())
    }

    /// Spends `units` of the work budget.
    pub(crate) fn charge(&mut self, units: usize) -> Result<(), Reason> {
        self.work = self.work.saturating_add(units);
        if self.work > self.limits().max_work {
            return Err(Reason::LimitExceeded(Limit::Work(self.limits().max_work)));
        }
        Ok(())
    }

    /// Pushes an item, within the stack limit (frozen items count).
    pub(crate) fn push(&mut self, item: Item) -> Result<(), Reason> {
        let max = self.limits().max_stack_depth;
        if self.stack.len() + self.frozen.len() >= max {
            return Err(Reason::LimitExceeded(Limit::StackDepth(max)));
        }
        self.stack.push(item);
        Ok(())
    }

    /// Builds a list from `items` and pushes it, within the nesting limit.
    pub(crate) fn push_list(&mut self, items: Vec<Item>) -> Result<(), Reason> {
        self.charge(items.len())?;
        let list = List::new(items);
        let max = self.limits().max_list_nesting;
        if list.nesting() > max {
            return Err(Reason::LimitExceeded(Limit::ListNesting(max)));
        }
        self.push(Item::List(list))
    }

    /// Pushes a query, within the size and depth limits.
    pub(crate) fn push_query(&mut self, query: Query) -> Result<(), Reason> {
        let shape = query.shape();
        self.charge(shape.nodes)?;
        let limits = self.limits();
        if shape.nodes > limits.max_query_nodes {
            return Err(Reason::LimitExceeded(Limit::QueryNodes(limits.max_query_nodes)));
        }
        if shape.depth > limits.max_query_depth {
            return Err(Reason::LimitExceeded(Limit::QueryDepth(limits.max_query_depth)));
        }
        self.push(Item::from(query))
    }

    /// Pushes a time-series expression, within the expression size and depth limits.
    pub(crate) fn push_expr(&mut self, expr: Expr) -> Result<(), Reason> {
        let (nodes, depth) = expr.shape();
        self.charge(nodes)?;
        let limits = self.limits();
        if nodes > limits.max_expr_nodes {
            return Err(Reason::LimitExceeded(Limit::ExprNodes(limits.max_expr_nodes)));
        }
        if depth > limits.max_expr_depth {
            return Err(Reason::LimitExceeded(Limit::ExprDepth(limits.max_expr_depth)));
        }
        self.push(Item::from(expr))
    }

    /// The item `depth` places below the top as a time-series expression (a query as its
    /// `:sum`, a number as a constant).
    pub(crate) fn peek_expr(&self, depth: usize) -> Result<Expr, Reason> {
        let item = self.peek(depth)?;
        item.to_expr().ok_or_else(|| wrong_type("TimeSeriesExpr", item))
    }

    /// The number `depth` places below the top.
    pub(crate) fn peek_number(&self, depth: usize) -> Result<f64, Reason> {
        let item = self.peek(depth)?;
        match item {
            Item::Str(s) => parse_double(s).ok_or_else(|| wrong_type("Double", item)),
            other => Err(wrong_type("Double", other)),
        }
    }

    /// The duration `depth` places below the top, in milliseconds.
    pub(crate) fn peek_duration(&self, depth: usize) -> Result<i64, Reason> {
        let item = self.peek(depth)?;
        match item {
            Item::Str(s) => parse_duration(s).ok_or_else(|| wrong_type("Duration", item)),
            other => Err(wrong_type("Duration", other)),
        }
    }

    /// A wrong-type reason for the item `depth` places below the top.
    pub(crate) fn wrong_type_at(&self, depth: usize, expected: &str) -> Reason {
        match self.peek(depth) {
            Ok(item) => wrong_type(expected, item),
            Err(reason) => reason,
        }
    }

    /// The strings of the list `depth` places below the top (words read as `:name`).
    pub(crate) fn peek_strings(&self, depth: usize) -> Result<Vec<String>, Reason> {
        Ok(self.peek_list(depth)?.items().iter().filter_map(Item::as_text).map(Into::into).collect())
    }

    /// Replaces the top `count` items with `expr`, within the expression limits.
    pub(crate) fn replace_with_expr(&mut self, count: usize, expr: Expr) -> Result<(), Reason> {
        self.stack.truncate(self.stack.len().saturating_sub(count));
        self.push_expr(expr)
    }

    /// Compiles a `:re` / `:reic` pattern within the regex size limit.
    pub(crate) fn pattern(&self, source: &str, ignore_case: bool) -> Result<Pattern, Reason> {
        Pattern::new(source, ignore_case, self.limits().max_regex_bytes)
            .map_err(|source_error| Reason::InvalidRegex { pattern: source.to_string(), source: source_error })
    }

    /// The longest string a word may build.
    pub(crate) fn max_string_bytes(&self) -> usize {
        self.limits().max_string_bytes
    }

    /// The item `depth` places below the top (0 is the top).
    pub(crate) fn peek(&self, depth: usize) -> Result<&Item, Reason> {
        let available = self.stack.len();
        available
            .checked_sub(depth + 1)
            .and_then(|i| self.stack.get(i))
            .ok_or(Reason::StackUnderflow { needed: depth + 1, available })
    }

    /// Removes and returns the top item.
    pub(crate) fn pop(&mut self) -> Result<Item, Reason> {
        self.stack.pop().ok_or(Reason::StackUnderflow { needed: 1, available: 0 })
    }

    /// The string `depth` places below the top.
    pub(crate) fn peek_str(&self, depth: usize) -> Result<&str, Reason> {
        match self.peek(depth)? {
            Item::Str(s) => Ok(s),
            other => Err(wrong_type("String", other)),
        }
    }

    /// The integer string `depth` places below the top.
    pub(crate) fn peek_int(&self, depth: usize) -> Result<i64, Reason> {
        let item = self.peek(depth)?;
        match item {
            Item::Str(s) => s.parse::<i32>().map(i64::from).map_err(|_| wrong_type("Int", item)),
            other => Err(wrong_type("Int", other)),
        }
    }

    /// The list `depth` places below the top.
    pub(crate) fn peek_list(&self, depth: usize) -> Result<&List, Reason> {
        match self.peek(depth)? {
            Item::List(list) => Ok(list),
            other => Err(wrong_type("List", other)),
        }
    }

    /// The query `depth` places below the top.
    pub(crate) fn peek_query(&self, depth: usize) -> Result<&Arc<Query>, Reason> {
        match self.peek(depth)? {
            Item::Query(query) => Ok(query),
            other => Err(wrong_type("Query", other)),
        }
    }
}

fn wrong_type(expected: &str, found: &Item) -> Reason {
    Reason::WrongTypes { expected: expected.to_string(), found: found.type_name().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(program: &str) -> Result<String, Error> {
        Interpreter::default().execute(program).map(|stack| render_capped(&stack, 10_000))
    }

    #[test]
    fn pushes_strings_lists_and_runs_words() {
        assert_eq!(run("a, b ,(,c,(,:dup,),),:swap").unwrap(), "a,(,c,(,:dup,),),b");
        assert_eq!(run("a\\u002cb").unwrap(), "a\\u002cb");
        assert_eq!(run("").unwrap(), "");
    }

    #[test]
    fn errors_name_word_position_reason_and_stack() {
        let err = run("a,b,:nope").unwrap_err();
        assert_eq!((err.token.as_str(), err.position, err.stack.as_str()), (":nope", 4, "a,b"));
        assert!(matches!(err.reason, Reason::UnknownWord));
        assert_eq!(err.to_string(), ":nope at byte 4: unknown word (stack: [a,b])");

        let err = run("x,:dup,:drop,:drop,:drop").unwrap_err();
        assert_eq!((err.token.as_str(), err.position), (":drop", 19));
        assert!(matches!(err.reason, Reason::StackUnderflow { needed: 1, available: 0 }));

        let err = run("(,a,),b,:eq").unwrap_err();
        assert!(matches!(&err.reason, Reason::WrongTypes { found, .. } if found == "List,String"), "{err}");
    }

    #[test]
    fn unmatched_parentheses_fail() {
        let err = run("a,),b").unwrap_err();
        assert_eq!((err.token.as_str(), err.position), (")", 2));
        assert!(matches!(err.reason, Reason::UnmatchedClose));
        let err = run("a,(,(,b,)").unwrap_err();
        assert_eq!((err.token.as_str(), err.position), ("(", 2));
        assert!(matches!(err.reason, Reason::UnmatchedOpen));
    }

    #[test]
    fn errors_inside_calls_name_the_inner_word_at_the_outer_position() {
        let err = run("(,:drop,),:call").unwrap_err();
        assert_eq!((err.token.as_str(), err.position), (":drop", 10));
    }

    #[test]
    fn freeze_keeps_items_below_the_rest_and_resets_variables() {
        assert_eq!(run("a,b,:freeze,c,:clear,d").unwrap(), "a,b,d");
        let err = run("k,v,:set,:freeze,k,:get").unwrap_err();
        assert!(matches!(err.reason, Reason::UnknownVariable(ref k) if k == "k"));
        let vars = HashMap::from([("k".to_string(), Item::Str("orig".into()))]);
        let stack = Interpreter::default().execute_with("k,v,:set,:freeze,k,:get", &vars).unwrap();
        assert_eq!(stack, vec![Item::Str("orig".into())]);
    }

    #[test]
    fn limits_stop_hostile_programs() {
        let limits = Limits { max_program_bytes: 10, ..Limits::default() };
        let err = Interpreter::new(vocab::ALL, limits).execute("aaaaaaaaaaa").unwrap_err();
        assert!(matches!(err.reason, Reason::LimitExceeded(Limit::ProgramBytes(10))));

        let loop_forever = "f,(,f,:fcall,),:set,f,:fcall";
        assert!(matches!(run(loop_forever).unwrap_err().reason, Reason::LimitExceeded(Limit::CallDepth(10))));

        let grow = "x,a,(,:dup,:dup,),:set,".to_string() + &"a,:fcall,".repeat(600);
        assert!(matches!(run(&grow).unwrap_err().reason, Reason::LimitExceeded(Limit::StackDepth(1024))));

        let nest = "(,".repeat(40) + &",)".repeat(40);
        assert!(matches!(run(&nest).unwrap_err().reason, Reason::LimitExceeded(Limit::ListNesting(32))));

        let wrap = "a".to_string() + &",:list".repeat(40);
        assert!(matches!(run(&wrap).unwrap_err().reason, Reason::LimitExceeded(Limit::ListNesting(32))));

        let doubling = "a,b,:eq".to_string() + &",:dup,:and".repeat(20);
        assert!(matches!(run(&doubling).unwrap_err().reason, Reason::LimitExceeded(Limit::QueryNodes(10_000))));

        let deep = "a,b,:eq".to_string() + &",:not".repeat(600);
        assert!(matches!(run(&deep).unwrap_err().reason, Reason::LimitExceeded(Limit::QueryDepth(500))));

        let limits = Limits { max_work: 1000, ..Limits::default() };
        let busy = "(".to_string() + &",a".repeat(500) + ",),(,:dup,:drop,),:each";
        let err = Interpreter::new(vocab::ALL, limits).execute(&busy).unwrap_err();
        assert!(matches!(err.reason, Reason::LimitExceeded(Limit::Work(1000))));
    }

    #[test]
    fn interpreter_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Interpreter>();
        shareable::<Item>();
        shareable::<Error>();
    }

    #[test]
    fn parse_query_wants_exactly_one_query() {
        let q = Interpreter::default().parse_query("name,sps,:eq,nf.app,(,a,b,),:in,:and").unwrap();
        assert_eq!(q.to_string(), "name,sps,:eq,nf.app,(,a,b,),:in,:and");
        let err = Interpreter::default().parse_query("name,sps,:eq,x").unwrap_err();
        assert!(matches!(&err.reason, Reason::NotOneQuery { found } if found == "Query,String"));
        assert_eq!(err.position, 14);
    }

    #[test]
    fn macros_build_lists() {
        assert_eq!(run("name,d,:eq,:median").unwrap(), "name,d,:eq,(,50.0,),:percentiles");
    }

    #[test]
    fn later_vocabularies_fail_naming_the_word() {
        // Every word of Atlas's vocabularies is implemented; a placeholder of a later one
        // fails naming itself and its vocabulary.
        static LATER: Vocabulary = Vocabulary {
            name: "later",
            words: &[Word {
                name: "soon",
                vocabulary: "later",
                kind: crate::word::Kind::Word,
                params: &[],
                signature: "? -- ?",
                summary: "Not implemented yet.",
                examples: &[],
                body: Body::Pending,
            }],
        };
        let err = Interpreter::new(&[&LATER], Limits::default()).execute("1,:soon").unwrap_err();
        assert_eq!(err.token, ":soon");
        assert!(matches!(err.reason, Reason::NotImplemented { vocabulary: "later" }));
    }
}
