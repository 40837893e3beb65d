//! Numbers as Atlas writes them on axes and in legends: metric (SI) prefixes, short mantissas.
//!
//! Design decision: two formatters with one prefix table. [`format_value`] writes a single value
//! with three significant digits (`1.5k`, `35.7k`, `500m`) for legend statistics; [`format_ticks`]
//! writes a whole axis with one prefix, taken from its largest tick, and as many decimals as the
//! tick step needs, so neighbouring ticks never print the same text (`1.01k`, `1.02k`).

/// The metric prefixes, smallest first, with the power of 1000 each stands for.
const PREFIXES: [(i32, &str); 11] =
    [(-5, "f"), (-4, "p"), (-3, "n"), (-2, "u"), (-1, "m"), (0, ""), (1, "k"), (2, "M"), (3, "G"), (4, "T"), (5, "P")];

/// Most decimals a tick label gets, however small the step.
const MAX_TICK_DECIMALS: usize = 6;

/// The prefix exponent (power of 1000) that brings `magnitude` into 1..1000, clamped to the
/// table; `None` when the value is out of the table's reach and wants scientific notation.
fn prefix_exponent(magnitude: f64) -> Option<i32> {
    if magnitude == 0.0 {
        return Some(0);
    }
    let exponent = (magnitude.log10() / 3.0).floor() as i32;
    let (lowest, highest) = (PREFIXES[0].0, PREFIXES[PREFIXES.len() - 1].0);
    (lowest..=highest).contains(&exponent).then_some(exponent)
}

fn prefix_symbol(exponent: i32) -> &'static str {
    PREFIXES.iter().find(|(e, _)| *e == exponent).map_or("", |(_, symbol)| symbol)
}

fn non_finite(value: f64) -> Option<String> {
    if value.is_nan() {
        Some("NaN".to_owned())
    } else if value.is_infinite() {
        Some(if value > 0.0 { "Inf" } else { "-Inf" }.to_owned())
    } else {
        None
    }
}

/// One value with an SI prefix and three significant digits: `1.5k`, `2.0M`, `35.7k`, `500m`,
/// `0`; `NaN`, `Inf`, `-Inf` for non-finite values and scientific notation past the prefixes.
pub fn format_value(value: f64) -> String {
    if let Some(text) = non_finite(value) {
        return text;
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let Some(mut exponent) = prefix_exponent(value.abs()) else {
        return format!("{value:.1e}");
    };
    let mut scaled = value / 1000f64.powi(exponent);
    // Rounding may carry into the next prefix: 999.96 must become 1.0k, not 1000.
    if format!("{:.0}", scaled.abs()).len() > 3 {
        match prefix_exponent(value.abs() * 1.001) {
            Some(next) if next > exponent => {
                exponent = next;
                scaled = value / 1000f64.powi(exponent);
            }
            _ => return format!("{value:.1e}"),
        }
    }
    let decimals = if scaled.abs() >= 99.95 { 0 } else { 1 };
    format!("{scaled:.decimals$}{}", prefix_symbol(exponent))
}

/// Labels for the ticks of one axis, `step` apart: one prefix for all, from the largest tick,
/// and enough decimals to tell neighbours apart. Zero is always `0`.
pub fn format_ticks(ticks: &[f64], step: f64) -> Vec<String> {
    let largest = ticks.iter().filter(|t| t.is_finite()).fold(0.0f64, |acc, t| acc.max(t.abs()));
    let Some(exponent) = prefix_exponent(largest) else {
        return ticks.iter().map(|t| non_finite(*t).unwrap_or_else(|| format!("{t:.1e}"))).collect();
    };
    let factor = 1000f64.powi(exponent);
    let scaled_step = (step / factor).abs();
    let decimals = if scaled_step.is_finite() && scaled_step > 0.0 {
        (-scaled_step.log10() - 1e-9).ceil().clamp(0.0, MAX_TICK_DECIMALS as f64) as usize
    } else {
        1
    };
    let symbol = prefix_symbol(exponent);
    ticks
        .iter()
        .map(|tick| match non_finite(*tick) {
            Some(text) => text,
            None if tick.abs() < step.abs() * 1e-9 => "0".to_owned(),
            None => format!("{:.decimals$}{symbol}", tick / factor),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_get_prefixes_and_three_digits() {
        let cases = [
            (1500.0, "1.5k"),
            (2.0e6, "2.0M"),
            (0.5, "500m"),
            (35_712.0, "35.7k"),
            (999.96, "1.0k"),
            (999.0, "999"),
            (1.0, "1.0"),
            (42.0, "42.0"),
            (-1500.0, "-1.5k"),
            (0.0012, "1.2m"),
            (3.0e-6, "3.0u"),
            (7.5e-9, "7.5n"),
            (1.0e12, "1.0T"),
            (4.2e9, "4.2G"),
            (0.0, "0"),
            (1.0e21, "1.0e21"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(value), expected, "formatting {value}");
        }
    }

    #[test]
    fn ticks_share_one_prefix_and_enough_decimals() {
        assert_eq!(format_ticks(&[0.0, 500.0, 1000.0, 1500.0], 500.0), ["0", "0.5k", "1.0k", "1.5k"]);
        assert_eq!(format_ticks(&[1000.0, 1010.0, 1020.0], 10.0), ["1.00k", "1.01k", "1.02k"]);
        assert_eq!(format_ticks(&[0.0, 20.0, 40.0, 60.0], 20.0), ["0", "20", "40", "60"]);
        assert_eq!(format_ticks(&[0.0, 0.2, 0.4], 0.2), ["0", "200m", "400m"]);
        assert_eq!(format_ticks(&[2.0e6, 4.0e6], 2.0e6), ["2M", "4M"]);
        assert_eq!(format_ticks(&[0.5, 1.0, 1.5], 0.5), ["0.5", "1.0", "1.5"]);
        assert_eq!(format_ticks(&[-10.0, 0.0, 10.0], 10.0), ["-10", "0", "10"]);
        assert_eq!(format_ticks(&[1.0e20, 2.0e20], 1.0e20), ["1.0e20", "2.0e20"]);
    }

    proptest! {
        #[test]
        fn formatting_never_panics_and_is_short(value in any::<f64>()) {
            let text = format_value(value);
            prop_assert!(text.chars().count() <= 9, "{} became {}", value, text);
        }

        #[test]
        fn neighbouring_ticks_differ(multiple in -10_000i32..10_000, power in -12i32..12, mantissa in 0usize..3) {
            let step = [1.0, 2.0, 5.0][mantissa] * 10f64.powi(power);
            let first = f64::from(multiple) * step;
            let ticks: Vec<f64> = (0..5).map(|i| first + step * i as f64).collect();
            let labels = format_ticks(&ticks, step);
            for pair in labels.windows(2) {
                prop_assert_ne!(&pair[0], &pair[1], "ticks {:?}", ticks);
            }
        }
    }
}
