//! Evaluation: the expressions a program leaves on the stack become [`TimeSeries`] on the step
//! grid of an [`EvalContext`], reading stored samples through the caller's [`Source`].
//!
//! The grid and the alignment rule: Atlas stamps each value with the end of the interval it
//! summarizes. The value at grid time `T` (a multiple of the step) covers the samples whose
//! timestamps `t` satisfy `T - step < t <= T`, so a sample is counted at `ceil(t / step) * step`.
//! [`EvalContext::new`] rounds a requested range as Atlas's graph API does: start and end are
//! floored to the step (if they become equal the start moves one step back) and the grid runs
//! from the start to the end inclusive; [`EvalContext::end_ms`] is exclusive (one step past the
//! last point). A source is asked for `[start - step + 1, end - step + 1)`, exactly the samples
//! the grid's intervals cover.
//!
//! Design decision: evaluation is eager and per data expression. Each distinct (query, offset,
//! consolidation) is fetched once per evaluation and consolidated series by series to the step
//! (`:cf-avg` by default for `:sum` and `:count`, the aggregate itself for `:min` and `:max`),
//! then the aggregates, groupings and math run over plain `Vec<f64>`s. Atlas consolidates a
//! rate's average over every primary slot of the interval (a missing slot counts as 0); plumb
//! stores samples without their reporting step, so every average here is over the samples
//! present, as Atlas averages gauges.

mod consolidate;
mod consolidated_view;
mod data;
mod des;
mod distinct;
mod filter;
mod math;
mod percentiles;
mod stateful;
#[cfg(test)]
mod test_values;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

pub(crate) use consolidate::consolidate;
pub use percentiles::{bucket_index, bucket_value};

use crate::error::{Error, RENDERED_STACK_CHARS, Reason};
use crate::expr::{Consolidation, Expr};
use crate::interpreter::Interpreter;
use crate::item::{Item, render_capped, type_summary};
use crate::limits::Limit;
use crate::query::Query;

/// The time range and step an evaluation fills, aligned to the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalContext {
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    now_ms: i64,
}

impl EvalContext {
    /// The grid for a graph of `[start_ms, end_ms]` at `step_ms`, rounded as Atlas's graph API
    /// rounds it (see the module notes). Fails if the step is not positive or the end is
    /// before the start.
    pub fn new(start_ms: i64, end_ms: i64, step_ms: i64) -> Result<Self, Reason> {
        if step_ms <= 0 {
            return Err(Reason::InvalidContext(format!("step must be positive, got {step_ms} ms")));
        }
        if end_ms < start_ms {
            return Err(Reason::InvalidContext(format!("end {end_ms} is before start {start_ms}")));
        }
        let out_of_range = || Reason::InvalidContext(format!("range {start_ms}..{end_ms} is out of range"));
        let floor = |t: i64| t.div_euclid(step_ms).checked_mul(step_ms);
        let (mut start, end) = (floor(start_ms).ok_or_else(out_of_range)?, floor(end_ms).ok_or_else(out_of_range)?);
        if start == end {
            start = start.checked_sub(step_ms).ok_or_else(out_of_range)?;
        }
        let end = end.checked_add(step_ms).ok_or_else(out_of_range)?;
        end.checked_sub(start).ok_or_else(out_of_range)?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Ok(EvalContext { start_ms: start, end_ms: end, step_ms, now_ms })
    }

    /// The same grid with another "now" (what `now` means in `:time-span` dates); `new` reads
    /// the system clock.
    pub fn with_now(self, now_ms: i64) -> Self {
        EvalContext { now_ms, ..self }
    }

    /// The first grid time, in milliseconds since the epoch.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// One step past the last grid time (exclusive end).
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// The step in milliseconds.
    pub fn step_ms(&self) -> i64 {
        self.step_ms
    }

    /// The number of grid points, the length of every result's `values`.
    pub fn len(&self) -> usize {
        usize::try_from((self.end_ms - self.start_ms) / self.step_ms).unwrap_or(usize::MAX)
    }

