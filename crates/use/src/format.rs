//! How values and limits are written: one place for units, shared by the table, the flag
//! summary and the `--help` checklist.
//!
//! Design decision: values carry one decimal (two for a queue size) so a column of them aligns
//! and 0.1 of a rate stays visible; limits are written as short as they are declared (`90%`, not
//! `90.0%`).

use plumb_model::Unit;

/// The suffix written after a number of `unit`.
pub fn suffix(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "%",
        Unit::PerSecond => "/s",
        Unit::KilobytesPerSecond => "kB/s",
        Unit::Bytes => "B",
        Unit::Milliseconds => "ms",
        Unit::Count | Unit::Number => "",
    }
}

/// A measured value with its unit, e.g. `99.5%`, `12.0/s`, `3`, `0.25`.
pub fn value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count | Unit::Bytes => format!("{v:.0}{}", suffix(unit)),
        Unit::Number => format!("{v:.2}"),
        _ => format!("{v:.1}{}", suffix(unit)),
    }
}

/// A threshold's limit with its unit, as short as possible, e.g. `90%`, `0/s`, `1`.
pub fn limit(v: f64, unit: Unit) -> String {
    format!("{v}{}", suffix(unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_limits() {
        assert_eq!(value(99.54, Unit::Percent), "99.5%");
        assert_eq!(value(3.0, Unit::Count), "3");
        assert_eq!(value(0.034, Unit::Number), "0.03");
        assert_eq!(value(12.0, Unit::PerSecond), "12.0/s");
        assert_eq!(limit(90.0, Unit::Percent), "90%");
        assert_eq!(limit(0.0, Unit::PerSecond), "0/s");
        assert_eq!(limit(1.0, Unit::Number), "1");
    }
}
