//! Axis scales and tick marks: value ranges with "nice" steps, and round time steps.
//!
//! Design decision: the tick count is derived from pixels, not fixed: about one value tick per
//! [`VALUE_TICK_SPACING`] pixels of height and one time label per [`TIME_TICK_SPACING`] pixels of
//! width, so a small graph gets fewer, wider steps and labels never overlap, whatever the size.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::si::format_ticks;

/// Pixels of plot height per value tick, roughly.
pub const VALUE_TICK_SPACING: f64 = 40.0;
/// Pixels of plot width per time label, roughly.
pub const TIME_TICK_SPACING: f64 = 85.0;
/// Most ticks on any axis, whatever the size.
const MAX_TICKS: usize = 100;
/// Fractions outside this range are clamped so pixel coordinates stay finite and modest.
const FRACTION_LIMIT: f64 = 1.0e4;
/// Bounds beyond this magnitude are clamped so the range's width stays finite.
const BOUND_LIMIT: f64 = 1.0e300;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The round time steps, shortest first; past the last, steps are whole "nice" numbers of days.
const TIME_STEPS: [i64; 24] = [
    SECOND,
    2 * SECOND,
    5 * SECOND,
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
    56 * DAY,
];

/// The mapping of one Y axis from values to a 0..1 fraction of the plot height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueScale {
    /// Value at the bottom of the plot.
    pub lower: f64,
    /// Value at the top of the plot; always above `lower`.
    pub upper: f64,
    /// Log10 mapping; `lower` is then positive.
    pub logarithmic: bool,
}

impl ValueScale {
    /// The scale for an axis from its data range (`None` when it has no finite data) and its
    /// explicit bounds; always a usable, non-empty range.
    pub fn new(data: Option<(f64, f64)>, lower: Option<f64>, upper: Option<f64>, logarithmic: bool) -> ValueScale {
        let lower = lower.filter(|v| v.is_finite() && (!logarithmic || *v > 0.0));
        let upper = upper.filter(|v| v.is_finite() && (!logarithmic || *v > 0.0));
        let data = data.filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo <= hi);
        let (data_lo, data_hi) = match data {
            Some((lo, hi)) => (lo.max(-BOUND_LIMIT), hi.min(BOUND_LIMIT)),
            None if logarithmic => (1.0, 10.0),
            None => (0.0, 1.0),
        };
        let mut lo = lower.unwrap_or(data_lo).clamp(-BOUND_LIMIT, BOUND_LIMIT);
        let mut hi = upper.unwrap_or(data_hi).clamp(-BOUND_LIMIT, BOUND_LIMIT);
        if logarithmic {
            if lo <= 0.0 {
                lo = if hi > 0.0 { hi / 10.0 } else { 1.0 };
            }
            if hi <= 0.0 {
                hi = lo * 10.0;
            }
            lo = 10f64.powf(lo.log10().floor()).max(f64::MIN_POSITIVE);
            hi = 10f64.powf(hi.log10().ceil()).min(BOUND_LIMIT);
            if hi <= lo {
                hi = lo * 10.0;
            }
            return ValueScale { lower: lo, upper: hi, logarithmic };
        }
        if hi <= lo {
            // All values equal, or explicit bounds past the data: keep what was asked for fixed.
            let pad = if lo == 0.0 && hi == 0.0 { 1.0 } else { (lo.abs().max(hi.abs()) * 0.5).max(f64::MIN_POSITIVE) };
            match (lower.is_some(), upper.is_some()) {
                (true, false) => hi = lo + pad,
                (false, true) => lo = hi - pad,
                _ => {
                    let mid = lo / 2.0 + hi / 2.0;
                    (lo, hi) = (mid - pad, mid + pad);
                }
            }
        }
        ValueScale { lower: lo, upper: hi, logarithmic }
    }

    /// Where `value` falls, 0 at the bottom and 1 at the top (clamped far outside); `None` for
    /// values that are not drawn (NaN, infinite, or not positive on a log scale).
    pub fn fraction(&self, value: f64) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        let fraction = if self.logarithmic {
            if value <= 0.0 {
                return None;
            }
            (value.log10() - self.lower.log10()) / (self.upper.log10() - self.lower.log10())
        } else {
            (value - self.lower) / (self.upper - self.lower)
        };
        fraction.is_finite().then(|| fraction.clamp(-FRACTION_LIMIT, FRACTION_LIMIT))
    }

    /// The ticks of this scale for a plot `height_px` tall, with their labels.
    pub fn ticks(&self, height_px: f64) -> Vec<Tick> {
        let target = (height_px / VALUE_TICK_SPACING).floor().max(2.0);
        if self.logarithmic {
            return self.log_ticks(target);
        }
        let step = nice_step((self.upper - self.lower) / target);
        if !step.is_finite() || step <= 0.0 {
            return Vec::new();
        }
        let first = (self.lower / step).ceil();
        let values: Vec<f64> =
            (0..MAX_TICKS).map(|i| (first + i as f64) * step).take_while(|v| *v <= self.upper + step * 1e-9).collect();
        let labels = format_ticks(&values, step);
        values.into_iter().zip(labels).map(|(value, label)| Tick { value, label }).collect()
    }

    fn log_ticks(&self, target: f64) -> Vec<Tick> {
        let (first, last) = (self.lower.log10().round() as i32, self.upper.log10().round() as i32);
        let decades = f64::from(last - first).max(1.0);
        let every = (decades / target).ceil().max(1.0) as usize;
        (first..=last)
            .step_by(every)
            .take(MAX_TICKS)
            .map(|power| {
                let value = 10f64.powi(power);
                let label = format_ticks(&[value], value).into_iter().next().unwrap_or_default();
                Tick { value, label }
            })
            .collect()
    }
}

