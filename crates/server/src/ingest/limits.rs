//! Ingest limits: every size and age a client can send is capped here.
//!
//! [`Limits`] holds them, each field documenting its default. The tag rules follow Atlas's
//! `atlas.webapi.publish.rules` and `max-permitted-tags` in `atlas-webapi`'s `reference.conf`;
//! the one deliberate departure is the maximum age (Atlas: one step, 1 minute), which plumb
//! raises to an hour because `plumb agent` replays its buffer after the server was away.

/// Default for [`Limits::max_body_bytes`]: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;
/// Default for [`Limits::max_decoded_bytes`]: 32 MiB.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 32 << 20;
/// Default for [`Limits::max_datapoints`]: 100,000 (Atlas's `maxArraySize`).
pub const DEFAULT_MAX_DATAPOINTS: usize = 100_000;
/// Default for [`Limits::max_tags_per_series`]: 30 (Atlas's `max-permitted-tags`).
pub const DEFAULT_MAX_TAGS_PER_SERIES: usize = 30;
/// Default for [`Limits::max_user_tags`]: 20 (Atlas's `MaxUserTagsRule`).
pub const DEFAULT_MAX_USER_TAGS: usize = 20;
/// Default for [`Limits::max_key_len`]: 60 (Atlas's `KeyLengthRule`).
pub const DEFAULT_MAX_KEY_LEN: usize = 60;
/// Default for [`Limits::max_name_len`]: 255 (Atlas's `NameValueLengthRule`, `name`).
pub const DEFAULT_MAX_NAME_LEN: usize = 255;
/// Default for [`Limits::max_value_len`]: 120 (Atlas's `NameValueLengthRule`, `others`).
pub const DEFAULT_MAX_VALUE_LEN: usize = 120;
/// Default for [`Limits::max_age_ms`]: one hour.
pub const DEFAULT_MAX_AGE_MS: i64 = 60 * 60 * 1000;
/// Default for [`Limits::max_future_ms`]: one minute (Atlas's `max-age`, which it applies both ways).
pub const DEFAULT_MAX_FUTURE_MS: i64 = 60 * 1000;

/// Shortest tag key accepted (Atlas's `KeyLengthRule` `min-length`).
pub const MIN_KEY_LEN: usize = 2;
/// Shortest `name` value accepted (Atlas's `NameValueLengthRule` `name.min-length`).
pub const MIN_NAME_LEN: usize = 2;
/// Shortest value of any other tag accepted (Atlas's `NameValueLengthRule` `others.min-length`).
pub const MIN_VALUE_LEN: usize = 1;

/// What one publish request may hold. Lengths are in bytes (valid tags are ASCII, so bytes
/// and characters agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted as received, before any decompression. Default is 8 MiB.
    pub max_body_bytes: usize,
    /// Largest body accepted after decompression: the guard against gzip bombs.
    /// Default is 32 MiB.
    pub max_decoded_bytes: usize,
    /// Most datapoints in one request's `metrics` array. Default is 100,000.
    pub max_datapoints: usize,
    /// Most tags on one datapoint, common tags and `name` included. Default is 30.
    pub max_tags_per_series: usize,
    /// Most user tags on one datapoint: `name` counts, keys starting with `nf.` or `atlas.` do
    /// not. Default is 20.
    pub max_user_tags: usize,
    /// Longest tag key. Default is 60.
    pub max_key_len: usize,
    /// Longest value of the `name` tag. Default is 255.
    pub max_name_len: usize,
    /// Longest value of any other tag. Default is 120.
    pub max_value_len: usize,
    /// Oldest datapoint accepted, in milliseconds before now. Default is one hour.
    pub max_age_ms: i64,
    /// Furthest a timestamp may lie in the future, in milliseconds. Default is one minute.
    pub max_future_ms: i64,
    /// Whether keys with the reserved prefixes `nf.` and `atlas.` must be among Atlas's known
    /// keys (`nf.app`, `nf.node`, `atlas.dstype`, ...). Default is true.
    pub check_reserved_keys: bool,
    /// Whether NaN and infinite values (sent as the strings `"NaN"`, `"Infinity"`,
    /// `"-Infinity"`) are accepted, as Atlas does. Default is false: they are rejected with a
    /// reason, since plumb's store and its clients treat a missing sample as "no data".
    pub allow_non_finite: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
            max_datapoints: DEFAULT_MAX_DATAPOINTS,
            max_tags_per_series: DEFAULT_MAX_TAGS_PER_SERIES,
            max_user_tags: DEFAULT_MAX_USER_TAGS,
            max_key_len: DEFAULT_MAX_KEY_LEN,
            max_name_len: DEFAULT_MAX_NAME_LEN,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            max_age_ms: DEFAULT_MAX_AGE_MS,
            max_future_ms: DEFAULT_MAX_FUTURE_MS,
            check_reserved_keys: true,
            allow_non_finite: false,
        }
    }
}
