//! `plumb metrics`: the metric catalogue.

use std::process::ExitCode;

/// Print the catalogue of every metric plumb collects.
#[derive(clap::Args)]
pub struct MetricsArgs {
    /// Print the Markdown of docs/metrics.md instead of a plain list.
    #[arg(long)]
    markdown: bool,
}

pub fn run(args: MetricsArgs) -> anyhow::Result<ExitCode> {
    let groups = plumb_collect::source::catalogue();
    if args.markdown {
        print!("{}", plumb_model::catalogue_markdown(&groups));
    } else {
        for (group, defs) in groups {
            for d in defs {
                println!("{:<8} {:<28} {:<11} {}", group, d.name, d.unit.as_str(), d.help);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