/// One tick on a value axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// The value it marks.
    pub value: f64,
    /// Its text.
    pub label: String,
}

/// The one of 1, 2 or 5 times a power of ten nearest to `raw` (on a log scale); NaN for a raw
/// step that is not a positive finite number.
pub fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return f64::NAN;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let mantissa = raw / magnitude;
    // The geometric midpoints between 1, 2, 5 and 10.
    let nice = if mantissa < std::f64::consts::SQRT_2 {
        1.0
    } else if mantissa < 10f64.sqrt() {
        2.0
    } else if mantissa < 50f64.sqrt() {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `raw` (NaN as [`nice_step`]).
fn nice_step_at_least(raw: f64) -> f64 {
    let nearest = nice_step(raw);
    if nearest >= raw {
        return nearest;
    }
    let magnitude = 10f64.powf(nearest.log10().floor());
    match (nearest / magnitude).round() as i64 {
        1 => 2.0 * magnitude,
        2 => 5.0 * magnitude,
        _ => 10.0 * magnitude,
    }
}

/// One tick on the time axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTick {
    /// The instant it marks, Unix milliseconds.
    pub ms: i64,
    /// Its text in the chart's time zone.
    pub label: String,
}

/// The round step, in milliseconds, for a time axis spanning `range_ms` over `width_px` pixels.
pub fn time_step(range_ms: i64, width_px: f64) -> i64 {
    let max_ticks = (width_px / TIME_TICK_SPACING).floor().max(2.0) as i64;
    if let Some(step) = TIME_STEPS.iter().copied().find(|step| range_ms / step <= max_ticks) {
        return step;
    }
    let days = nice_step_at_least((range_ms as f64 / max_ticks as f64 / DAY as f64).ceil());
    if days.is_finite() { (days as i64).saturating_mul(DAY) } else { range_ms.max(DAY) }
}

/// Ticks at round times between `start_ms` and `end_ms` for a plot `width_px` wide, aligned to
/// the local clock of `tz` (a 6 h step falls on 00:00, 06:00... local time), labelled `HH:MM`,
/// `HH:MM:SS` under a minute, and with the date (`Jan 02`) at midnights when the range spans
/// a day or more.
pub fn time_ticks(start_ms: i64, end_ms: i64, width_px: f64, tz: &TimeZone) -> Vec<TimeTick> {
    let range = end_ms.saturating_sub(start_ms);
    if range <= 0 {
        return Vec::new();
    }
    let step = time_step(range, width_px);
    let offset_ms =
        |ms: i64| Timestamp::from_millisecond(ms).map_or(0, |ts| i64::from(tz.to_offset(ts).seconds()) * SECOND);
    let first_local = start_ms.saturating_add(offset_ms(start_ms));
    let mut local = first_local.div_euclid(step).saturating_add(1).saturating_mul(step);
    if (local - step) >= first_local {
        local -= step;
    }
    let mut ticks: Vec<TimeTick> = Vec::new();
    for _ in 0..MAX_TICKS * 2 {
        // The offset at the tick itself, found by two rounds from the offset at the start.
        let mut utc = local.saturating_sub(offset_ms(start_ms));
        utc = local.saturating_sub(offset_ms(utc));
        utc = local.saturating_sub(offset_ms(utc));
        if utc > end_ms {
            break;
        }
        let after_previous = ticks.last().is_none_or(|last| utc > last.ms);
        // A local time skipped by a daylight-saving jump has no instant of its own: no tick.
        let exists = utc.saturating_add(offset_ms(utc)) == local;
        if utc >= start_ms && after_previous && exists {
            ticks.push(TimeTick { ms: utc, label: time_label(utc, step, range, tz) });
        }
        local = local.saturating_add(step);
    }
    ticks
}

