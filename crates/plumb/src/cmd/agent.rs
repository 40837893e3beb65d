//! `plumb agent` (to be written).

use std::process::ExitCode;

/// Run the per-instance agent.
#[derive(clap::Args)]
pub struct AgentArgs {}

pub fn run(_args: AgentArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("plumb agent is not written yet")
}
