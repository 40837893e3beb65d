//! `plumb agent`: the flags, then the agent from `plumb-agent`. Flag values are kept as text and
//! checked by `plumb_agent::load` together with the environment and the config file, so a bad
//! value gets the same one-line error (and exit 2) wherever it was set.

use std::path::PathBuf;
use std::process::ExitCode;

use plumb_agent::{Environment, Flags, Key, flag_help as help};

/// Run the per-instance agent: collect every second, serve /metrics, publish to a server.
#[derive(clap::Args)]
#[command(after_long_help = plumb_agent::long_help())]
pub struct AgentArgs {
    /// TOML file with any of the options below [env: PLUMB_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, value_name = "ADDR", help = help(Key::Listen))]
    listen: Option<String>,
    #[arg(long, value_name = "URL", help = help(Key::Server))]
    server: Option<String>,
    #[arg(
        long,
        value_name = "KEY=VALUE",
        help = "A tag on every series, e.g. nf.app=web; repeatable [env: PLUMB_AGENT_TAGS, NF_APP, ...]"
    )]
    tag: Vec<String>,
    #[arg(long, value_name = "DIR", help = help(Key::SpoolDir))]
    spool_dir: Option<String>,
    #[arg(long, value_name = "SIZE", help = help(Key::SpoolMaxBytes))]
    spool_max_bytes: Option<String>,
    #[arg(long, value_name = "DURATION", help = help(Key::Interval))]
    interval: Option<String>,
    #[arg(long, value_name = "N", help = help(Key::TopProcesses))]
    top_processes: Option<String>,
    #[arg(long, value_name = "N", help = help(Key::BatchSize))]
    batch_size: Option<String>,
    #[arg(long, value_name = "DURATION", help = help(Key::PublishTimeout))]
    publish_timeout: Option<String>,
    #[arg(long, value_name = "FILE", help = help(Key::ProfileTokenFile))]
    profile_token_file: Option<String>,
}

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let flags = Flags {
        config: args.config,
        listen: args.listen,
        server: args.server,
        spool_dir: args.spool_dir,
        spool_max_bytes: args.spool_max_bytes,
        interval: args.interval,
        top_processes: args.top_processes,
        batch_size: args.batch_size,
        publish_timeout: args.publish_timeout,
        profile_token_file: args.profile_token_file,
        tags: args.tag,
    };
    let options = match plumb_agent::load(&flags, &Environment::current()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("plumb agent: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let publishing = options.server.as_ref().map(|s| (s.to_string(), options.spool_dir.clone()));
    let agent = plumb_agent::Agent::start(options)?;
    eprintln!("plumb agent: listening on http://{}", agent.local_addr());
    if let Some((server, spool)) = publishing {
        eprintln!("plumb agent: publishing to {server}, spooling in {}", spool.display());
    }
    let s = agent.run()?;
    eprintln!(
        "plumb agent: stopped after {} cycles; {} datapoints handed to the publisher; {} batches left in the spool",
        s.cycles, s.datapoints_queued, s.spooled_batches
    );
    Ok(ExitCode::SUCCESS)
}
