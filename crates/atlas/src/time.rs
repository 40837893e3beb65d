//! Numbers, durations and dates as the stack language writes them: `200e3`, `1w`, `PT1H`,
//! `e-30m`, `2014-02-20T13:00`, and the calendar fields `:time` reads from a timestamp.
//!
//! Design decision: the few calendar rules needed (days from a civil date and back, day of week
//! and of year, all in UTC) are written out here instead of pulling in a time-zone library, so
//! the crate stays free of I/O (a zone database is read from disk); a date with an explicit UTC
//! offset is honoured, named zones other than UTC are refused with a clear error.

/// Milliseconds in one second, minute, hour, day and week.
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Parses a number as Atlas (Java's `Double.parseDouble`) reads one: decimal and exponent forms,
/// `NaN`, `Infinity` and `-Infinity`; Rust-only spellings such as `inf` or `nan` are refused.
pub fn parse_double(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned {
        "NaN" | "Infinity" => text.replace("Infinity", "inf").parse().ok(),
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') => text.parse().ok(),
        _ => None,
    }
}

/// Writes a number as Java's `Double.toString` does, so `42` renders as `42.0`, `1e-5` as
/// `1.0E-5` and infinity as `Infinity`: the text Atlas shows for constants.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let magnitude = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = v.to_string();
        return if text.contains('.') { text } else { format!("{text}.0") };
    }
    let text = format!("{v:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exponent}")
}

/// Parses a duration in milliseconds: `<n><unit>` (`5m`, `1w`, `30s`, `500ms`, `1h`, `1d`,
/// `2months` of 30 days, `1y` of 365 days) or ISO-8601 (`PT1H`, `P1DT6H5M`, `PT0.5S`).
pub fn parse_duration(text: &str) -> Option<i64> {
    if let Some(iso) = text.strip_prefix('P') {
        return parse_iso_duration(iso);
    }
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (amount, unit) = text.split_at(split);
    let amount: i64 = amount.parse().ok()?;
    let unit_ms = match unit {
        "ns" | "us" | "μs" => return Some(0),
        "ms" => 1,
        "seconds" | "second" | "s" => SECOND,
        "minutes" | "minute" | "min" | "m" => MINUTE,
        "hours" | "hour" | "h" => HOUR,
        "days" | "day" | "d" => DAY,
        "weeks" | "week" | "wk" | "w" => WEEK,
        "months" | "month" => 30 * DAY,
        "years" | "year" | "y" => 365 * DAY,
        _ => return None,
    };
    amount.checked_mul(unit_ms)
}

/// The part of an ISO-8601 duration after `P`: `[nD][T[nH][nM][n[.f]S]]`, optionally negative
/// per field as Java accepts.
fn parse_iso_duration(text: &str) -> Option<i64> {
    let (days, time) = match text.split_once('T') {
        Some((days, time)) => (days, Some(time)),
        None => (text, None),
    };
    let mut total: i64 = 0;
    if !days.is_empty() {
        let count: i64 = days.strip_suffix('D')?.parse().ok()?;
        total = total.checked_add(count.checked_mul(DAY)?)?;
    }
    let Some(mut rest) = time else { return (!days.is_empty()).then_some(total) };
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let end = rest.find(['H', 'M', 'S'])?;
        let (number, unit) = (rest.get(..end)?, rest.get(end..end + 1)?);
        let unit_ms = match unit {
            "H" => HOUR,
            "M" => MINUTE,
            _ => SECOND,
        };
        let amount: f64 = number.parse().ok().filter(|_| !number.is_empty() && !number.contains(['e', 'E']))?;
        let ms = amount * unit_ms as f64;
        if !ms.is_finite() || ms.abs() > 9.0e18 {
            return None;
        }
        total = total.checked_add(ms.round() as i64)?;
        rest = rest.get(end + 1..)?;
    }
    Some(total)
}

