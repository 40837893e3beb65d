//! The three places settings come from, each read into a [`Layer`] of raw text that remembers
//! where every value came from: command-line flags, the environment, the TOML file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::ConfigError;

use super::Environment;
use super::spec::{FLEET_ENV, Key, TAG_FLAG, TAGS_ENV};

/// Longest config file read, in bytes.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// The command-line flags of `plumb agent`, as text; the binary fills this from clap.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--server URL`.
    pub server: Option<String>,
    /// `--spool-dir DIR`.
    pub spool_dir: Option<String>,
    /// `--spool-max-bytes SIZE`.
    pub spool_max_bytes: Option<String>,
    /// `--interval DURATION`.
    pub interval: Option<String>,
    /// `--top-processes N`.
    pub top_processes: Option<String>,
    /// `--batch-size N`.
    pub batch_size: Option<String>,
    /// `--publish-timeout DURATION`.
    pub publish_timeout: Option<String>,
    /// `--profile-token-file FILE`.
    pub profile_token_file: Option<String>,
    /// Each `--tag KEY=VALUE`, in order.
    pub tags: Vec<String>,
}

/// One value and where it came from (a flag, a variable, a file key), for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub from: String,
}

/// The settings one source gives; unset options are `None`.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    scalars: [Option<Setting>; Key::ALL.len()],
    /// Tags in the order given; a later one replaces an earlier one with the same key.
    pub tags: Vec<(String, Setting)>,
}

impl Layer {
    /// The setting of `key`, if this layer has one.
    pub fn get(&self, key: Key) -> Option<&Setting> {
        self.scalars[key.index()].as_ref()
    }

    fn set(&mut self, key: Key, value: String, from: String) {
        self.scalars[key.index()] = Some(Setting { value, from });
    }

    /// The flags given on the command line.
    pub fn from_flags(flags: &Flags) -> Result<Layer, ConfigError> {
        let mut l = Layer::default();
        let given = [
            (Key::Listen, &flags.listen),
            (Key::Server, &flags.server),
            (Key::SpoolDir, &flags.spool_dir),
            (Key::SpoolMaxBytes, &flags.spool_max_bytes),
            (Key::Interval, &flags.interval),
            (Key::TopProcesses, &flags.top_processes),
            (Key::BatchSize, &flags.batch_size),
            (Key::PublishTimeout, &flags.publish_timeout),
            (Key::ProfileTokenFile, &flags.profile_token_file),
        ];
        for (key, value) in given {
            if let Some(v) = value {
                l.set(key, v.clone(), key.spec().flag.to_string());
            }
        }
        for t in &flags.tags {
            l.push_tag_text(t, TAG_FLAG)?;
        }
        Ok(l)
    }

    /// The environment variables of the options and the fleet tags. Empty variables count as unset.
    pub fn from_env(env: &Environment) -> Result<Layer, ConfigError> {
        let mut l = Layer::default();
        for key in Key::ALL {
            if let Some(v) = env.var(key.spec().env) {
                l.set(key, v.to_string(), key.spec().env.to_string());
            }
        }
        if let Some(list) = env.var(TAGS_ENV) {
            for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                l.push_tag_text(t, TAGS_ENV)?;
            }
        }
        for (tag, vars) in FLEET_ENV {
            if let Some((var, v)) = vars.iter().find_map(|var| env.var(var).map(|v| (var, v))) {
                l.tags.push((tag.to_string(), Setting { value: v.to_string(), from: var.to_string() }));
            }
        }
        Ok(l)
    }

    /// The TOML file at `path`: top-level keys are the options, the table `[tags]` the tags.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let file = std::fs::File::open(path).map_err(|source| ConfigError::File { path: path.into(), source })?;
        let mut text = String::new();
        file.take(MAX_CONFIG_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|source| ConfigError::File { path: path.into(), source })?;
        if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
            return Err(ConfigError::FileTooLarge { path: path.into(), limit: MAX_CONFIG_FILE_BYTES });
        }
        Layer::from_toml(path, &text)
    }

    /// [`Layer::from_file`] on text already read; `path` names it in errors.
    pub fn from_toml(path: &Path, text: &str) -> Result<Layer, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Toml {
            path: path.into(),
            line: e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().replace('\n', " "),
        })?;
        let mut l = Layer::default();
        for (k, v) in &table {
            if k == "tags" {
                let toml::Value::Table(tags) = v else {
                    return Err(wrong_type(path, k, "a table of KEY = \"VALUE\""));
                };
                for (tk, tv) in tags {
                    let from = format!("{}: tags.{tk}", path.display());
                    let value = scalar(tv).ok_or_else(|| wrong_type(path, &format!("tags.{tk}"), "a string"))?;
                    l.tags.push((tk.clone(), Setting { value, from }));
                }
                continue;
            }
            let Some(key) = Key::from_file_key(k) else {
                let mut known: Vec<&str> = Key::ALL.iter().map(|k| k.spec().key).collect();
                known.push("tags");
                return Err(ConfigError::UnknownKey { path: path.into(), key: k.clone(), known: known.join(", ") });
            };
            let value = scalar(v).ok_or_else(|| wrong_type(path, k, "a string or a number"))?;
            l.set(key, value, format!("{}: {k}", path.display()));
        }
        Ok(l)
    }

    fn push_tag_text(&mut self, text: &str, from: &str) -> Result<(), ConfigError> {
        let Some((k, v)) = text.split_once('=') else {
            return Err(ConfigError::TagSyntax { text: text.to_string(), from: from.to_string() });
        };
        self.tags.push((k.trim().to_string(), Setting { value: v.trim().to_string(), from: from.to_string() }));
        Ok(())
    }
}

