//! The graph API's time parameters: `s`, `e`, `tz` and `step`, parsed as Atlas parses them.
//!
//! A time is epoch seconds or milliseconds (told apart by magnitude, as Atlas does), `now`,
//! `epoch`, `s` or `e` optionally shifted by durations (`e-3h`, `now-1d`, `s+1h30m`), or ISO-8601
//! (`2014-02-20`, `2014-02-20T13:00[:SS]`, with or without `Z`/`+HH:MM`); a date without a zone
//! is read in `tz`. Design decision: zones come from jiff's bundled copy of the IANA database
//! (`TimeZoneDatabase::bundled`), never from the host, so a graph reads the same on every
//! machine; fixed offsets (`+02:00`) are accepted as zones too.

use std::str::FromStr;

use jiff::tz::{TimeZone, TimeZoneDatabase};

/// Range of a graph when `s` is not given: `e-3h`.
pub const DEFAULT_RANGE_MS: i64 = 3 * 3_600_000;

/// The steps a graph's default step is chosen from, smallest first; past the last, whole days.
const STEPS_MS: [i64; 11] =
    [60_000, 300_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, DAY];

const DAY: i64 = 86_400_000;

/// The zone named by `tz`: `UTC`, an IANA name from the bundled database, or a fixed offset.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    if name.eq_ignore_ascii_case("UTC") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    if name.starts_with(['+', '-']) {
        return parse_offset(name).map(TimeZone::fixed).ok_or_else(|| format!("invalid zone offset {name:?}"));
    }
    TimeZoneDatabase::bundled().get(name).map_err(|_| format!("unknown time zone {name:?}"))
}

/// `+HH`, `+HH:MM` or `+HHMM` (or `-`) as an offset.
fn parse_offset(text: &str) -> Option<jiff::tz::Offset> {
    let (sign, rest) = text.split_at_checked(1)?;
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![2, 4].contains(&digits.len()) {
        return None;
    }
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..).filter(|m| !m.is_empty()).map_or(Some(0), |m| m.parse().ok())?;
    let seconds = (hours * 60 + minutes) * 60 * if sign == "-" { -1 } else { 1 };
    jiff::tz::Offset::from_seconds(seconds).ok()
}

/// A duration in milliseconds: one Atlas duration (`5m`, `1h`, `PT1H`, `2d`, `1w`) or several
/// joined (`1h30m`).
pub fn parse_duration(text: &str) -> Option<i64> {
    if let Some(ms) = plumb_atlas::parse_duration(text) {
        return Some(ms);
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let unit_len = rest.get(digits..)?.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len() - digits);
        let (part, tail) = rest.split_at(digits + unit_len);
        if digits == 0 {
            return None;
        }
        total = total.checked_add(plumb_atlas::parse_duration(part)?)?;
        rest = tail;
    }
    (!text.is_empty()).then_some(total)
}

/// What a relative time may refer to.
#[derive(Debug, Clone, Copy)]
pub struct Refs {
    /// `now`, epoch milliseconds.
    pub now: i64,
    /// `s`, when already known.
    pub start: Option<i64>,
    /// `e`, when already known.
    pub end: Option<i64>,
}

/// Parses one time parameter to epoch milliseconds.
pub fn parse_time(text: &str, refs: Refs, zone: &TimeZone) -> Result<i64, String> {
    let name_end = text.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(text.len());
    let (name, offset) = text.split_at(name_end);
    if !name.is_empty() && (offset.is_empty() || offset.starts_with(['+', '-'])) {
        let base = match name {
            "now" => Some(refs.now),
            "epoch" => Some(0),
            "s" => refs.start,
            "e" => refs.end,
            _ => return Err(format!("unknown reference {name:?} in time {text:?}")),
        }
        .ok_or_else(|| format!("time {text:?} refers to {name:?}, which refers back to it"))?;
        return shift(base, offset, text);
    }
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let iso_date = digits == 4 && text.get(4..5) == Some("-");
    let epoch_form = digits == text.len() || text.get(digits..).is_some_and(|r| r.starts_with(['+', '-']));
    if digits > 0 && epoch_form && !iso_date {
        let (number, offset) = text.split_at(digits);
        let v: i64 = number.parse().map_err(|_| format!("invalid time {text:?}"))?;
        let base = if v <= i64::from(i32::MAX) { v.saturating_mul(1000) } else { v };
        return shift(base, offset, text);
    }
    parse_iso(text, zone).ok_or_else(|| format!("invalid time {text:?}"))
}

