//! The agent's options: [`Options`] with documented defaults, and [`load`], which merges flags,
//! environment and the TOML file (in that precedence) over the defaults and checks every value.

mod layer;
pub mod spec;
pub mod value;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plumb_model::{CommonTags, validate_tag};

use crate::ConfigError;

pub use layer::{Flags, Layer, MAX_CONFIG_FILE_BYTES, Setting};
pub use spec::{Key, flag_help, long_help};
pub use value::ServerUrl;

/// Default listen address: loopback only.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7102);
/// Default bound on the spool: 256 MiB.
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 256 << 20;
/// Smallest and largest spool bound accepted.
pub const SPOOL_MAX_BYTES_RANGE: (u64, u64) = (1 << 20, 1 << 40);
/// Default collection interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest and longest collection interval accepted.
pub const INTERVAL_RANGE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(3600));
/// Default number of busiest processes reported.
pub const DEFAULT_TOP_PROCESSES: usize = plumb_collect::DEFAULT_TOP_PROCESSES;
/// Largest number of processes that may be asked for.
pub const MAX_TOP_PROCESSES: usize = 1000;
/// Default most datapoints per publish request.
pub const DEFAULT_BATCH_SIZE: usize = 10_000;
/// Largest batch size accepted.
pub const MAX_BATCH_SIZE: usize = 100_000;
/// Default time allowed for one publish request.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// Shortest and longest publish timeout accepted.
pub const PUBLISH_TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(60));
/// Most common tags (fleet tags included).
pub const MAX_TAGS: usize = 32;

/// Everything the agent needs to know; see [`spec`] for where each option can be set.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where `/metrics` is served. Default is [`DEFAULT_LISTEN`], 127.0.0.1:7102.
    pub listen: SocketAddr,
    /// The plumb server to publish to. Default is none: nothing is published and no spool is kept.
    pub server: Option<ServerUrl>,
    /// Tags put on every series: the fleet tags and any others. Default is `nf.node` = the host name.
    pub tags: CommonTags,
    /// The spool directory. Default is [`default_spool_dir`].
    pub spool_dir: PathBuf,
    /// Bound on the spool's size on disk. Default is [`DEFAULT_SPOOL_MAX_BYTES`], 256 MiB.
    pub spool_max_bytes: u64,
    /// Collection interval, aligned to the wall clock. Default is [`DEFAULT_INTERVAL`], 1 s.
    pub interval: Duration,
    /// How many busiest processes to report. Default is [`DEFAULT_TOP_PROCESSES`], 10.
    pub top_processes: usize,
    /// Most datapoints in one publish request. Default is [`DEFAULT_BATCH_SIZE`], 10000.
    pub batch_size: usize,
    /// Time allowed for one publish request. Default is [`DEFAULT_PUBLISH_TIMEOUT`], 5 s.
    pub publish_timeout: Duration,
    /// The bearer token `POST /api/v1/profile` requires, read from `profile_token_file`. Default is
    /// none: the endpoint is disabled.
    pub profile_token: Option<String>,
}

impl Options {
    /// The defaults on a host described by `env`.
    pub fn defaults(env: &Environment) -> Options {
        let mut tags = CommonTags::new();
        if let Some(node) = env.hostname.as_deref().and_then(tag_safe) {
            let _ = tags.insert("nf.node", &node);
        }
        Options {
            listen: DEFAULT_LISTEN,
            server: None,
            tags,
            spool_dir: default_spool_dir(env),
            spool_max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            interval: DEFAULT_INTERVAL,
            top_processes: DEFAULT_TOP_PROCESSES,
            batch_size: DEFAULT_BATCH_SIZE,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            profile_token: None,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::defaults(&Environment::current())
    }
}

/// What the defaults depend on: environment variables, whether we run as root, the host name.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The environment variables (those that are valid UTF-8).
    pub vars: BTreeMap<String, String>,
    /// Whether the effective user is root.
    pub is_root: bool,
    /// The host name, if it could be read.
    pub hostname: Option<String>,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Environment {
        use std::os::unix::fs::MetadataExt;
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            // /proc/self belongs to the effective user; this avoids an unsafe geteuid call.
            is_root: std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false),
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()),
        }
    }

    /// A made-up environment for tests: these variables, not root, host name `testhost`.
    pub fn fake(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            is_root: false,
            hostname: Some("testhost".into()),
        }
    }

    /// The variable `name`, trimmed; `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The default spool directory: `/var/lib/plumb/agent-spool` as root, else
