//! Atlas's validation rules for one datapoint, independent of the wire format.
//!
//! [`check_tags`] applies, in Atlas's order, `HasKeyRule(name)`, the tag count,
//! `KeyLengthRule`, `NameValueLengthRule`, `ValidCharactersRule` (`[-._A-Za-z0-9^~]`, so
//! any non-ASCII character is refused, never rewritten), `ReservedKeyRule` for `nf.` and
//! `atlas.`, and `MaxUserTagsRule`; [`check_time`] and [`check_value`] the age and value
//! rules. Each returns the first failure as a one-sentence reason; the messages follow
//! Atlas's wording, with the client's strings quoted and shortened so an answer stays small.

use super::limits::{Limits, MIN_KEY_LEN, MIN_NAME_LEN, MIN_VALUE_LEN};

/// Keys allowed under the reserved prefix `nf.` (Atlas's `ReservedKeyRule` defaults).
pub const NF_KEYS: [&str; 20] = [
    "account",
    "ami",
    "app",
    "asg",
    "cluster",
    "container",
    "country",
    "country.rollup",
    "job",
    "node",
    "process",
    "region",
    "shard1",
    "shard2",
    "stack",
    "subnet",
    "task",
    "vmtype",
    "vpc",
    "zone",
];
/// Keys allowed under the reserved prefix `atlas.` (Atlas's `ReservedKeyRule` defaults).
pub const ATLAS_KEYS: [&str; 4] = ["aggr", "dstype", "offset", "legacy"];

/// Longest piece of a client's string quoted back in a reason.
const SHOWN_CHARS: usize = 60;

/// Whether `b` is in Atlas's default character set `[-._A-Za-z0-9^~]`.
pub fn is_valid_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'^' | b'~')
}

/// Checks one datapoint's merged tags (keys unique).
pub fn check_tags(tags: &[(&str, &str)], limits: &Limits) -> Result<(), String> {
    if !tags.iter().any(|(k, _)| *k == "name") {
        return Err("missing key 'name'".to_string());
    }
    if tags.len() > limits.max_tags_per_series {
        return Err(format!("too many tags: {} > {}", tags.len(), limits.max_tags_per_series));
    }
    let mut user_tags = 0;
    for &(k, v) in tags {
        check_tag(k, v, limits)?;
        if !is_restricted(k) {
            user_tags += 1;
        }
    }
    if user_tags > limits.max_user_tags {
        return Err(format!("too many user tags: {user_tags} > {}", limits.max_user_tags));
    }
    Ok(())
}

fn check_tag(k: &str, v: &str, limits: &Limits) -> Result<(), String> {
    if k.len() > limits.max_key_len {
        return Err(format!("key too long: {} ({} > {})", shown(k), k.len(), limits.max_key_len));
    }
    if k.len() < MIN_KEY_LEN {
        return Err(format!("key too short: {} ({} < {MIN_KEY_LEN})", shown(k), k.len()));
    }
    let (min, max) =
        if k == "name" { (MIN_NAME_LEN, limits.max_name_len) } else { (MIN_VALUE_LEN, limits.max_value_len) };
    if v.len() > max {
        return Err(format!("value too long: {k} = {} ({} > {max})", shown(v), v.len()));
    }
    if v.len() < min {
        return Err(format!("value too short: {k} = {} ({} < {min})", shown(v), v.len()));
    }
    if !k.bytes().all(is_valid_char) {
        return Err(format!("invalid characters in key: {} ([-._A-Za-z0-9^~] are allowed)", shown(k)));
    }
    if !v.bytes().all(is_valid_char) {
        return Err(format!("invalid characters in value: {k} = {} ([-._A-Za-z0-9^~] are allowed)", shown(v)));
    }
    if limits.check_reserved_keys {
        for (prefix, allowed) in [("nf.", &NF_KEYS[..]), ("atlas.", &ATLAS_KEYS[..])] {
            if let Some(rest) = k.strip_prefix(prefix)
                && !allowed.contains(&rest)
            {
                return Err(format!("invalid key for reserved prefix '{prefix}': {k}"));
            }
        }
    }
    Ok(())
}

/// Keys Atlas leaves out of the user tag count.
fn is_restricted(k: &str) -> bool {
    k.starts_with("nf.") || k.starts_with("atlas.")
}

/// How the reason for a datapoint older than the age window begins.
pub const TOO_OLD_PREFIX: &str = "data is too old";

