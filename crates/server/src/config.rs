//! `plumb server`'s options from three places: flags, environment and a TOML file.
//!
//! [`Settings`] is one layer: every option optional. The binary fills one from its flags and
//! environment (clap already lets a flag win over its variable), [`read_file`] reads another from
//! the file, [`Settings::or`] stacks them and [`resolve`] fills the gaps with the defaults
//! (`Limits::default()`, `CardinalityLimits::default()`, [`DEFAULT_LISTEN`]) and checks every
//! value against its range, giving [`ServerOptions`]. Any problem is one [`ConfigError`], one
//! line naming the key.
//!
//! Design decision: the file is deserialised straight into the same `Settings` type the flags
//! fill, with `deny_unknown_fields`, so a misspelt key is an error that names it (never silently
//! ignored) and there is one list of options, not a table of keys beside the struct. Checking
//! happens once, after merging, so a value is judged the same wherever it came from.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ingest::limits::{DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_MS};
use crate::ingest::{CardinalityLimits, Limits};
use crate::run::{DEFAULT_LISTEN, ServerOptions};
use crate::selfmetrics;

/// Largest config file read: 64 KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 64 << 10;
/// Range of `max_body_bytes`: 1 byte to 1 GiB.
pub const MAX_BODY_BYTES_RANGE: (usize, usize) = (1, 1 << 30);
/// Range of `max_decoded_bytes`: 1 byte to 2 GiB.
pub const MAX_DECODED_BYTES_RANGE: (usize, usize) = (1, 2 << 30);
/// Range of `max_datapoints`: 1 to 10,000,000.
pub const MAX_DATAPOINTS_RANGE: (usize, usize) = (1, 10_000_000);
/// Range of `max_age_secs`: 1 s to 366 days.
pub const MAX_AGE_SECS_RANGE: (i64, i64) = (1, 366 * 86_400);
/// Range of `max_future_secs`: 1 s to one day.
pub const MAX_FUTURE_SECS_RANGE: (i64, i64) = (1, 86_400);
/// Range of both new-series limits: 0 (refuse every new series) to 10,000,000 a minute.
pub const NEW_SERIES_RANGE: (u32, u32) = (0, 10_000_000);

/// One layer of options; `None` leaves the option to the next layer. The TOML file has exactly
/// these keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// IP:PORT to listen on.
    pub listen: Option<SocketAddr>,
    /// The data directory.
    pub data: Option<PathBuf>,
    /// [`Limits::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// [`Limits::max_decoded_bytes`].
    pub max_decoded_bytes: Option<usize>,
    /// [`Limits::max_datapoints`].
    pub max_datapoints: Option<usize>,
    /// [`Limits::max_age_ms`], in seconds.
    pub max_age_secs: Option<i64>,
    /// [`Limits::max_future_ms`], in seconds.
    pub max_future_secs: Option<i64>,
    /// [`Limits::allow_non_finite`].
    pub allow_non_finite: Option<bool>,
    /// [`CardinalityLimits::new_series_per_minute`].
    pub new_series_per_minute: Option<u32>,
    /// [`CardinalityLimits::new_series_per_minute_per_name`].
    pub new_series_per_minute_per_name: Option<u32>,
}

impl Settings {
    /// `self` over `lower`: each option from `self` when set there, else from `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            listen: self.listen.or(lower.listen),
            data: self.data.or(lower.data),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            max_decoded_bytes: self.max_decoded_bytes.or(lower.max_decoded_bytes),
            max_datapoints: self.max_datapoints.or(lower.max_datapoints),
            max_age_secs: self.max_age_secs.or(lower.max_age_secs),
            max_future_secs: self.max_future_secs.or(lower.max_future_secs),
            allow_non_finite: self.allow_non_finite.or(lower.allow_non_finite),
            new_series_per_minute: self.new_series_per_minute.or(lower.new_series_per_minute),
            new_series_per_minute_per_name: self
                .new_series_per_minute_per_name
                .or(lower.new_series_per_minute_per_name),
        }
    }
}

/// Why the options could not be read or are not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be opened or read, or is not UTF-8.
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The config file is larger than [`MAX_CONFIG_FILE_BYTES`].
    #[error("the config file {path} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    /// The config file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("config file {path}, line {line}: {message}")]
    Parse { path: PathBuf, line: usize, message: String },
    /// A value lies outside its range.
    #[error("{key} (--{flag}) must be between {min} and {max}, got {value}")]
    OutOfRange { key: &'static str, flag: String, value: String, min: String, max: String },
    /// The data directory is an empty path.
    #[error("data (--data) must not be empty")]
    EmptyData,
}

