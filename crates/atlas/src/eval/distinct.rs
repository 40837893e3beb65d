//! Evaluating `:approx-distinct`: the register lines of a distinct-count sketch (see
//! [`crate::expr::register_expr`]) collapse, interval by interval, into one HyperLogLog
//! estimate per group, as Atlas's `MathExpr.ApproxDistinct` computes it with Spectator's
//! `DistinctCountSketch.cardinality`.
//!
//! Per interval, each register line gives its register's value (its largest rank; NaN, zero,
//! negative or infinite count as an unset register); registers without a line are unset. If
//! every register is unset the sketch was absent and the estimate is NaN, not 0. Register ids
//! are `R` and a hexadecimal index; ids outside the 64 registers are dropped, and two lines for
//! one register (`R0A` and `R0a`) are an error, as in Atlas.
//!
//! Design decision: the estimator is the sketch's own formula (the standard HyperLogLog
//! estimate with linear counting for small cardinalities) on 64 registers, kept in one function
//! ([`cardinality`]) so the numbers match what a Spectator client computes locally for the same
//! registers.

use std::collections::BTreeMap;

use super::{Evaluator, TimeSeries, no_data};
use crate::error::Reason;
use crate::expr::{DISTINCT_KEY, Expr, key_string, register_expr};

/// The number of registers of a distinct-count sketch (Spectator's `REGISTERS`).
const REGISTERS: usize = 64;

impl Evaluator<'_> {
    /// `:approx-distinct` of `input`: one estimate line per group of the input's keys.
    pub(crate) fn eval_approx_distinct(&mut self, input: &Expr) -> Result<Vec<TimeSeries>, Reason> {
        let registers = register_expr(input).map_err(Reason::InvalidExpression)?;
        let lines = self.eval(&registers)?;
        if lines.is_empty() {
            return Ok(lines);
        }
        let keys: Vec<String> = registers.grouping().into_iter().filter(|k| k != DISTINCT_KEY).collect();
        let len = self.context.len();
        if keys.is_empty() {
            let query = input.data_exprs().first().map(|d| d.query().label()).unwrap_or_default();
            return Ok(vec![estimate(format!("approx-distinct({query})"), &lines, len)?]);
        }
        let mut groups: BTreeMap<BTreeMap<String, String>, Vec<TimeSeries>> = BTreeMap::new();
        for line in lines {
            let mut tags = line.tags.clone();
            tags.remove(DISTINCT_KEY);
            groups.entry(tags).or_default().push(line);
        }
        groups
            .into_iter()
            .map(|(tags, members)| {
                let label = key_string(&keys, &tags).unwrap_or_default();
                estimate(label, &members, len)
            })
            .collect()
    }
}

/// The estimate line of one group of register lines, labelled `label`; `NO DATA` if no line
/// carries a register id.
fn estimate(label: String, lines: &[TimeSeries], len: usize) -> Result<TimeSeries, Reason> {
    let mut by_register: BTreeMap<usize, Vec<&TimeSeries>> = BTreeMap::new();
    let mut any_register = false;
    for line in lines {
        let Some(id) = line.tags.get(DISTINCT_KEY) else { continue };
        any_register = true;
        let index = register_index(id)?;
        if let Some(index) = usize::try_from(index).ok().filter(|i| *i < REGISTERS) {
            by_register.entry(index).or_default().push(line);
        }
    }
    if !any_register {
        return Ok(no_data(len));
    }
    let mut used: Vec<(usize, &[f64])> = Vec::with_capacity(by_register.len());
    for (index, members) in &by_register {
        match members.as_slice() {
            [one] => used.push((*index, one.values.as_slice())),
            many => {
                let ids: Vec<&str> = many.iter().filter_map(|l| l.tags.get(DISTINCT_KEY)).map(String::as_str).collect();
                return Err(Reason::Evaluation(format!("invalid distinct encoding: [{}]", ids.join(","))));
            }
        }
    }
    let mut ranks = [0.0; REGISTERS];
    let values = (0..len)
        .map(|i| {
            let mut any_set = false;
            for (index, values) in &used {
                let v = values.get(i).copied().unwrap_or(f64::NAN);
                let rank = if v.is_finite() && v > 0.0 { v } else { 0.0 };
                if let Some(slot) = ranks.get_mut(*index) {
                    *slot = rank;
                }
                any_set |= rank > 0.0;
            }
            if any_set { cardinality(&ranks) } else { f64::NAN }
        })
        .collect();
    let mut tags = lines.first().map(|l| l.tags.clone()).unwrap_or_default();
    tags.remove(DISTINCT_KEY);
    Ok(TimeSeries { tags, label, values })
}

/// The register index of an id: the hexadecimal number after its first character (`R3F` is
/// 63).
fn register_index(id: &str) -> Result<i64, Reason> {
    let digits: String = id.chars().skip(1).collect();
    i64::from_str_radix(&digits, 16)
        .map_err(|_| Reason::Evaluation(format!("invalid distinct register id '{id}', expected R and a hex index")))
}

/// The HyperLogLog estimate of the number of distinct values from per-register ranks (0 for an
/// unset register): `alpha * m^2 / sum(2^-rank)`, or linear counting `m * ln(m / zeros)` when
/// that is at most `2.5 m` and some register is unset.
pub(crate) fn cardinality(ranks: &[f64]) -> f64 {
    let m = ranks.len() as f64;
    if ranks.is_empty() {
        return 0.0;
    }
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = ranks.iter().map(|r| 2f64.powf(-r)).sum();
    let zeros = ranks.iter().filter(|r| **r == 0.0).count();
    let estimate = alpha * m * m / sum;
    if estimate <= 2.5 * m && zeros != 0 { m * (m / zeros as f64).ln() } else { estimate }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinality_uses_linear_counting_while_registers_are_empty() {
        let mut ranks = [0.0; REGISTERS];
        assert!((cardinality(&ranks) - 0.0).abs() < 1e-12, "64 * ln(64/64) = 0");
        ranks[3] = 5.0;
        assert!((cardinality(&ranks) - 64.0 * (64.0f64 / 63.0).ln()).abs() < 1e-9);
        let full = [6.0; REGISTERS];
        let alpha = 0.7213 / (1.0 + 1.079 / 64.0);
        assert!((cardinality(&full) - alpha * 64.0 * 64.0 / (64.0 * 2f64.powi(-6))).abs() < 1e-6);
        assert_eq!(cardinality(&[]), 0.0);
    }

    #[test]
    fn register_ids_are_hex_after_the_first_character() {
        assert_eq!(register_index("R3F").unwrap(), 63);
        assert_eq!(register_index("R0a").unwrap(), 10);
        assert_eq!(register_index("R40").unwrap(), 64);
        assert!(register_index("R").is_err());
        assert!(register_index("Rxyz").is_err());
    }
}
