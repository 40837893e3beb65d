//! The table of options: for each, its file key, flag, environment variable, default and
//! meaning. The flag parser, the environment and file readers and `--help` all read this table,
//! so they cannot disagree.

/// One scalar option of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Listen,
    Server,
    SpoolDir,
    SpoolMaxBytes,
    Interval,
    TopProcesses,
    BatchSize,
    PublishTimeout,
    ProfileTokenFile,
}

/// How one option is named in each place it can be set.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The key in the TOML file, e.g. `spool_max_bytes`.
    pub key: &'static str,
    /// The command-line flag, e.g. `--spool-max-bytes`.
    pub flag: &'static str,
    /// The placeholder for its value in help, e.g. `SIZE`.
    pub value_name: &'static str,
    /// The environment variable, e.g. `PLUMB_AGENT_SPOOL_MAX_BYTES`.
    pub env: &'static str,
    /// The default, as shown in help.
    pub default: &'static str,
    /// One sentence on what it does.
    pub help: &'static str,
}

impl Key {
    /// Every scalar option, in help order.
    pub const ALL: [Key; 9] = [
        Key::Listen,
        Key::Server,
        Key::SpoolDir,
        Key::SpoolMaxBytes,
        Key::Interval,
        Key::TopProcesses,
        Key::BatchSize,
        Key::PublishTimeout,
        Key::ProfileTokenFile,
    ];

    /// Its position in [`Key::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its names, default and meaning.
    pub fn spec(self) -> &'static OptionSpec {
        &SPECS[self.index()]
    }

    /// The option whose file key is `key`.
    pub fn from_file_key(key: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.spec().key == key)
    }
}

const SPECS: [OptionSpec; 9] = [
    OptionSpec {
        key: "listen",
        flag: "--listen",
        value_name: "ADDR",
        env: "PLUMB_AGENT_LISTEN",
        default: "127.0.0.1:7102",
        help: "IP:PORT to serve /metrics on; port 0 picks a free one.",
    },
    OptionSpec {
        key: "server",
        flag: "--server",
        value_name: "URL",
        env: "PLUMB_SERVER",
        default: "none: publish nothing",
        help: "plumb server to publish to, http:// only; batches are POSTed to URL/api/v1/publish.",
    },
    OptionSpec {
        key: "spool_dir",
        flag: "--spool-dir",
        value_name: "DIR",
        env: "PLUMB_AGENT_SPOOL_DIR",
        default: "/var/lib/plumb/agent-spool as root, else $XDG_STATE_HOME/plumb/agent-spool or ~/.local/state/plumb/agent-spool",
        help: "Where batches wait on disk while the server cannot be reached.",
    },
    OptionSpec {
        key: "spool_max_bytes",
        flag: "--spool-max-bytes",
        value_name: "SIZE",
        env: "PLUMB_AGENT_SPOOL_MAX_BYTES",
        default: "256MiB",
        help: "Bound on the spool; past it the oldest batches are dropped (1MiB to 1024GiB).",
    },
    OptionSpec {
        key: "interval",
        flag: "--interval",
        value_name: "DURATION",
        env: "PLUMB_AGENT_INTERVAL",
        default: "1s",
        help: "Collection interval, aligned to the wall clock (100ms to 1h).",
    },
    OptionSpec {
        key: "top_processes",
        flag: "--top-processes",
        value_name: "N",
        env: "PLUMB_AGENT_TOP_PROCESSES",
        default: "10",
        help: "How many of the busiest processes to report (0 to 1000).",
    },
    OptionSpec {
        key: "batch_size",
        flag: "--batch-size",
        value_name: "N",
        env: "PLUMB_AGENT_BATCH_SIZE",
        default: "10000",
        help: "Most datapoints in one publish request (1 to 100000).",
    },
    OptionSpec {
        key: "publish_timeout",
        flag: "--publish-timeout",
        value_name: "DURATION",
        env: "PLUMB_AGENT_PUBLISH_TIMEOUT",
        default: "5s",
        help: "Time allowed for one publish request, connecting included (100ms to 60s).",
    },
    OptionSpec {
        key: "profile_token_file",
        flag: "--profile-token-file",
        value_name: "FILE",
        env: "PLUMB_AGENT_PROFILE_TOKEN_FILE",
        default: "none: POST /api/v1/profile is disabled",
        help: "File holding the bearer token POST /api/v1/profile requires (16 to 4096 printable characters).",
    },
];