/// Checks a timestamp against the age window around `now_ms`.
pub fn check_time(timestamp_ms: i64, now_ms: i64, limits: &Limits) -> Result<(), String> {
    let age = now_ms.saturating_sub(timestamp_ms);
    if age > limits.max_age_ms {
        return Err(format!(
            "{TOO_OLD_PREFIX}: now = {now_ms}, timestamp = {timestamp_ms}, {age} > {}",
            limits.max_age_ms
        ));
    }
    if age < 0 && age.saturating_neg() > limits.max_future_ms {
        return Err(format!(
            "data is from future: now = {now_ms}, timestamp = {timestamp_ms}, {} > {}",
            age.saturating_neg(),
            limits.max_future_ms
        ));
    }
    Ok(())
}

/// Checks a value: NaN and infinities only when `allow_non_finite`.
pub fn check_value(value: f64, limits: &Limits) -> Result<(), String> {
    if value.is_finite() || limits.allow_non_finite {
        Ok(())
    } else {
        Err(format!("value is not finite ({}); NaN and infinities are not accepted", non_finite_name(value)))
    }
}

/// A non-finite value named as Atlas's clients write it: `NaN`, `Infinity`, `-Infinity`.
pub fn non_finite_name(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// `s` quoted with escapes, cut to [`SHOWN_CHARS`] characters; every decoder quotes this way.
pub(super) fn shown(s: &str) -> String {
    if s.chars().count() <= SHOWN_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tags: &[(&str, &str)]) -> Result<(), String> {
        check_tags(tags, &Limits::default())
    }

    #[test]
    fn accepts_atlas_style_tags() {
        assert_eq!(check(&[("name", "cpu.user"), ("nf.node", "i-1"), ("id", "a^b~c_d-e")]), Ok(()));
    }

    #[test]
    fn each_rule_has_its_reason() {
        let cases: [(&[(&str, &str)], &str); 11] = [
            (&[("id", "1")], "missing key 'name'"),
            (&[("name", "x")], "value too short: name"),
            (&[("name", "cpu"), ("k", "v")], "key too short"),
            (&[("name", "cpu"), ("id", "")], "value too short: id"),
            (&[("name", "cpu"), ("id", "a b")], "invalid characters in value: id = \"a b\""),
            (&[("name", "cpu"), ("ké", "v")], "invalid characters in key"),
            (&[("name", "cpu"), ("id", "\u{1F600}")], "invalid characters in value"),
            (&[("name", "cpu"), ("nf.bogus", "v")], "invalid key for reserved prefix 'nf.'"),
            (&[("name", "cpu"), ("atlas.x", "v")], "invalid key for reserved prefix 'atlas.'"),
            (&[("name", "cpu"), (&"k".repeat(61), "v")], "key too long"),
            (&[("name", "cpu"), ("id", &"v".repeat(121))], "value too long: id"),
        ];
        for (tags, want) in cases {
            let got = check(tags).expect_err(want);
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
        assert_eq!(check(&[("name", &"n".repeat(255))]), Ok(()));
    }

    #[test]
    fn counts_user_tags_without_reserved_ones() {
        let keys: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
        let mut tags: Vec<(&str, &str)> = vec![("name", "cpu")];
        tags.extend(keys.iter().take(19).map(|k| (k.as_str(), "v")));
        tags.extend(NF_KEYS.iter().take(8).map(|_| ("nf.app", "v")));
        assert_eq!(check(&tags), Ok(()), "20 user tags + 8 nf.*");
        tags.push(("k99", "v"));
        assert_eq!(check(&tags), Err("too many user tags: 21 > 20".into()));
        tags.extend(std::iter::repeat_n(("nf.node", "v"), 2));
        assert!(check(&tags).is_err_and(|e| e.starts_with("too many tags: 31 > 30")));
    }

    #[test]
    fn time_window() {
        let l = Limits { max_age_ms: 100, max_future_ms: 10, ..Limits::default() };
        assert!(check_time(1000, 1100, &l).is_ok());
        assert!(check_time(1010, 1000, &l).is_ok());
        assert!(check_time(899, 1000, &l).is_err_and(|e| e.starts_with("data is too old")));
        assert!(check_time(1011, 1000, &l).is_err_and(|e| e.starts_with("data is from future")));
        assert!(check_time(i64::MIN, i64::MAX, &l).is_err());
        assert!(check_time(i64::MAX, i64::MIN, &l).is_err());
    }

    #[test]
    fn values() {
        let l = Limits::default();
        assert!(check_value(1.5, &l).is_ok());
        assert!(check_value(f64::NAN, &l).is_err());
        assert!(check_value(f64::NEG_INFINITY, &l).is_err());
        assert!(check_value(f64::NAN, &Limits { allow_non_finite: true, ..l }).is_ok());
    }

    #[test]
    fn long_strings_are_shortened_in_reasons() {
        let long = "é".repeat(500);
        let reason = check(&[("name", "cpu"), ("id", &long)]).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
        assert!(reason.ends_with("(1000 > 120)"), "{reason}");
    }
}
