//! The `plumb` binary: parses the command line, runs one subcommand, picks the exit code.
//! Domain logic lives in the library crates; each subcommand is a thin module under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// plumb: performance root-cause analysis, from clouds to roots.
#[derive(Parser)]
#[command(name = "plumb", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Each subcommand's help is its Args struct's doc comment (a doc here would replace it).
    Stat(cmd::stat::StatArgs),
    Agent(cmd::agent::AgentArgs),
    Server(cmd::server::ServerArgs),
    Metrics(cmd::metrics::MetricsArgs),
    Tsdb(cmd::tsdb::TsdbArgs),
    Query(cmd::query::QueryArgs),
    Profile(cmd::profile::ProfileArgs),
    Flame(cmd::flame::FlameArgs),
    Execsnoop(cmd::execsnoop::ExecsnoopArgs),
    Opensnoop(cmd::opensnoop::OpensnoopArgs),
    Iolatency(cmd::iolatency::IolatencyArgs),
    Iosnoop(cmd::iosnoop::IosnoopArgs),
    Heatmap(cmd::heatmap::HeatmapArgs),
    Runqlat(cmd::runqlat::RunqlatArgs),
    Offcputime(cmd::offcputime::OffcputimeArgs),
    Tcpretrans(cmd::tcpretrans::TcpretransArgs),
    Tcplife(cmd::tcplife::TcplifeArgs),
    Pmc(cmd::pmc::PmcArgs),
    Showboost(cmd::showboost::ShowboostArgs),
    Cputemp(cmd::cputemp::CputempArgs),
    Use(cmd::use_method::UseArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    let result = match cli.command {
        Command::Stat(args) => cmd::stat::run(args),
        Command::Agent(args) => cmd::agent::run(args),
        Command::Server(args) => cmd::server::run(args),
        Command::Metrics(args) => cmd::metrics::run(args),
        Command::Tsdb(args) => cmd::tsdb::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Profile(args) => cmd::profile::run(args),
        Command::Flame(args) => cmd::flame::run(args),
        Command::Execsnoop(args) => cmd::execsnoop::run(args),
        Command::Opensnoop(args) => cmd::opensnoop::run(args),
        Command::Iolatency(args) => cmd::iolatency::run(args),
        Command::Iosnoop(args) => cmd::iosnoop::run(args),
        Command::Heatmap(args) => cmd::heatmap::run(args),
        Command::Runqlat(args) => cmd::runqlat::run(args),
        Command::Offcputime(args) => cmd::offcputime::run(args),
        Command::Tcpretrans(args) => cmd::tcpretrans::run(args),
        Command::Tcplife(args) => cmd::tcplife::run(args),
        Command::Pmc(args) => cmd::pmc::run(args),
        Command::Showboost(args) => cmd::showboost::run(args),
        Command::Cputemp(args) => cmd::cputemp::run(args),
        Command::Use(args) => cmd::use_method::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("plumb: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