/// A TOML string or number as text.
fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn wrong_type(path: &Path, key: &str, expected: &'static str) -> ConfigError {
    ConfigError::WrongType { path: path.into(), key: key.to_string(), expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_and_tags() {
        let text = "listen = \"127.0.0.1:9\"\nbatch_size = 500\n[tags]\n\"nf.app\" = \"web\"\nteam = \"perf\"\n";
        let l = Layer::from_toml(Path::new("a.toml"), text).unwrap();
        assert_eq!(l.get(Key::Listen).unwrap().value, "127.0.0.1:9");
        assert_eq!(l.get(Key::Listen).unwrap().from, "a.toml: listen");
        assert_eq!(l.get(Key::BatchSize).unwrap().value, "500");
        assert!(l.get(Key::Server).is_none());
        let tags: Vec<_> = l.tags.iter().map(|(k, s)| (k.as_str(), s.value.as_str())).collect();
        assert_eq!(tags, [("nf.app", "web"), ("team", "perf")]);
    }

    #[test]
    fn file_errors_are_one_line() {
        let p = Path::new("a.toml");
        let e = Layer::from_toml(p, "listen = \"x\"\nlisten_addr = 1\n").unwrap_err();
        assert!(matches!(e, ConfigError::UnknownKey { ref key, .. } if key == "listen_addr"), "{e}");
        let e = Layer::from_toml(p, "listen = \"x\"\n\nserver = [\n").unwrap_err();
        assert!(matches!(e, ConfigError::Toml { line: 3.., .. }), "{e}");
        assert!(!e.to_string().contains('\n'));
        let e = Layer::from_toml(p, "interval = true\n").unwrap_err();
        assert!(matches!(e, ConfigError::WrongType { .. }), "{e}");
        let e = Layer::from_toml(p, "tags = \"x\"\n").unwrap_err();
        assert!(matches!(e, ConfigError::WrongType { .. }), "{e}");
    }

    #[test]
    fn env_reads_fleet_fallbacks_in_order() {
        let env = Environment::fake(&[
            ("NETFLIX_APP", "old"),
            ("NF_APP", "new"),
            ("EC2_REGION", "us-east-1"),
            ("NF_ZONE", ""),
            ("EC2_AVAILABILITY_ZONE", "us-east-1a"),
            ("PLUMB_AGENT_TAGS", "team=perf, tier=1"),
            ("PLUMB_AGENT_LISTEN", "127.0.0.1:1"),
        ]);
        let l = Layer::from_env(&env).unwrap();
        let tags: Vec<_> = l.tags.iter().map(|(k, s)| (k.as_str(), s.value.as_str(), s.from.as_str())).collect();
        assert_eq!(
            tags,
            [
                ("team", "perf", "PLUMB_AGENT_TAGS"),
                ("tier", "1", "PLUMB_AGENT_TAGS"),
                ("nf.app", "new", "NF_APP"),
                ("nf.region", "us-east-1", "EC2_REGION"),
                ("nf.zone", "us-east-1a", "EC2_AVAILABILITY_ZONE"),
            ]
        );
        assert_eq!(l.get(Key::Listen).unwrap().from, "PLUMB_AGENT_LISTEN");
        let bad = Environment::fake(&[("PLUMB_AGENT_TAGS", "team")]);
        assert!(matches!(Layer::from_env(&bad), Err(ConfigError::TagSyntax { .. })));
    }
}