/// Writes a duration as Atlas does: in the largest unit that divides it (`1w`, `3d`, `2h`,
/// `5m`, `30s`), else in milliseconds (`1500ms`).
pub fn format_duration(ms: i64) -> String {
    for (unit, suffix) in [(WEEK, "w"), (DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (SECOND, "s")] {
        if ms != 0 && ms % unit == 0 {
            return format!("{}{suffix}", ms / unit);
        }
    }
    format!("{ms}ms")
}

/// A calendar field or count that `:time` extracts from each timestamp, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// Milliseconds within the second.
    MilliOfSecond,
    /// Seconds within the minute.
    SecondOfMinute,
    /// Seconds since midnight.
    SecondOfDay,
    /// Minutes within the hour.
    MinuteOfHour,
    /// Minutes since midnight.
    MinuteOfDay,
    /// Hour within the day, 0-23.
    HourOfDay,
    /// Day of the week, Monday 1 to Sunday 7.
    DayOfWeek,
    /// Day of the month, from 1.
    DayOfMonth,
    /// Day of the year, from 1.
    DayOfYear,
    /// Month of the year, 1-12.
    MonthOfYear,
    /// The year (Atlas maps `yearOfCentury` here too).
    Year,
    /// Days since 1970-01-01.
    EpochDay,
    /// Fractional time since the epoch in units of this many milliseconds (`seconds`, ...).
    SinceEpoch(i64),
}

impl TimeField {
    /// The field for a `:time` mode: Atlas's camel-case names (`hourOfDay`, `seconds`) or Java's
    /// `ChronoField` names (`HOUR_OF_DAY`).
    pub fn parse(mode: &str) -> Option<TimeField> {
        Some(match mode {
            "MILLI_OF_SECOND" => TimeField::MilliOfSecond,
            "secondOfMinute" | "SECOND_OF_MINUTE" => TimeField::SecondOfMinute,
            "secondOfDay" | "SECOND_OF_DAY" => TimeField::SecondOfDay,
            "minuteOfHour" | "MINUTE_OF_HOUR" => TimeField::MinuteOfHour,
            "minuteOfDay" | "MINUTE_OF_DAY" => TimeField::MinuteOfDay,
            "hourOfDay" | "HOUR_OF_DAY" => TimeField::HourOfDay,
            "dayOfWeek" | "DAY_OF_WEEK" => TimeField::DayOfWeek,
            "dayOfMonth" | "DAY_OF_MONTH" => TimeField::DayOfMonth,
            "dayOfYear" | "DAY_OF_YEAR" => TimeField::DayOfYear,
            "monthOfYear" | "MONTH_OF_YEAR" => TimeField::MonthOfYear,
            "yearOfCentury" | "yearOfEra" | "YEAR" | "YEAR_OF_ERA" => TimeField::Year,
            "EPOCH_DAY" => TimeField::EpochDay,
            "seconds" => TimeField::SinceEpoch(SECOND),
            "minutes" => TimeField::SinceEpoch(MINUTE),
            "hours" => TimeField::SinceEpoch(HOUR),
            "days" => TimeField::SinceEpoch(DAY),
            "weeks" => TimeField::SinceEpoch(WEEK),
            _ => return None,
        })
    }