/// Reads and parses the TOML file at `path` (at most [`MAX_CONFIG_FILE_BYTES`]).
pub fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    let read_err = |source| ConfigError::Read { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut text = String::new();
    file.take(MAX_CONFIG_FILE_BYTES + 1).read_to_string(&mut text).map_err(read_err)?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(ConfigError::TooLarge { path: path.to_path_buf(), limit: MAX_CONFIG_FILE_BYTES });
    }
    parse(path, &text)
}

/// Parses a config file's text; `path` only names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let at = e.span().map_or(0, |s| s.start.min(text.len()));
        let line = text.as_bytes().get(..at).map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1);
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        ConfigError::Parse { path: path.to_path_buf(), line, message }
    })
}

/// The options `s` gives, defaults filling the gaps, every value checked against its range.
/// `default_data` is asked only when `s.data` is unset.
pub fn resolve(s: Settings, default_data: impl FnOnce() -> PathBuf) -> Result<ServerOptions, ConfigError> {
    let data = s.data.unwrap_or_else(default_data);
    if data.as_os_str().is_empty() {
        return Err(ConfigError::EmptyData);
    }
    let d = Limits::default();
    let c = CardinalityLimits::default();
    let max_age = within("max_age_secs", s.max_age_secs.unwrap_or(DEFAULT_MAX_AGE_MS / 1000), MAX_AGE_SECS_RANGE)?;
    let max_future =
        within("max_future_secs", s.max_future_secs.unwrap_or(DEFAULT_MAX_FUTURE_MS / 1000), MAX_FUTURE_SECS_RANGE)?;
    let limits = Limits {
        max_body_bytes: within("max_body_bytes", s.max_body_bytes.unwrap_or(d.max_body_bytes), MAX_BODY_BYTES_RANGE)?,
        max_decoded_bytes: within(
            "max_decoded_bytes",
            s.max_decoded_bytes.unwrap_or(d.max_decoded_bytes),
            MAX_DECODED_BYTES_RANGE,
        )?,
        max_datapoints: within("max_datapoints", s.max_datapoints.unwrap_or(d.max_datapoints), MAX_DATAPOINTS_RANGE)?,
        max_age_ms: max_age * 1000,
        max_future_ms: max_future * 1000,
        allow_non_finite: s.allow_non_finite.unwrap_or(d.allow_non_finite),
        ..d
    };
    let global =
        within("new_series_per_minute", s.new_series_per_minute.unwrap_or(c.new_series_per_minute), NEW_SERIES_RANGE)?;
    let per_name = within(
        "new_series_per_minute_per_name",
        s.new_series_per_minute_per_name.unwrap_or(c.new_series_per_minute_per_name),
        NEW_SERIES_RANGE,
    )?;
    // Per-name limits stay exact while the tracked names are at least twice the global rate.
    let cardinality = CardinalityLimits {
        new_series_per_minute: global,
        new_series_per_minute_per_name: per_name,
        max_tracked_names: c.max_tracked_names.max(2 * global as usize),
    };
    Ok(ServerOptions {
        listen: s.listen.unwrap_or(default_listen()),
        data,
        limits,
        cardinality,
        self_metrics_interval: selfmetrics::DEFAULT_INTERVAL,
    })
}

/// [`DEFAULT_LISTEN`] as an address.
pub fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7101)))
}

/// The default data directory: `/var/lib/plumb/server` as root, else `./plumb-data`.
pub fn default_data_dir() -> PathBuf {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if root { PathBuf::from("/var/lib/plumb/server") } else { PathBuf::from("plumb-data") }
}

fn within<T: PartialOrd + std::fmt::Display>(key: &'static str, v: T, (min, max): (T, T)) -> Result<T, ConfigError> {
    if v >= min && v <= max {
        return Ok(v);
    }
    let (value, min, max) = (v.to_string(), min.to_string(), max.to_string());
    Err(ConfigError::OutOfRange { key, flag: key.replace('_', "-"), value, min, max })
}

