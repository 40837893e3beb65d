//! Bounds on what one program may cost, so a hostile `q=` cannot exhaust memory or CPU.
//!
//! Design decision: besides size limits (program, stack, nesting, strings, queries) there is one
//! budget of abstract "work" units, charged per token executed and per item built or copied.
//! Counting work rather than steps bounds programs whose individual steps are expensive, such as
//! repeatedly combining large queries, without picking a separate limit for each word.

/// The limits an [`Interpreter`](crate::Interpreter) enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest program, in bytes. Default is 256 KiB.
    pub max_program_bytes: usize,
    /// Most items on the stack, frozen items included. Default is 1024, as in Atlas.
    pub max_stack_depth: usize,
    /// Deepest nesting of lists, written or built. Default is 32.
    pub max_list_nesting: usize,
    /// Deepest nesting of `:call`, `:each`, `:map` and macros. Default is 10, as in Atlas.
    pub max_call_depth: usize,
    /// Work units one program may use (one per token executed, plus one per list element or
    /// query node built). Default is 1,000,000.
    pub max_work: usize,
    /// Most nodes in one query expression. Default is 10,000.
    pub max_query_nodes: usize,
    /// Deepest nesting of one query expression. Default is 500.
    pub max_query_depth: usize,
    /// Longest string a word may build (`:format`), in bytes. Default is 64 KiB.
    pub max_string_bytes: usize,
    /// Most memory one compiled regular expression may take, in bytes. Default is 1 MiB.
    pub max_regex_bytes: usize,
    /// Most nodes in one time-series expression, its queries' nodes included. Default is 20,000.
    pub max_expr_nodes: usize,
    /// Deepest nesting of operators in one time-series expression. Default is 200.
    pub max_expr_depth: usize,
    /// Most points per line an evaluation may compute (the grid's length). Default is 100,000.
    pub max_datapoints: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_program_bytes: 256 * 1024,
            max_stack_depth: 1024,
            max_list_nesting: 32,
            max_call_depth: 10,
            max_work: 1_000_000,
            max_query_nodes: 10_000,
            max_query_depth: 500,
            max_string_bytes: 64 * 1024,
            max_regex_bytes: 1 << 20,
            max_expr_nodes: 20_000,
            max_expr_depth: 200,
            max_datapoints: 100_000,
        }
    }
}

/// Which limit a program ran into, with the limit's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    /// The program text is longer than allowed.
    #[error("program is longer than {0} bytes")]
    ProgramBytes(usize),
    /// The stack grew past its limit.
    #[error("stack is deeper than {0} items")]
    StackDepth(usize),
    /// A list is nested deeper than allowed.
    #[error("lists are nested deeper than {0}")]
    ListNesting(usize),
    /// Calls are nested deeper than allowed (a loop, most likely).
    #[error("calls are nested deeper than {0}")]
    CallDepth(usize),
    /// The program used up its work budget.
    #[error("program needs more than {0} units of work")]
    Work(usize),
    /// A query has more nodes than allowed.
    #[error("query has more than {0} nodes")]
    QueryNodes(usize),
    /// A query is nested deeper than allowed.
    #[error("query is nested deeper than {0}")]
    QueryDepth(usize),
    /// A built string is longer than allowed.
    #[error("string is longer than {0} bytes")]
    StringBytes(usize),
    /// A time-series expression has more nodes than allowed.
    #[error("expression has more than {0} nodes")]
    ExprNodes(usize),
    /// A time-series expression is nested deeper than allowed.
    #[error("expression is nested deeper than {0}")]
    ExprDepth(usize),
    /// The evaluation grid has more points than allowed.
    #[error("evaluation needs more than {0} points per line")]
    Datapoints(usize),
}