/// `$XDG_STATE_HOME/plumb/agent-spool`, else `~/.local/state/plumb/agent-spool`, else one under
/// the temporary directory.
pub fn default_spool_dir(env: &Environment) -> PathBuf {
    if env.is_root {
        return PathBuf::from("/var/lib/plumb/agent-spool");
    }
    if let Some(state) = env.var("XDG_STATE_HOME").filter(|p| Path::new(p).is_absolute()) {
        return Path::new(state).join("plumb/agent-spool");
    }
    if let Some(home) = env.var("HOME").filter(|p| Path::new(p).is_absolute()) {
        return Path::new(home).join(".local/state/plumb/agent-spool");
    }
    std::env::temp_dir().join("plumb/agent-spool")
}

/// The options given by `flags`, the environment and the config file (named by `--config` or
/// `PLUMB_CONFIG`), over the defaults. Any bad value is an error naming where it came from.
pub fn load(flags: &Flags, env: &Environment) -> Result<Options, ConfigError> {
    let flag_layer = Layer::from_flags(flags)?;
    let env_layer = Layer::from_env(env)?;
    let path = flags.config.clone().or_else(|| env.var(spec::CONFIG_ENV).map(PathBuf::from));
    let file_layer = match path {
        Some(p) => Layer::from_file(&p)?,
        None => Layer::default(),
    };
    resolve(&[&flag_layer, &env_layer, &file_layer], env)
}

/// Merges `layers`, highest precedence first, over the defaults for `env`.
pub fn resolve(layers: &[&Layer], env: &Environment) -> Result<Options, ConfigError> {
    let mut o = Options::defaults(env);
    let pick = |k: Key| layers.iter().find_map(|l| l.get(k));
    if let Some(s) = pick(Key::Listen) {
        o.listen = check(Key::Listen, s, value::parse_listen(&s.value))?;
    }
    if let Some(s) = pick(Key::Server) {
        o.server = match s.value.trim() {
            "" => None,
            v => Some(check(Key::Server, s, ServerUrl::parse(v))?),
        };
    }
    if let Some(s) = pick(Key::SpoolDir) {
        let dir = s.value.trim();
        o.spool_dir = check(Key::SpoolDir, s, if dir.is_empty() { Err("empty path".into()) } else { Ok(dir.into()) })?;
    }
    if let Some(s) = pick(Key::SpoolMaxBytes) {
        let (lo, hi) = SPOOL_MAX_BYTES_RANGE;
        o.spool_max_bytes = check(Key::SpoolMaxBytes, s, value::parse_size(&s.value, lo, hi))?;
    }
    if let Some(s) = pick(Key::Interval) {
        let (lo, hi) = INTERVAL_RANGE;
        o.interval = check(Key::Interval, s, value::parse_duration(&s.value, lo, hi))?;
    }
    if let Some(s) = pick(Key::TopProcesses) {
        o.top_processes = check(Key::TopProcesses, s, value::parse_count(&s.value, 0, MAX_TOP_PROCESSES))?;
    }
    if let Some(s) = pick(Key::BatchSize) {
        o.batch_size = check(Key::BatchSize, s, value::parse_count(&s.value, 1, MAX_BATCH_SIZE))?;
    }
    if let Some(s) = pick(Key::PublishTimeout) {
        let (lo, hi) = PUBLISH_TIMEOUT_RANGE;
        o.publish_timeout = check(Key::PublishTimeout, s, value::parse_duration(&s.value, lo, hi))?;
    }
    if let Some(s) = pick(Key::ProfileTokenFile) {
        o.profile_token = match s.value.trim() {
            "" => None,
            path => Some(check(Key::ProfileTokenFile, s, value::read_token_file(path))?),
        };
    }
    o.tags = merge_tags(layers, o.tags)?;
    Ok(o)
}

/// `r`, or the error saying that `s`, the setting of `k`, is invalid.
fn check<T>(k: Key, s: &Setting, r: Result<T, String>) -> Result<T, ConfigError> {
    r.map_err(|reason| ConfigError::Invalid {
        option: k.spec().key,
        value: s.value.clone(),
        from: s.from.clone(),
        reason,
    })
}

/// The tags of all layers, higher layers replacing lower ones key by key, over `defaults`.
fn merge_tags(layers: &[&Layer], defaults: CommonTags) -> Result<CommonTags, ConfigError> {
    let mut merged: BTreeMap<&str, &Setting> = BTreeMap::new();
    for layer in layers.iter().rev() {
        for (k, s) in &layer.tags {
            merged.insert(k.as_str(), s);
        }
    }
    let mut tags = defaults;
    for (k, s) in &merged {
        let tag_err = |source| ConfigError::Tag { from: s.from.clone(), source };
        validate_tag(k).map_err(tag_err)?;
        tags.insert(k, &s.value).map_err(tag_err)?;
    }
    let count = tags.iter().count();
    if count > MAX_TAGS {
        return Err(ConfigError::TooManyTags { count, max: MAX_TAGS });
    }
    Ok(tags)
}

