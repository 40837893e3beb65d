//! Rewrites that words apply to a whole expression: `:cq` ANDs a query into every query,
//! `:offset` shifts every data expression, `:cf-*` sets every aggregate's consolidation, math
//! `:by` groups every aggregate, and `:cg` adds keys to every grouping.
//!
//! Design decision: each rewrite rebuilds the tree through the same constructors the words use
//! ([`Expr::binary`], [`Expr::group_by`]), so a rewrite that breaks a rule (a `:cg` that leaves
//! two sides of `:add` with unrelated groupings) fails as building that expression would, rather
//! than producing a tree no program could have built. Named rewrites are rewritten in place
//! (their original and their evaluated expression alike) where Atlas re-runs the macro's text;
//! the two agree on what is evaluated.

use super::{AggregateFunction, Consolidation, DataExpr, Expr, NamedRewrite, Original, Percentiles, PriorityFilter};
use crate::query::Query;

impl Expr {
    /// Rebuilds this node with `f` applied to each direct child expression.
    pub(super) fn map_children(&self, f: &mut dyn FnMut(&Expr) -> Result<Expr, String>) -> Result<Expr, String> {
        Ok(match self {
            Expr::As { expr, original, replacement } => {
                Expr::As { expr: Box::new(f(expr)?), original: original.clone(), replacement: replacement.clone() }
            }
            Expr::Unary(op, expr) => Expr::Unary(*op, Box::new(f(expr)?)),
            Expr::Binary(op, a, b) => Expr::binary(*op, f(a)?, f(b)?)?,
            Expr::Aggregate(aggregation, expr) => Expr::Aggregate(*aggregation, Box::new(f(expr)?)),
            Expr::GroupBy { aggregation, expr, keys } => Expr::group_by(*aggregation, f(expr)?, keys.clone())?,
            Expr::NamedRewrite(nr) => {
                let original = match &nr.original {
                    Original::Expr(e) => Original::Expr(f(e)?),
                    Original::Query(q) => Original::Query(q.clone()),
                };
                Expr::NamedRewrite(Box::new(NamedRewrite { original, eval: f(&nr.eval)?, ..(**nr).clone() }))
            }
            Expr::Stat { expr, stat } => Expr::Stat { expr: Box::new(f(expr)?), stat: *stat },
            Expr::Stateful { expr, op } => Expr::Stateful { expr: Box::new(f(expr)?), op: *op },
            Expr::ApproxDistinct(input) => Expr::approx_distinct(f(input)?)?,
            Expr::Filter { expr, condition } => Expr::filter(f(expr)?, f(condition)?)?,
            Expr::Priority(p) => Expr::Priority(Box::new(PriorityFilter { expr: f(&p.expr)?, ..(**p).clone() })),
            leaf => leaf.clone(),
        })
    }

    /// Rebuilds the expression with `f` applied to every data expression (percentiles' too).
    fn map_data(&self, f: &dyn Fn(&DataExpr) -> DataExpr) -> Expr {
        match self {
            Expr::Data(d) => Expr::Data(f(d)),
            Expr::Percentiles(p) => Expr::Percentiles(Box::new(Percentiles { data: f(&p.data), ..(**p).clone() })),
            other => other.map_children(&mut |c| Ok(c.map_data(f))).unwrap_or_else(|_| other.clone()),
        }
    }

    /// ANDs `common` into every query of the expression (`:cq`).
    pub fn with_common_query(&self, common: &Query) -> Expr {
        let and = |q: &Query| q.clone().and(common.clone());
        match self {
            Expr::NamedRewrite(nr) => {
                let original = match &nr.original {
                    Original::Query(q) => Original::Query(and(q)),
                    Original::Expr(e) => Original::Expr(e.with_common_query(common)),
                };
                let eval = nr.eval.with_common_query(common);
                Expr::NamedRewrite(Box::new(NamedRewrite { original, eval, ..(**nr).clone() }))
            }
            other => other.map_data(&|d| with_query(d, and(d.query()))),
        }
    }