    /// The field's value at `t` (milliseconds since the epoch, UTC).
    pub fn value(self, t: i64) -> f64 {
        let day = t.div_euclid(DAY);
        let in_day = t.rem_euclid(DAY);
        let (year, month, day_of_month) = civil_from_days(day);
        match self {
            TimeField::MilliOfSecond => (in_day % SECOND) as f64,
            TimeField::SecondOfMinute => (in_day / SECOND % 60) as f64,
            TimeField::SecondOfDay => (in_day / SECOND) as f64,
            TimeField::MinuteOfHour => (in_day / MINUTE % 60) as f64,
            TimeField::MinuteOfDay => (in_day / MINUTE) as f64,
            TimeField::HourOfDay => (in_day / HOUR) as f64,
            // 1970-01-01 was a Thursday (4).
            TimeField::DayOfWeek => ((day + 3).rem_euclid(7) + 1) as f64,
            TimeField::DayOfMonth => day_of_month as f64,
            TimeField::DayOfYear => (day - days_from_civil(year, 1, 1) + 1) as f64,
            TimeField::MonthOfYear => month as f64,
            TimeField::Year => year as f64,
            TimeField::EpochDay => day as f64,
            TimeField::SinceEpoch(unit) => t as f64 / unit as f64,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Reference points a date may be relative to, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateRefs {
    /// `gs`: the graph's start.
    pub graph_start: Option<i64>,
    /// `ge`: the graph's end.
    pub graph_end: Option<i64>,
    /// `s`: the start of the span being parsed.
    pub start: Option<i64>,
    /// `e`: the end of the span being parsed.
    pub end: Option<i64>,
    /// `now`: the current time.
    pub now: i64,
}

/// The reference point a date names (`e` in `e-30m`, `gs` in `gs`), if it is relative.
pub fn reference_point(text: &str) -> Option<&str> {
    let name_end = text.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let relative =
        rest.is_empty() || rest.starts_with(['+', '-']) && rest.get(1..).is_some_and(|d| !d.contains(['+', '-']));
    (!name.is_empty() && relative).then_some(name)
}

/// Parses a date in milliseconds since the epoch: `<ref>[+-]<duration>` with `gs`, `ge`, `s`,
/// `e`, `now` or `epoch` as reference, epoch seconds or milliseconds (told apart by magnitude,
/// as Atlas does), or ISO-8601 (`2014-02-20`, `2014-02-20T13:00[:SS[.mmm]]`, optionally with
/// `Z` or a `+HH:MM` offset; without one the time is UTC).
pub fn parse_date(text: &str, refs: &DateRefs) -> Result<i64, String> {
    if let Some(name) = reference_point(text) {
        let base = match name {
            "gs" => refs.graph_start,
            "ge" => refs.graph_end,
            "s" => refs.start,
            "e" => refs.end,
            "now" => Some(refs.now),
            "epoch" => Some(0),
            _ => None,
        }
        .ok_or_else(|| format!("unknown reference point {name:?} in date {text:?}"))?;
        return offset_date(base, text.get(name.len()..).unwrap_or(""), text);
    }
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, rest) = text.split_at(digits);
    let epoch_form = rest.is_empty()
        || rest.starts_with(['+', '-']) && rest.get(1..).is_some_and(|d| !d.is_empty() && !d.contains(['+', '-']));
    if digits > 0 && epoch_form {
        let v: i64 = number.parse().map_err(|_| format!("invalid date {text:?}"))?;
        let base = if v <= i64::from(i32::MAX) { v.saturating_mul(SECOND) } else { v };
        return offset_date(base, rest, text);
    }
    parse_iso_date(text).ok_or_else(|| format!("invalid date {text:?}"))
}

/// Applies `[+-]<duration>` (or nothing) to `base`.
fn offset_date(base: i64, offset: &str, text: &str) -> Result<i64, String> {
    if offset.is_empty() {
        return Ok(base);
    }
    let (sign, duration) = offset.split_at_checked(1).ok_or_else(|| format!("invalid date {text:?}"))?;
    let ms = parse_duration(duration).ok_or_else(|| format!("invalid duration in date {text:?}"))?;
    let shifted = if sign == "-" { base.checked_sub(ms) } else { base.checked_add(ms) };
    shifted.ok_or_else(|| format!("date {text:?} is out of range"))
}

/// ISO-8601 date or date-time, UTC unless an offset is given.
fn parse_iso_date(text: &str) -> Option<i64> {
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    let year = number(text.get(0..4)?, 4)?;
    let month = number(text.get(5..7)?, 2)?;
    let day = number(text.get(8..10)?, 2)?;
    if text.get(4..5)? != "-" || text.get(7..8)? != "-" || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY;
    let mut rest = text.get(10..)?;
    if let Some(time) = rest.strip_prefix('T') {
        let hour = number(time.get(0..2)?, 2)?;
        let minute = number(time.get(3..5)?, 2)?;
        if time.get(2..3)? != ":" || hour > 23 || minute > 59 {
            return None;
        }
        ms += hour * HOUR + minute * MINUTE;
        rest = time.get(5..)?;
        if let Some(seconds) = rest.strip_prefix(':') {
            let second = number(seconds.get(0..2)?, 2)?;
            if second > 59 {
                return None;
            }
            ms += second * SECOND;
            rest = seconds.get(2..)?;
            if let Some(millis) = rest.strip_prefix('.') {
                ms += number(millis.get(0..3)?, 3)?;
                rest = millis.get(3..)?;
            }
        }
    }
    Some(ms - parse_zone_offset(rest)?)
}

/// `""` or `Z` (UTC), `+HH`, `+HH:MM`, `+HHMM`, `+HH:MM:SS`: the offset in milliseconds.
fn parse_zone_offset(text: &str) -> Option<i64> {
    if text.is_empty() || text == "Z" {
        return Some(0);
    }
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6].contains(&digits.len()) {
        return None;
    }
    let part = |range: std::ops::Range<usize>| digits.get(range).map_or(Some(0), |s| s.parse::<i64>().ok());
    let offset = part(0..2)? * HOUR + part(2..4)? * MINUTE + part(4..6)? * SECOND;
    Some(sign * offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_and_print_as_in_java() {
        assert_eq!(parse_double("200e3"), Some(200_000.0));
        assert_eq!(parse_double("-64"), Some(-64.0));
        assert_eq!(parse_double("Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_double("NaN").is_some_and(f64::is_nan));
        for bad in ["inf", "nan", "abc", "", "1,2", "infinity"] {
            assert_eq!(parse_double(bad), None, "{bad}");
        }
        assert_eq!(format_double(42.0), "42.0");
        assert_eq!(format_double(0.5), "0.5");
        assert_eq!(format_double(-64.0), "-64.0");
        assert_eq!(format_double(2e7), "2.0E7");
        assert_eq!(format_double(1.5e-5), "1.5E-5");
        assert_eq!(format_double(f64::NAN), "NaN");
        assert_eq!(format_double(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn durations_parse_in_both_notations_and_print_in_the_largest_unit() {
        assert_eq!(parse_duration("1w"), Some(WEEK));
        assert_eq!(parse_duration("5m"), Some(5 * MINUTE));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("PT1H"), Some(HOUR));
        assert_eq!(parse_duration("P2DT6H5M"), Some(2 * DAY + 6 * HOUR + 5 * MINUTE));
        assert_eq!(parse_duration("PT0.5S"), Some(500));
        for bad in ["", "m", "5x", "P", "PT", "P1H", "PTxS", "99999999999999999999w"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(WEEK), "1w");
        assert_eq!(format_duration(2 * HOUR), "2h");
        assert_eq!(format_duration(90 * SECOND), "90s");
        assert_eq!(format_duration(1500), "1500ms");
    }

    #[test]
    fn calendar_fields_in_utc() {
        // 2014-02-20T13:07:09.250Z, a Thursday, day 51 of the year.
        let t = 1_392_901_629_250;
        assert_eq!(TimeField::HourOfDay.value(t), 13.0);
        assert_eq!(TimeField::MinuteOfHour.value(t), 7.0);
        assert_eq!(TimeField::SecondOfMinute.value(t), 9.0);
        assert_eq!(TimeField::MilliOfSecond.value(t), 250.0);
        assert_eq!(TimeField::DayOfWeek.value(t), 4.0);
        assert_eq!(TimeField::DayOfMonth.value(t), 20.0);
        assert_eq!(TimeField::DayOfYear.value(t), 51.0);
        assert_eq!(TimeField::MonthOfYear.value(t), 2.0);
        assert_eq!(TimeField::Year.value(t), 2014.0);
        assert_eq!(TimeField::SinceEpoch(HOUR).value(3 * HOUR / 2), 1.5);
        assert_eq!(TimeField::DayOfWeek.value(-1), 3.0, "1969-12-31 was a Wednesday");
        assert_eq!(TimeField::parse("HOUR_OF_DAY"), TimeField::parse("hourOfDay"));
        assert_eq!(TimeField::parse("fortnights"), None);
    }

    #[test]
    fn dates_parse_relative_epoch_and_iso() {
        let refs = DateRefs { graph_start: Some(1000 * HOUR), graph_end: Some(1010 * HOUR), ..DateRefs::default() };
        assert_eq!(parse_date("ge", &refs), Ok(1010 * HOUR));
        assert_eq!(parse_date("gs+30m", &refs), Ok(1000 * HOUR + 30 * MINUTE));
        assert_eq!(parse_date("epoch+1d", &refs), Ok(DAY));
        assert!(parse_date("e-30m", &refs).is_err(), "no end reference given");
        assert_eq!(parse_date("2014-02-20T13:00", &refs), Ok(1_392_901_200_000));
        assert_eq!(parse_date("2014-02-20T14:00+01:00", &refs), Ok(1_392_901_200_000));
        assert_eq!(parse_date("2014-02-20", &refs), Ok(1_392_854_400_000));
        assert_eq!(parse_date("1392901200", &refs), Ok(1_392_901_200_000));
        assert_eq!(parse_date("1392901200000", &refs), Ok(1_392_901_200_000));
        for bad in ["2014-13-01", "2014-02-20T25:00", "yesterday", "1-2-3", "2014-02-20X"] {
            assert!(parse_date(bad, &refs).is_err(), "{bad}");
        }
        assert_eq!(reference_point("e-30m"), Some("e"));
        assert_eq!(reference_point("2014-02-20T13:00"), None);
    }
}