/// A host name made into a valid tag value: characters outside Atlas's set become `_`.
fn tag_safe(name: &str) -> Option<String> {
    let s: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-._^~".contains(c) { c } else { '_' })
        .take(255) // Atlas's limit; every char is ASCII here, so bytes
        .collect();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(flags: &Flags, env: &[(&str, &str)]) -> Result<Options, ConfigError> {
        load(flags, &Environment::fake(env))
    }

    fn write_config(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn defaults() {
        let o = opts(&Flags::default(), &[("HOME", "/home/u")]).unwrap();
        assert_eq!(o.listen.to_string(), "127.0.0.1:7102");
        assert_eq!(o.server, None);
        assert_eq!(o.tags.iter().collect::<Vec<_>>(), [("nf.node", "testhost")]);
        assert_eq!(o.spool_dir, PathBuf::from("/home/u/.local/state/plumb/agent-spool"));
        assert_eq!(
            (o.spool_max_bytes, o.interval, o.top_processes, o.batch_size),
            (256 << 20, Duration::from_secs(1), 10, 10_000)
        );
        assert_eq!(o.publish_timeout, Duration::from_secs(5));
    }

    #[test]
    fn spool_dir_default_depends_on_user() {
        let mut env = Environment::fake(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/st")]);
        assert_eq!(default_spool_dir(&env), PathBuf::from("/st/plumb/agent-spool"));
        env.is_root = true;
        assert_eq!(default_spool_dir(&env), PathBuf::from("/var/lib/plumb/agent-spool"));
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let file = write_config(
            "listen = \"127.0.0.1:1\"\nserver = \"http://file:1\"\ninterval = \"2s\"\nbatch_size = 7\n\
             [tags]\n\"nf.app\" = \"fileapp\"\n\"nf.cluster\" = \"filecl\"\nteam = \"file\"\n",
        );
        let path = file.path().to_str().unwrap();
        let flags = Flags { listen: Some("127.0.0.1:3".into()), tags: vec!["team=flag".into()], ..Flags::default() };
        let env = [
            ("PLUMB_CONFIG", path),
            ("PLUMB_AGENT_LISTEN", "127.0.0.1:2"),
            ("PLUMB_SERVER", "http://env:2"),
            ("NETFLIX_APP", "envapp"),
            ("EC2_INSTANCE_ID", "i-123"),
        ];
        let o = opts(&flags, &env).unwrap();
        assert_eq!(o.listen.port(), 3, "flag beats env");
        assert_eq!(o.server.as_ref().map(ServerUrl::as_str), Some("http://env:2"), "env beats file");
        assert_eq!(o.interval, Duration::from_secs(2), "file beats default");
        assert_eq!(o.batch_size, 7);
        assert_eq!(o.top_processes, 10, "default");
        let tags: Vec<_> = o.tags.iter().collect();
        assert_eq!(
            tags,
            [("nf.app", "envapp"), ("nf.cluster", "filecl"), ("nf.node", "i-123"), ("team", "flag")],
            "tags merge key by key"
        );
        let flags = Flags { server: Some(String::new()), ..flags };
        assert_eq!(opts(&flags, &env).unwrap().server, None, "an empty --server turns publishing off");
    }

    #[test]
    fn bad_values_name_their_origin_in_one_line() {
        type Case<'a> = (Flags, &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case; 6] = [
            (Flags { listen: Some("nonsense".into()), ..Flags::default() }, &[], "--listen"),
            (Flags::default(), &[("PLUMB_SERVER", "https://x")], "https is not supported"),
            (Flags::default(), &[("NF_APP", "my app")], "NF_APP"),
            (Flags { tags: vec!["=x".into()], ..Flags::default() }, &[], "--tag"),
            (Flags { batch_size: Some("0".into()), ..Flags::default() }, &[], "--batch-size"),
            (
                Flags { config: Some("/nonexistent/plumb.toml".into()), ..Flags::default() },
                &[],
                "/nonexistent/plumb.toml",
            ),
        ];
        for (flags, env, needle) in cases {
            let e = opts(&flags, env).unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} lacks {needle:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
        let file = write_config("[tags]\n\"nf.zone\" = \"a b\"\n");
        let e = opts(&Flags { config: Some(file.path().into()), ..Flags::default() }, &[]).unwrap_err();
        assert!(e.to_string().contains("tags.nf.zone"), "{e}");
    }

    #[test]
    fn odd_host_names_are_made_valid() {
        assert_eq!(tag_safe("my host!").as_deref(), Some("my_host_"));
        assert_eq!(tag_safe("  "), None);
        let many: Vec<String> = (0..40).map(|i| format!("t{i}=v")).collect();
        let e = opts(&Flags { tags: many, ..Flags::default() }, &[]).unwrap_err();
        assert!(matches!(e, ConfigError::TooManyTags { .. }));
    }
}