    /// Sets the offset of every data expression (`:offset`); a named rewrite keeps its original
    /// as written and shifts what it evaluates, as Atlas does.
    pub fn with_offset(&self, offset_ms: i64) -> Expr {
        match self {
            Expr::NamedRewrite(nr) => {
                Expr::NamedRewrite(Box::new(NamedRewrite { eval: nr.eval.with_offset(offset_ms), ..(**nr).clone() }))
            }
            other => other.map_data(&|d| match d {
                DataExpr::All { query, .. } => DataExpr::All { query: query.clone(), offset_ms },
                DataExpr::Aggregate(af) => DataExpr::Aggregate(AggregateFunction { offset_ms, ..af.clone() }),
                DataExpr::GroupBy { aggregate, keys } => DataExpr::GroupBy {
                    aggregate: AggregateFunction { offset_ms, ..aggregate.clone() },
                    keys: keys.clone(),
                },
            }),
        }
    }

    /// Sets the consolidation of every aggregate (`:cf-avg` ...). Named rewrites are expanded to
    /// what they evaluate first, since the consolidation could not be shown on the original.
    pub fn with_consolidation(&self, consolidation: Consolidation) -> Expr {
        self.expanded().map_data(&|d| match d {
            DataExpr::Aggregate(af) => DataExpr::Aggregate(AggregateFunction { consolidation, ..af.clone() }),
            DataExpr::GroupBy { aggregate, keys } => DataExpr::GroupBy {
                aggregate: AggregateFunction { consolidation, ..aggregate.clone() },
                keys: keys.clone(),
            },
            all => all.clone(),
        })
    }

    /// The expression with every named rewrite replaced by what it evaluates.
    fn expanded(&self) -> Expr {
        match self {
            Expr::NamedRewrite(nr) => nr.eval.expanded(),
            other => other.map_children(&mut |c| Ok(c.expanded())).unwrap_or_else(|_| other.clone()),
        }
    }

    /// Math `:by` on an ungrouped expression: every aggregate inside is grouped by `keys`, and
    /// named rewrites regroup what they evaluate.
    pub(crate) fn regroup(&self, keys: &[String]) -> Result<Expr, String> {
        match self {
            Expr::NamedRewrite(nr) => Ok(Expr::NamedRewrite(Box::new(nr.group_by(keys)?))),
            Expr::Data(DataExpr::Aggregate(af)) => {
                Ok(Expr::Data(DataExpr::GroupBy { aggregate: af.clone(), keys: keys.to_vec() }))
            }
            Expr::Aggregate(aggregation, inner) if inner.is_grouped() => {
                Expr::group_by(*aggregation, (**inner).clone(), keys.to_vec())
            }
            Expr::Data(_) | Expr::Percentiles(_) | Expr::GroupBy { .. } => Ok(self.clone()),
            other => other.map_children(&mut |c| c.regroup(keys)),
        }
    }

    /// `:cg`: adds `keys` to every grouping inside, grouping the aggregates that were not.
    pub(crate) fn add_common_keys(&self, keys: &[String]) -> Result<Expr, String> {
        match self {
            Expr::NamedRewrite(nr) => {
                let rewritten = match &nr.original {
                    Original::Query(_) if nr.eval.is_grouped() => {
                        NamedRewrite { eval: nr.eval.add_common_keys(keys)?, ..(**nr).clone() }
                    }
                    Original::Query(_) => nr.group_by(keys)?,
                    Original::Expr(e) => NamedRewrite {
                        original: Original::Expr(e.add_common_keys(keys)?),
                        eval: nr.eval.add_common_keys(keys)?,
                        ..(**nr).clone()
                    },
                };
                Ok(Expr::NamedRewrite(Box::new(rewritten)))
            }
            Expr::Data(DataExpr::Aggregate(af)) => {
                Ok(Expr::Data(DataExpr::GroupBy { aggregate: af.clone(), keys: keys.to_vec() }))
            }
            Expr::Data(DataExpr::GroupBy { aggregate, keys: own }) => {
                Ok(Expr::Data(DataExpr::GroupBy { aggregate: aggregate.clone(), keys: merge_keys(own, keys) }))
            }
            Expr::Percentiles(p) => {
                let data = match &p.data {
                    DataExpr::GroupBy { aggregate, keys: own } => {
                        DataExpr::GroupBy { aggregate: aggregate.clone(), keys: merge_keys(own, keys) }
                    }
                    other => other.clone(),
                };
                Ok(Expr::Percentiles(Box::new(Percentiles { data, ..(**p).clone() })))
            }
            Expr::Aggregate(aggregation, inner) => {
                Expr::group_by(*aggregation, inner.add_common_keys(keys)?, keys.to_vec())
            }
            Expr::GroupBy { aggregation, expr, keys: own } => {
                Expr::group_by(*aggregation, expr.add_common_keys(keys)?, merge_keys(own, keys))
            }
            other => other.map_children(&mut |c| c.add_common_keys(keys)),
        }
    }
}

