//! `:approx-distinct`: the number of distinct values recorded into a distinct-count sketch,
//! estimated from the sketch's registers as Atlas's `MathExpr.ApproxDistinct` does.
//!
//! A sketch (Spectator's `DistinctCountSketch`) is published as 64 max-gauges, one per
//! HyperLogLog register, tagged `statistic=distinct` and `distinct=R00` ... `R3F`; each holds
//! the largest rank seen for its register. They are plain series, so plumb stores them as it
//! stores any gauge. Registers merge across sources and time by taking the maximum, so the
//! input's data expressions are evaluated as `:max` grouped by `distinct` first (then by the
//! input's own keys): the *register expression*. Wrappers are kept, so
//! `q,:cumulative-max,:approx-distinct` takes the running maximum per register before
//! estimating, which is what `:approx-distinct-cumulative` does.
//!
//! Design decision: [`Expr::ApproxDistinct`] keeps the input as written and derives the register
//! expression when asked ([`register_expr`]), so the expression prints back as
//! `<input>,:approx-distinct`, and `:offset`, `:cq` or a later `:by` rewrite the input and reach
//! the registers through it. Its data expressions, for plumb's uses (offsets and the exact tags
//! of queries), are the input's: the same queries and offsets as the registers'.

use super::{AggregateFunction, Aggregation, DataExpr, Expr};

/// The tag key holding a sketch register's id (`R00` ... `R3F`).
pub const DISTINCT_KEY: &str = "distinct";

impl Expr {
    /// `:approx-distinct` of `input`: refused if the input reads no data, reads `:all` data,
    /// or does not end up grouped by the register key (a math aggregate over its groups).
    pub fn approx_distinct(input: Expr) -> Result<Expr, String> {
        let data = input.data_exprs();
        if data.is_empty() || data.iter().any(|d| matches!(d, DataExpr::All { .. })) {
            return Err(":approx-distinct needs aggregates of stored data, not :all or constants".into());
        }
        register_expr(&input)?;
        Ok(Expr::ApproxDistinct(Box::new(input)))
    }
}

/// The register expression of `input`: every aggregate becomes a `:max` grouped by the
/// register key first, then by its own keys; fails if the result is not grouped by it.
pub fn register_expr(input: &Expr) -> Result<Expr, String> {
    let registers = to_registers(input)?;
    if !registers.grouping().iter().any(|k| k == DISTINCT_KEY) {
        return Err(format!("input must have an aggregate that can be grouped by '{DISTINCT_KEY}'"));
    }
    Ok(registers)
}

/// The keys `:approx-distinct` of `input` is grouped by: the register expression's, the
/// register key left out.
pub(super) fn grouping(input: &Expr) -> Vec<String> {
    let keys = to_registers(input).map_or_else(|_| input.grouping(), |r| r.grouping());
    keys.into_iter().filter(|k| k != DISTINCT_KEY).collect()
}

fn to_registers(expr: &Expr) -> Result<Expr, String> {
    match expr {
        Expr::Data(d) => Ok(Expr::Data(register_data(d))),
        other => other.map_children(&mut to_registers),
    }
}

fn register_data(data: &DataExpr) -> DataExpr {
    let max = |af: &AggregateFunction| AggregateFunction {
        offset_ms: af.offset_ms,
        ..AggregateFunction::new(Aggregation::Max, af.query.clone())
    };
    match data {
        DataExpr::Aggregate(af) => DataExpr::GroupBy { aggregate: max(af), keys: vec![DISTINCT_KEY.to_string()] },
        DataExpr::GroupBy { aggregate, keys } => {
            let mut register_keys = vec![DISTINCT_KEY.to_string()];
            register_keys.extend(keys.iter().filter(|k| *k != DISTINCT_KEY).cloned());
            DataExpr::GroupBy { aggregate: max(aggregate), keys: register_keys }
        }
        all @ DataExpr::All { .. } => all.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{BinaryOp, StatefulOp};
    use crate::query::Query;

    fn sum(keys: &[&str]) -> Expr {
        let af = AggregateFunction::new(Aggregation::Sum, Query::Eq("name".into(), "u".into()));
        if keys.is_empty() {
            Expr::Data(DataExpr::Aggregate(af))
        } else {
            Expr::Data(DataExpr::GroupBy { aggregate: af, keys: keys.iter().map(|k| k.to_string()).collect() })
        }
    }

    #[test]
    fn registers_are_maxima_grouped_by_the_register_key_first() {
        let e = Expr::approx_distinct(sum(&[])).unwrap();
        assert_eq!(e.to_string(), "name,u,:eq,:sum,:approx-distinct");
        assert!(!e.is_grouped());
        let Expr::ApproxDistinct(input) = &e else { panic!("{e:?}") };
        assert_eq!(register_expr(input).unwrap().to_string(), "name,u,:eq,:max,(,distinct,),:by");

        let grouped = Expr::approx_distinct(sum(&["nf.region"])).unwrap();
        assert_eq!(grouped.grouping(), ["nf.region"]);
        let Expr::ApproxDistinct(input) = &grouped else { panic!() };
        assert_eq!(register_expr(input).unwrap().to_string(), "name,u,:eq,:max,(,distinct,nf.region,),:by");
    }

    #[test]
    fn wrappers_are_kept_and_offsets_reach_the_registers() {
        let running = Expr::Stateful { expr: Box::new(sum(&[]).with_offset(3_600_000)), op: StatefulOp::CumulativeMax };
        let e = Expr::approx_distinct(running.clone()).unwrap();
        assert_eq!(e.to_string(), "name,u,:eq,:sum,1h,:offset,:cumulative-max,:approx-distinct");
        assert_eq!(
            register_expr(&running).unwrap().to_string(),
            "name,u,:eq,:max,(,distinct,),:by,1h,:offset,:cumulative-max"
        );
    }

    #[test]
    fn inputs_without_registers_are_refused() {
        assert!(Expr::approx_distinct(Expr::Constant(1.0)).is_err());
        let all = Expr::Data(DataExpr::All { query: Query::Eq("name".into(), "u".into()), offset_ms: 0 });
        assert!(Expr::approx_distinct(all).is_err());
        let collapsed = Expr::Aggregate(Aggregation::Max, Box::new(sum(&["a"])));
        let err = Expr::approx_distinct(collapsed).unwrap_err();
        assert!(err.contains("grouped by 'distinct'"), "{err}");
        let scaled = Expr::binary(BinaryOp::Mul, sum(&[]), Expr::Constant(2.0)).unwrap();
        assert!(Expr::approx_distinct(scaled).is_ok(), "math on the registers keeps their grouping");
    }
}
