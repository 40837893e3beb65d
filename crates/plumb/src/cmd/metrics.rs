//! `plumb metrics`: the metric catalogue.

use std::io::Write;
use std::process::ExitCode;

/// Print the catalogue of every metric plumb collects: group, name, unit, meaning.
///
/// docs/metrics.md is this command's `--markdown` output; a test keeps the two equal.
#[derive(clap::Args)]
pub struct MetricsArgs {
    /// Print the Markdown of docs/metrics.md instead of a plain list.
    #[arg(long)]
    markdown: bool,
    /// Print a JSON array of {group, name, unit, tags, source, help}.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
}

pub fn run(args: MetricsArgs) -> anyhow::Result<ExitCode> {
    let groups = plumb_collect::source::catalogue();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.markdown {
        out.write_all(plumb_model::catalogue_markdown(&groups).as_bytes())?;
    } else if args.json {
        let list: Vec<serde_json::Value> = groups
            .iter()
            .flat_map(|(g, defs)| {
                defs.iter().map(move |d| {
                    serde_json::json!({"group": g, "name": d.name, "unit": d.unit.as_str(),
                        "tags": d.tags, "source": d.source, "help": d.help})
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(list))?;
    } else {
        for (group, defs) in groups {
            for d in defs {
                writeln!(out, "{:<8} {:<28} {:<11} {}", group, d.name, d.unit.as_str(), d.help)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
