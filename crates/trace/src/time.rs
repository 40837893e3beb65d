//! Printing event times: local wall-clock time of day to the millisecond in lines (as bcc's
//! tools do), RFC 3339 UTC with nanoseconds in JSON. Design decision: the time zone is looked
//! up once per process (jiff caches the system zone), not per event.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `HH:MM:SS.mmm` in the system's time zone.
pub(crate) fn line_time(unix_ns: i128) -> String {
    match Timestamp::from_nanosecond(unix_ns) {
        Ok(ts) => ts.to_zoned_datetime(TimeZone::system()).strftime("%H:%M:%S%.3f").to_string(),
        Err(_) => "?".to_string(),
    }
}

/// RFC 3339 in UTC, e.g. `2026-11-26T10:11:12.123456789Z`.
pub(crate) fn json_time(unix_ns: i128) -> String {
    match Timestamp::from_nanosecond(unix_ns) {
        Ok(ts) => ts.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_times_are_utc_rfc3339() {
        assert_eq!(json_time(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
    }

    #[test]
    fn line_times_have_milliseconds() {
        let t = line_time(1_700_000_000_123_456_789);
        assert_eq!(t.len(), 12, "{t}");
        assert!(t.ends_with(":20.123"), "{t}");
    }
}
