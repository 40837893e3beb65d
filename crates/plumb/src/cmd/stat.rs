//! `plumb stat` (to be written).

use std::process::ExitCode;

/// Live per-second system metrics.
#[derive(clap::Args)]
pub struct StatArgs {}

pub fn run(_args: StatArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("plumb stat is not written yet")
}