/// `base` moved by `[+-]DURATION`, or unchanged for an empty offset.
fn shift(base: i64, offset: &str, text: &str) -> Result<i64, String> {
    if offset.is_empty() {
        return Ok(base);
    }
    let (sign, duration) = offset.split_at_checked(1).ok_or_else(|| format!("invalid time {text:?}"))?;
    let ms = parse_duration(duration).ok_or_else(|| format!("invalid duration {duration:?} in time {text:?}"))?;
    let moved = if sign == "-" { base.checked_sub(ms) } else { base.checked_add(ms) };
    moved.ok_or_else(|| format!("time {text:?} is out of range"))
}

/// ISO-8601 with a zone or offset, else a civil date-time or date in `zone`.
fn parse_iso(text: &str, zone: &TimeZone) -> Option<i64> {
    if let Ok(ts) = jiff::Timestamp::from_str(text) {
        return Some(ts.as_millisecond());
    }
    if let Ok(dt) = jiff::civil::DateTime::from_str(text) {
        return zone.to_timestamp(dt).ok().map(|t| t.as_millisecond());
    }
    let date = jiff::civil::Date::from_str(text).ok()?;
    zone.to_timestamp(date.to_datetime(jiff::civil::Time::midnight())).ok().map(|t| t.as_millisecond())
}

/// The `(start, end)` of a graph from its `s` and `e` parameters (defaults `e-3h` and `now`);
/// either may refer to the other, not both.
pub fn parse_range(s: Option<&str>, e: Option<&str>, now: i64, zone: &TimeZone) -> Result<(i64, i64), String> {
    let refs = Refs { now, start: None, end: None };
    let end_refers_to_start = e.is_some_and(|e| e == "s" || e.starts_with("s+") || e.starts_with("s-"));
    let (start, end) = if end_refers_to_start {
        let start = parse_time(s.unwrap_or("e-3h"), refs, zone)?;
        (start, parse_time(e.unwrap_or("now"), Refs { start: Some(start), ..refs }, zone)?)
    } else {
        let end = parse_time(e.unwrap_or("now"), refs, zone)?;
        let start = match s {
            Some(s) => parse_time(s, Refs { end: Some(end), ..refs }, zone)?,
            None => end.checked_sub(DEFAULT_RANGE_MS).ok_or("start is out of range")?,
        };
        (start, end)
    };
    if start >= end {
        return Err(format!("start {start} is not before end {end}"));
    }
    Ok((start, end))
}