/// The flag naming the TOML file.
pub const CONFIG_FLAG: &str = "--config";
/// The environment variable naming the TOML file.
pub const CONFIG_ENV: &str = "PLUMB_CONFIG";
/// The flag adding one tag.
pub const TAG_FLAG: &str = "--tag";
/// The environment variable adding tags, `KEY=VALUE,KEY=VALUE`.
pub const TAGS_ENV: &str = "PLUMB_AGENT_TAGS";

/// The fleet tags and the environment variables that set them, the first found winning
/// (Netflix's own names come second, as fallbacks).
pub const FLEET_ENV: [(&str, &[&str]); 6] = [
    ("nf.app", &["NF_APP", "NETFLIX_APP"]),
    ("nf.cluster", &["NF_CLUSTER", "NETFLIX_CLUSTER"]),
    ("nf.asg", &["NF_ASG", "NETFLIX_AUTO_SCALE_GROUP"]),
    ("nf.node", &["NF_NODE", "EC2_INSTANCE_ID"]),
    ("nf.region", &["NF_REGION", "EC2_REGION"]),
    ("nf.zone", &["NF_ZONE", "EC2_AVAILABILITY_ZONE"]),
];

/// The help of `key`'s flag: meaning, environment variable, default.
pub fn flag_help(key: Key) -> String {
    let o = key.spec();
    format!("{} [env: {}] [default: {}]", o.help, o.env, o.default)
}

/// The text `plumb agent --help` ends with: precedence, file keys, tags and their variables.
pub fn long_help() -> String {
    let keys: Vec<&str> = Key::ALL.iter().map(|k| k.spec().key).collect();
    let mut s = format!(
        "Configuration: every option can be given as a flag, an environment variable (shown with each \
         flag) or a key of the TOML file named by {CONFIG_FLAG} (env {CONFIG_ENV}). Flags beat the \
         environment, which beats the file, which beats the default. An unknown key, a bad address or a \
         bad tag is a one-line error and exit status 2.\n\n\
         File keys: {}, and the table [tags] (KEY = \"VALUE\").\n\n\
         Tags: {TAG_FLAG} KEY=VALUE (repeatable), {TAGS_ENV}=KEY=VALUE,KEY=VALUE or [tags] put a tag on \
         every series; keys and values are 1-255 characters of [-._A-Za-z0-9^~]. The fleet tags can \
         also come from these variables, the first one set winning:\n",
        keys.join(", ")
    );
    for (key, vars) in FLEET_ENV {
        let default = if key == "nf.node" { "  (default: the host name)" } else { "" };
        s.push_str(&format!("  {key:<10} {}{default}\n", vars.join(", ")));
    }
    s.push_str(
        "\nExample file:\n  listen = \"127.0.0.1:7102\"\n  server = \"http://plumb-server:7101\"\n  \
         spool_max_bytes = \"256MiB\"\n  interval = \"1s\"\n  [tags]\n  \"nf.app\" = \"web\"\n  \"nf.cluster\" = \"web-main\"\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_key_and_help_names_everything() {
        let help = long_help();
        for (i, k) in Key::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(Key::from_file_key(k.spec().key), Some(k));
            assert!(help.contains(k.spec().key), "help lacks {}", k.spec().key);
            let flag = flag_help(k);
            assert!(flag.contains(k.spec().env) && flag.contains(k.spec().default), "{flag}");
        }
        for (key, vars) in FLEET_ENV {
            assert!(help.contains(key));
            for v in vars {
                assert!(help.contains(v), "help lacks {v}");
            }
        }
        assert!(help.contains(CONFIG_ENV) && help.contains(TAGS_ENV));
        assert_eq!(Key::from_file_key("nope"), None);
    }
}