/// The long help's section on the file: format, precedence and an example holding every key
/// at its default.
pub fn file_help() -> String {
    let d = Limits::default();
    let c = CardinalityLimits::default();
    format!(
        "Config file (--config FILE or PLUMB_SERVER_CONFIG): TOML, at most {max} bytes, with the options
above as keys (underscores for dashes), each optional. An unknown key or a value out of range
stops the server with exit code 2. A flag wins over its environment variable, the environment
over the file, the file over the defaults. A relative `data` is relative to the working
directory. Every key at its default:

    listen = \"{DEFAULT_LISTEN}\"
    data = \"/var/lib/plumb/server\"     # default: this as root, else ./plumb-data
    max_body_bytes = {body}
    max_decoded_bytes = {decoded}
    max_datapoints = {points}
    max_age_secs = {age}
    max_future_secs = {future}
    allow_non_finite = {non_finite}
    new_series_per_minute = {global}
    new_series_per_minute_per_name = {per_name}

The server stores its own metrics in itself every {every} s, under names plumb.server.* with
nf.app=plumb and nf.node=HOST (GET /api/v1/raw?name=plumb.server.series); see /metrics too.",
        max = MAX_CONFIG_FILE_BYTES,
        body = d.max_body_bytes,
        decoded = d.max_decoded_bytes,
        points = d.max_datapoints,
        age = d.max_age_ms / 1000,
        future = d.max_future_ms / 1000,
        non_finite = d.allow_non_finite,
        global = c.new_series_per_minute,
        per_name = c.new_series_per_minute_per_name,
        every = selfmetrics::DEFAULT_INTERVAL.as_secs(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Settings, ConfigError> {
        parse(Path::new("s.toml"), text)
    }

    #[test]
    fn the_example_in_the_help_parses_to_the_defaults() {
        let help = file_help();
        let example: String =
            help.lines().filter(|l| l.starts_with("    ")).map(|l| format!("{}\n", l.trim())).collect();
        let file = p(&example).unwrap();
        let opts = resolve(file, || unreachable!("data is in the example")).unwrap();
        let defaults = resolve(Settings::default(), || PathBuf::from("/var/lib/plumb/server")).unwrap();
        assert_eq!(opts.listen, defaults.listen);
        assert_eq!(opts.data, defaults.data);
        assert_eq!(opts.limits, defaults.limits);
        assert_eq!(opts.cardinality, defaults.cardinality);
        assert_eq!(defaults.limits, Limits::default());
        assert_eq!(defaults.cardinality, CardinalityLimits::default());
    }

    #[test]
    fn a_file_sets_options_and_the_upper_layer_wins() {
        let file = p("listen = \"127.0.0.1:9\"\nmax_datapoints = 2\nnew_series_per_minute = 7\n").unwrap();
        let flags = Settings { max_datapoints: Some(5), ..Settings::default() };
        let o = resolve(flags.or(file), || PathBuf::from("d")).unwrap();
        assert_eq!(o.listen, "127.0.0.1:9".parse().unwrap());
        assert_eq!(o.limits.max_datapoints, 5);
        assert_eq!(o.cardinality.new_series_per_minute, 7);
        assert_eq!(o.data, PathBuf::from("d"));
    }

    #[test]
    fn a_higher_global_rate_keeps_tracked_names_at_twice_it() {
        let s = Settings { new_series_per_minute: Some(5_000_000), ..Settings::default() };
        let o = resolve(s, || PathBuf::from("d")).unwrap();
        assert_eq!(o.cardinality.max_tracked_names, 10_000_000);
    }

    #[test]
    fn an_unknown_key_is_named_on_its_line() {
        let e = p("listen = \"127.0.0.1:9\"\nmax_datapoint = 2\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("max_datapoint"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn wrong_types_and_bad_toml_are_one_line_errors() {
        for (text, word) in [
            ("max_datapoints = \"many\"", "line 1"),
            ("listen = \"nowhere\"", "line 1"),
            ("\n\nmax_age_secs = -", "line 3"),
            ("allow_non_finite = 1", "line 1"),
            ("max_datapoints = -1", "line 1"),
        ] {
            let e = p(text).unwrap_err().to_string();
            assert!(e.contains(word) && !e.contains('\n'), "{text}: {e}");
        }
    }

    #[test]
    fn values_out_of_range_name_the_key_and_the_range() {
        let cases = [
            (Settings { max_datapoints: Some(0), ..Settings::default() }, "max_datapoints (--max-datapoints)"),
            (Settings { max_body_bytes: Some(2 << 30), ..Settings::default() }, "max_body_bytes"),
            (Settings { max_age_secs: Some(0), ..Settings::default() }, "max_age_secs"),
            (Settings { max_future_secs: Some(i64::MAX), ..Settings::default() }, "max_future_secs"),
            (Settings { new_series_per_minute_per_name: Some(u32::MAX), ..Settings::default() }, "per_name"),
        ];
        for (s, key) in cases {
            let e = resolve(s, || PathBuf::from("d")).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("must be between"), "{e}");
        }
        let empty = Settings { data: Some(PathBuf::new()), ..Settings::default() };
        assert!(matches!(resolve(empty, || PathBuf::from("d")), Err(ConfigError::EmptyData)));
    }

    #[test]
    fn unreadable_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        assert!(matches!(read_file(&missing), Err(ConfigError::Read { .. })));
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(MAX_CONFIG_FILE_BYTES as usize + 1)).unwrap();
        assert!(matches!(read_file(&big), Err(ConfigError::TooLarge { .. })));
        let binary = dir.path().join("bin.toml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(read_file(&binary), Err(ConfigError::Read { .. })));
    }

    proptest::proptest! {
        #[test]
        fn random_text_never_panics(text in ".{0,200}") {
            let _ = p(&text).map(|s| resolve(s, || PathBuf::from("d")));
        }
    }
}