    /// Whether the grid has no points (never, for a context from [`EvalContext::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The grid times, first to last.
    pub fn timestamps(&self) -> impl Iterator<Item = i64> + use<> {
        let (start, step) = (self.start_ms, self.step_ms);
        (0..self.len()).map(move |i| start + i as i64 * step)
    }

    /// The grid shifted back by `offset_ms`, as Atlas shifts it for `:offset`: the offset is
    /// rounded down to whole steps and ignored if that leaves less than one step.
    pub(crate) fn shifted(&self, offset_ms: i64) -> EvalContext {
        let shift = offset_ms.div_euclid(self.step_ms).saturating_mul(self.step_ms);
        if shift < self.step_ms {
            return *self;
        }
        EvalContext {
            start_ms: self.start_ms.saturating_sub(shift),
            end_ms: self.end_ms.saturating_sub(shift),
            ..*self
        }
    }
}

/// One line of a result: its tags, its legend label, and one value per grid point (NaN where
/// there is no data).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// The tags Atlas keeps on the result: the `:eq` keys of the query and the group-by keys
    /// for aggregates, every tag for `:all`.
    pub tags: BTreeMap<String, String>,
    /// The legend: `sum(name=sps)`, `(nf.cluster=www)`, `name=sps, nf.app=www`, ...
    pub label: String,
    /// Values on the grid of the [`EvalContext`], first to last.
    pub values: Vec<f64>,
}

/// Samples of one stored series, as a [`Source`] returns them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawSeries {
    /// The series' tags, `name` included.
    pub tags: BTreeMap<String, String>,
    /// Sample times in milliseconds since the epoch, ascending or not; paired with `values` by
    /// position (extra entries of the longer vector are ignored).
    pub timestamps: Vec<i64>,
    /// Sample values; NaN samples are skipped.
    pub values: Vec<f64>,
}

/// Where evaluation reads stored data; the server implements it over its store.
pub trait Source {
    /// Every series matching `query` with its samples in `[start_ms, end_ms)`. Returning series
    /// that do not match or samples outside the range is harmless: both are filtered out. The
    /// error text is shown to the user.
    fn fetch(&self, query: &Query, start_ms: i64, end_ms: i64) -> Result<Vec<RawSeries>, String>;
}

/// One fetched series consolidated to the grid.
pub(crate) struct Input {
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) values: Vec<f64>,
}

/// Runs expressions over one context and source, fetching each distinct data input once.
pub(crate) struct Evaluator<'a> {
    context: &'a EvalContext,
    source: &'a dyn Source,
    fetched: HashMap<(String, i64, Consolidation), Rc<Vec<Input>>>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(context: &'a EvalContext, source: &'a dyn Source) -> Self {
        Evaluator { context, source, fetched: HashMap::new() }
    }

    /// The series matching `query`, consolidated with `cf` on the grid shifted by `offset_ms`.
    fn fetch(&mut self, query: &Query, offset_ms: i64, cf: Consolidation) -> Result<Rc<Vec<Input>>, Reason> {
        let key = (query.to_string(), offset_ms, cf);
        if let Some(inputs) = self.fetched.get(&key) {
            return Ok(Rc::clone(inputs));
        }
        let grid = self.context.shifted(offset_ms);
        let step = grid.step_ms();
        let (from, to) = (grid.start_ms().saturating_sub(step - 1), grid.end_ms().saturating_sub(step - 1));
        let raw = self
            .source
            .fetch(query, from, to)
            .map_err(|message| Reason::Fetch { query: query.to_string(), message })?;
        let inputs: Vec<Input> = raw
            .iter()
            .filter(|r| query.matches(|k: &str| r.tags.get(k).map(String::as_str)))
            .map(|r| Input { tags: r.tags.clone(), values: consolidate(r, &grid, cf) })
            .collect();
        let inputs = Rc::new(inputs);
        self.fetched.insert(key, Rc::clone(&inputs));
        Ok(inputs)
    }
}

/// A series of `len` NaNs labelled `NO DATA`, Atlas's stand-in for an aggregate without input.
pub(crate) fn no_data(len: usize) -> TimeSeries {
    TimeSeries {
        tags: BTreeMap::from([("name".to_string(), "NO_DATA".to_string())]),
        label: "NO DATA".into(),
        values: vec![f64::NAN; len],
    }
}