/// The default step for `range_ms` drawn `width` pixels wide: the smallest of 1m, 5m, 10m, 20m,
/// 30m, 1h, 2h, 3h, 6h, 12h, 1d (then whole days) giving at most one datapoint per pixel.
pub fn default_step(range_ms: i64, width: u32) -> i64 {
    let width = i64::from(width.max(1));
    let wanted = range_ms.saturating_add(width - 1) / width;
    STEPS_MS.into_iter().find(|&s| s >= wanted).unwrap_or_else(|| wanted.saturating_add(DAY - 1) / DAY * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_392_901_200_000; // 2014-02-20T13:00Z

    fn utc(text: &str) -> Result<i64, String> {
        parse_time(text, Refs { now: NOW, start: None, end: Some(NOW - 60_000) }, &TimeZone::UTC)
    }

    #[test]
    fn durations_single_and_combined() {
        assert_eq!(parse_duration("5m"), Some(300_000));
        assert_eq!(parse_duration("5min"), Some(300_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("1d2h"), Some(93_600_000));
        assert_eq!(parse_duration("2w"), Some(1_209_600_000));
        assert_eq!(parse_duration("PT1H"), Some(3_600_000));
        for bad in ["", "h", "5x", "1h30", "m5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_epoch_relative_and_iso() {
        assert_eq!(utc("now"), Ok(NOW));
        assert_eq!(utc("now-1d"), Ok(NOW - 86_400_000));
        assert_eq!(utc("e-3h"), Ok(NOW - 60_000 - 10_800_000));
        assert_eq!(utc("e+1h30m"), Ok(NOW - 60_000 + 5_400_000));
        assert_eq!(utc("1392901200"), Ok(NOW));
        assert_eq!(utc("1392901200000"), Ok(NOW));
        assert_eq!(utc("2014-02-20T13:00"), Ok(NOW));
        assert_eq!(utc("2014-02-20T13:00:00Z"), Ok(NOW));
        assert_eq!(utc("2014-02-20T14:00:00+01:00"), Ok(NOW));
        assert_eq!(utc("2014-02-20"), Ok(1_392_854_400_000));
        for bad in ["s-1h", "yesterday", "2014-13-01", "now-5x", "now-"] {
            assert!(utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_times_are_read_in_the_zone() {
        let ny = parse_zone("America/New_York").unwrap();
        let refs = Refs { now: NOW, start: None, end: None };
        assert_eq!(parse_time("2014-02-20T08:00", refs, &ny), Ok(NOW), "EST is UTC-5 in February");
        assert_eq!(parse_time("2014-02-20T13:00Z", refs, &ny), Ok(NOW), "an explicit zone wins");
        let plus2 = parse_zone("+02:00").unwrap();
        assert_eq!(parse_time("2014-02-20T15:00", refs, &plus2), Ok(NOW));
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn ranges_default_and_refer_to_each_other() {
        assert_eq!(parse_range(None, None, NOW, &TimeZone::UTC), Ok((NOW - DEFAULT_RANGE_MS, NOW)));
        assert_eq!(
            parse_range(Some("e-1h"), Some("now-1h"), NOW, &TimeZone::UTC),
            Ok((NOW - 7_200_000, NOW - 3_600_000))
        );
        assert_eq!(
            parse_range(Some("now-2h"), Some("s+30m"), NOW, &TimeZone::UTC),
            Ok((NOW - 7_200_000, NOW - 5_400_000))
        );
        assert!(parse_range(Some("e-1h"), Some("s+1h"), NOW, &TimeZone::UTC).is_err(), "circular");
        assert!(parse_range(Some("now"), Some("now-1h"), NOW, &TimeZone::UTC).is_err(), "backwards");
    }

    #[test]
    fn default_steps_give_about_a_point_per_pixel() {
        assert_eq!(default_step(3 * 3_600_000, 700), 60_000);
        assert_eq!(default_step(86_400_000, 700), 300_000, "24h/700 px = 123 s, next step 5m");
        assert_eq!(default_step(7 * 86_400_000, 700), 1_200_000, "864 s wanted");
        assert_eq!(default_step(3650 * 86_400_000, 700), 6 * 86_400_000, "5.2 days rounds up to whole days");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,24}") {
            let refs = Refs { now: NOW, start: Some(0), end: Some(NOW) };
            let _ = parse_time(&text, refs, &TimeZone::UTC);
            let _ = parse_duration(&text);
        }

        #[test]
        fn relative_times_shift_by_the_duration(hours in 0i64..10_000, minutes in 0i64..60) {
            let refs = Refs { now: NOW, start: None, end: None };
            let want = NOW - hours * 3_600_000 - minutes * 60_000;
            proptest::prop_assert_eq!(parse_time(&format!("now-{hours}h{minutes}m"), refs, &TimeZone::UTC), Ok(want));
        }
    }
}