fn time_label(ms: i64, step: i64, range: i64, tz: &TimeZone) -> String {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let zoned = ts.to_zoned_datetime(tz.clone());
    let at_midnight = zoned.hour() == 0 && zoned.minute() == 0 && zoned.second() == 0;
    let format = if step < MINUTE {
        "%H:%M:%S"
    } else if step >= DAY || (range >= DAY && at_midnight) {
        if range > 365 * DAY { "%Y-%m-%d" } else { "%b %d" }
    } else {
        "%H:%M"
    };
    jiff::fmt::strtime::format(format, &zoned).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(ticks: &[Tick]) -> Vec<f64> {
        ticks.iter().map(|t| t.value).collect()
    }

    fn labels(ticks: &[TimeTick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        let cases =
            [(0.7, 0.5), (1.0, 1.0), (1.5, 2.0), (3.0, 2.0), (4.0, 5.0), (8.0, 10.0), (0.013, 0.01), (450.0, 500.0)];
        for (raw, expected) in cases {
            let step = nice_step(raw);
            assert!((step - expected).abs() < expected * 1e-12, "nice_step({raw}) = {step}");
        }
        let at_least = [(0.7, 1.0), (1.0, 1.0), (1.3, 2.0), (3.0, 5.0), (7.0, 10.0), (457.0, 500.0)];
        for (raw, expected) in at_least {
            let step = nice_step_at_least(raw);
            assert!((step - expected).abs() < expected * 1e-12, "nice_step_at_least({raw}) = {step}");
        }
        assert!(nice_step(0.0).is_nan());
        assert!(nice_step(f64::INFINITY).is_nan());
    }

    #[test]
    fn linear_ticks_cover_the_range_at_nice_steps() {
        let scale = ValueScale::new(Some((0.0, 100.0)), None, None, false);
        let ticks = scale.ticks(300.0);
        assert_eq!(values(&ticks), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["0", "20", "40", "60", "80", "100"]);

        let scale = ValueScale::new(Some((1200.0, 4800.0)), None, None, false);
        let labels: Vec<String> = scale.ticks(300.0).into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["1.5k", "2.0k", "2.5k", "3.0k", "3.5k", "4.0k", "4.5k"]);
    }

    #[test]
    fn equal_and_missing_data_still_give_a_range() {
        let constant = ValueScale::new(Some((42.0, 42.0)), None, None, false);
        assert_eq!((constant.lower, constant.upper), (21.0, 63.0));
        let zero = ValueScale::new(Some((0.0, 0.0)), None, None, false);
        assert_eq!((zero.lower, zero.upper), (-1.0, 1.0));
        let empty = ValueScale::new(None, None, None, false);
        assert_eq!((empty.lower, empty.upper), (0.0, 1.0));
        let labels: Vec<String> = empty.ticks(300.0).into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let lower_past_data = ValueScale::new(Some((1.0, 5.0)), Some(10.0), None, false);
        assert_eq!((lower_past_data.lower, lower_past_data.upper), (10.0, 15.0));
    }

    #[test]
    fn log_scale_spans_whole_decades() {
        let scale = ValueScale::new(Some((3.0, 4500.0)), None, None, true);
        assert_eq!((scale.lower, scale.upper), (1.0, 10_000.0));
        let ticks = scale.ticks(300.0);
        assert_eq!(ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["1", "10", "100", "1k", "10k"]);
        assert_eq!(scale.fraction(100.0), Some(0.5));
        assert_eq!(scale.fraction(0.0), None);
        assert_eq!(scale.fraction(-5.0), None);
    }

    #[test]
    fn time_steps_grow_with_the_range() {
        assert_eq!(time_step(3 * HOUR, 700.0), 30 * MINUTE);
        assert_eq!(time_step(10 * MINUTE, 700.0), 2 * MINUTE);
        assert_eq!(time_step(5 * MINUTE, 700.0), MINUTE);
        assert_eq!(time_step(60 * SECOND, 700.0), 10 * SECOND);
        assert_eq!(time_step(DAY, 700.0), 3 * HOUR);
        assert_eq!(time_step(7 * DAY, 700.0), DAY);
        assert_eq!(time_step(3 * HOUR, 200.0), 2 * HOUR);
        assert_eq!(time_step(3650 * DAY, 700.0), 500 * DAY);
    }

    #[test]
    fn time_ticks_are_round_in_the_given_zone() {
        // 2012-01-01T09:00Z minus 3 hours, Atlas's documentation default window.
        let end = 1_325_408_400_000;
        let utc = time_ticks(end - 3 * HOUR, end, 700.0, &TimeZone::UTC);
        assert_eq!(labels(&utc), ["06:00", "06:30", "07:00", "07:30", "08:00", "08:30", "09:00"]);
        let india = TimeZone::fixed(jiff::tz::Offset::from_seconds(19_800).unwrap());
        let local = time_ticks(end - 3 * HOUR, end, 700.0, &india);
        assert_eq!(labels(&local), ["11:30", "12:00", "12:30", "13:00", "13:30", "14:00", "14:30"]);
        let seconds = time_ticks(end - MINUTE, end, 700.0, &TimeZone::UTC);
        assert_eq!(
            labels(&seconds),
            ["08:59:00", "08:59:10", "08:59:20", "08:59:30", "08:59:40", "08:59:50", "09:00:00"]
        );
    }

    #[test]
    fn multi_day_ranges_show_dates_at_midnight() {
        let end = 1_325_376_000_000 + 2 * DAY; // 2012-01-03T00:00Z
        let ticks = time_ticks(end - 2 * DAY, end, 700.0, &TimeZone::UTC);
        assert_eq!(
            labels(&ticks),
            ["Jan 01", "06:00", "12:00", "18:00", "Jan 02", "06:00", "12:00", "18:00", "Jan 03"]
        );
        let week = time_ticks(end - 7 * DAY, end, 700.0, &TimeZone::UTC);
        assert_eq!(labels(&week), ["Dec 27", "Dec 28", "Dec 29", "Dec 30", "Dec 31", "Jan 01", "Jan 02", "Jan 03"]);
    }

    #[test]
    fn daylight_saving_keeps_ticks_on_the_local_hour() {
        let Ok(eastern) = TimeZone::posix("EST5EDT,M3.2.0,M11.1.0") else { panic!("valid POSIX zone") };
        // 2024-03-10T00:00-05:00 to 12:00-04:00: the clocks jump from 02:00 to 03:00.
        let start = 1_710_046_800_000;
        let ticks = time_ticks(start, start + 11 * HOUR, 700.0, &eastern);
        assert_eq!(labels(&ticks), ["00:00", "04:00", "06:00", "08:00", "10:00", "12:00"]);
    }

    proptest! {
        #[test]
        fn ticks_never_panic_and_stay_in_range(
            start in -1_000_000_000_000_000i64..1_000_000_000_000_000,
            range in 1i64..10_000_000_000_000,
            width in 1.0f64..4000.0,
            lo in proptest::num::f64::ANY,
            hi in proptest::num::f64::ANY,
            log: bool,
        ) {
            let ticks = time_ticks(start, start + range, width, &TimeZone::UTC);
            prop_assert!(ticks.len() <= MAX_TICKS * 2);
            prop_assert!(ticks.iter().all(|t| t.ms >= start && t.ms <= start + range));
            let scale = ValueScale::new(Some((lo.min(hi), lo.max(hi))), None, None, log);
            prop_assert!(scale.upper > scale.lower, "{:?}", scale);
            prop_assert!(scale.ticks(width).len() <= MAX_TICKS);
        }
    }
}