/// Atlas's label from tags: `k1=v1, k2=v2` in key order, `NO TAGS` for none.
pub(crate) fn tags_label(tags: &BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        return "NO TAGS".into();
    }
    tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

impl Interpreter {
    /// Runs `program` and returns the expressions it leaves, bottom of the stack first, frozen
    /// items included: a query stands for its `:sum`, a number for a constant line, a styled
    /// expression for its expression (its style dropped; see
    /// [`Interpreter::evaluate_styled`]). Fails on anything else (a string, a list), naming its
    /// type.
    pub fn parse_expressions(&self, program: &str) -> Result<Vec<Expr>, Error> {
        let stack = self.execute(program)?;
        stack
            .iter()
            .map(|item| {
                let expr = match item {
                    Item::Styled(styled) => Some(styled.expr.clone()),
                    other => other.to_expr(),
                };
                expr.ok_or_else(|| Error {
                    token: String::new(),
                    position: program.len(),
                    reason: Reason::NotAnExpression { found: type_summary(std::slice::from_ref(item)) },
                    stack: render_capped(&stack, RENDERED_STACK_CHARS),
                })
            })
            .collect()
    }

    /// Runs `program` and evaluates every expression it leaves on `context`'s grid, bottom of
    /// the stack first (the order Atlas draws them), reading data from `source`. An evaluation
    /// failure names the expression as its token, the end of the program as its position, and
    /// the final stack.
    pub fn evaluate(
        &self,
        program: &str,
        context: &EvalContext,
        source: &dyn Source,
    ) -> Result<Vec<TimeSeries>, Error> {
        let exprs = self.parse_expressions(program)?;
        let rendered =
            || render_capped(&exprs.iter().cloned().map(Item::from).collect::<Vec<_>>(), RENDERED_STACK_CHARS);
        let max = self.limits().max_datapoints;
        if context.len() > max {
            let reason = Reason::LimitExceeded(Limit::Datapoints(max));
            return Err(Error { token: String::new(), position: program.len(), reason, stack: rendered() });
        }
        let mut evaluator = Evaluator::new(context, source);
        let mut lines = Vec::new();
        for expr in &exprs {
            let series = evaluator.eval(expr).map_err(|reason| Error {
                token: render_capped(&[Item::from(expr.clone())], RENDERED_STACK_CHARS),
                position: program.len(),
                reason,
                stack: rendered(),
            })?;
            lines.extend(series);
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_rounds_as_atlas_graphs_do() {
        let c = EvalContext::new(125_000, 365_000, 60_000).unwrap();
        assert_eq!((c.start_ms(), c.end_ms(), c.len()), (120_000, 420_000, 5));
        assert_eq!(c.timestamps().collect::<Vec<_>>(), [120_000, 180_000, 240_000, 300_000, 360_000]);
        let same = EvalContext::new(130_000, 150_000, 60_000).unwrap();
        assert_eq!((same.start_ms(), same.end_ms()), (60_000, 180_000), "equal after rounding: one step back");
        assert!(EvalContext::new(0, 10, 0).is_err());
        assert!(EvalContext::new(10, 0, 1).is_err());
        assert!(EvalContext::new(i64::MIN, i64::MAX, 7).is_err(), "overflow is refused, not wrapped");
    }

    #[test]
    fn offsets_shift_by_whole_steps_only() {
        let c = EvalContext::new(0, 600_000, 60_000).unwrap();
        assert_eq!(c.shifted(30_000), c, "less than a step is ignored");
        assert_eq!(c.shifted(150_000).start_ms(), -120_000, "rounded down to whole steps");
        assert_eq!(c.shifted(-60_000), c, "negative offsets are ignored");
    }

    #[test]
    fn labels_from_tags() {
        let tags = BTreeMap::from([("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())]);
        assert_eq!(tags_label(&tags), "a=1, b=2");
        assert_eq!(tags_label(&BTreeMap::new()), "NO TAGS");
    }
}