impl NamedRewrite {
    /// The rewrite with what it evaluates grouped by `keys` (math `:by` on `q,:avg`).
    pub(crate) fn group_by(&self, keys: &[String]) -> Result<NamedRewrite, String> {
        let original = match &self.original {
            Original::Expr(e) if !e.is_grouped() => Original::Expr(e.regroup(keys)?),
            other => other.clone(),
        };
        let mut eval = self.eval.regroup(keys)?;
        if let Some(offset) = self.eval.common_offset() {
            eval = eval.with_offset(offset);
        }
        Ok(NamedRewrite { original, eval, ..self.clone() })
    }
}

/// The data expression with another query.
fn with_query(d: &DataExpr, query: Query) -> DataExpr {
    match d {
        DataExpr::All { offset_ms, .. } => DataExpr::All { query, offset_ms: *offset_ms },
        DataExpr::Aggregate(af) => DataExpr::Aggregate(AggregateFunction { query, ..af.clone() }),
        DataExpr::GroupBy { aggregate, keys } => {
            DataExpr::GroupBy { aggregate: AggregateFunction { query, ..aggregate.clone() }, keys: keys.clone() }
        }
    }
}

/// `first` followed by the keys of `more` it does not already have.
fn merge_keys(first: &[String], more: &[String]) -> Vec<String> {
    let mut keys = first.to_vec();
    keys.extend(more.iter().filter(|k| !first.contains(k)).cloned());
    keys
}

#[cfg(test)]
mod tests {
    use super::super::{Aggregation, BinaryOp};
    use super::*;

    fn sum(name: &str) -> Expr {
        Expr::Data(DataExpr::Aggregate(AggregateFunction::new(Aggregation::Sum, Query::Eq("name".into(), name.into()))))
    }

    #[test]
    fn common_query_reaches_every_query() {
        let e = Expr::binary(BinaryOp::Add, sum("a"), sum("b")).unwrap();
        let common = Query::Eq("nf.app".into(), "x".into());
        assert_eq!(
            e.with_common_query(&common).to_string(),
            "name,a,:eq,nf.app,x,:eq,:and,:sum,name,b,:eq,nf.app,x,:eq,:and,:sum,:add"
        );
    }

    #[test]
    fn offset_and_consolidation_reach_every_aggregate() {
        let e = Expr::binary(BinaryOp::Add, sum("a"), Expr::Constant(1.0)).unwrap();
        assert_eq!(e.with_offset(60_000).to_string(), "name,a,:eq,:sum,1m,:offset,1.0,:const,:add");
        assert_eq!(e.with_consolidation(Consolidation::Max).to_string(), "name,a,:eq,:sum,:cf-max,1.0,:const,:add");
    }

    #[test]
    fn common_keys_group_and_merge() {
        let keys = vec!["nf.region".to_string()];
        let grouped = sum("a").add_common_keys(&keys).unwrap();
        assert_eq!(grouped.to_string(), "name,a,:eq,:sum,(,nf.region,),:by");
        let again = grouped.regroup(&["x".into()]).unwrap().add_common_keys(&["nf.zone".into()]).unwrap();
        assert_eq!(again.to_string(), "name,a,:eq,:sum,(,nf.region,nf.zone,),:by");
        let err = Expr::Aggregate(Aggregation::Max, Box::new(Expr::Constant(1.0))).add_common_keys(&keys).unwrap_err();
        assert!(err.contains("grouped"), "{err}");
    }
}
