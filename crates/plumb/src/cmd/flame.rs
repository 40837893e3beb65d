//! `plumb flame`: flame graphs from profiles made elsewhere or earlier: `diff` two profiles,
//! `collapse` perf script output, `render` any profile in any format.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use plumb_profile::collapse::{CollapseOptions, collapse_perf_script};
use plumb_profile::svg::{DiffOptions, SvgOptions, write_diff_svg};
use plumb_profile::{Profile, read_any};

use super::profile_output::{FormatArg, Output, OutputFormat, write_profile};

/// Largest input profile read, 1 GiB.
const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Flame graphs from existing profiles: compare two, collapse perf script output, render any.
///
/// Inputs may be folded stacks, pprof (gzip or raw profile.proto), speedscope JSON (as plumb
/// writes it) or `perf script` text; the format is recognised from the content.
///
/// Examples:
///   plumb flame diff before.pb.gz after.pb.gz -o diff.svg
///   perf script | plumb flame collapse > out.folded
///   plumb flame render out.folded -o out.svg
///   plumb flame render profile.pb.gz --format speedscope -o profile.json
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct FlameArgs {
    #[command(subcommand)]
    command: FlameCommand,
}

#[derive(clap::Subcommand)]
enum FlameCommand {
    Diff(DiffArgs),
    Collapse(CollapseArgs),
    Render(RenderArgs),
}

/// Differential flame graph of AFTER against BEFORE: frames drawn as in AFTER, red where they
/// grew, blue where they shrank, deeper colour for larger change.
#[derive(clap::Args)]
struct DiffArgs {
    /// The baseline profile.
    before: PathBuf,
    /// The profile to compare with it.
    after: PathBuf,
    /// Output SVG file; `-` is standard output.
    #[arg(short = 'o', long = "output", default_value = "diff.svg", value_name = "FILE")]
    output: PathBuf,
    /// Compare raw counts instead of scaling BEFORE to AFTER's total (by default a profile
    /// twice as long does not paint everything red).
    #[arg(long)]
    no_normalize: bool,
    /// Title of the graph.
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
}

/// Turn `perf script` output into folded stacks (as stackcollapse-perf.pl does).
#[derive(clap::Args)]
struct CollapseArgs {
    /// perf script output; default: standard input.
    input: Option<PathBuf>,
    /// Output file; default: standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Name the root frame comm-PID rather than comm.
    #[arg(long)]
    pid: bool,
    /// Name the root frame comm-PID/TID.
    #[arg(long)]
    tid: bool,
}

/// Render a profile (folded, pprof, speedscope or perf script) as a flame graph or convert it.
#[derive(clap::Args)]
struct RenderArgs {
    /// The profile; `-` or nothing is standard input.
    input: Option<PathBuf>,
    /// Output file; `-` is standard output. Default: profile.svg (or the format's extension).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format (default: from the output file's extension, else svg).
    #[arg(long, value_parser = FormatArg)]
    format: Option<OutputFormat>,
    /// Title of the flame graph.
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
}

pub fn run(args: FlameArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        FlameCommand::Diff(a) => diff(a),
        FlameCommand::Collapse(a) => collapse(a),
        FlameCommand::Render(a) => render(a),
    }
}

fn read_input(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match path.filter(|p| *p != Path::new("-")) {
        Some(p) => {
            let file = std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            file.take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", p.display()))?;
        }
        None => {
            std::io::stdin()
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
        }
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!("the input is over {} MiB", MAX_INPUT_BYTES >> 20);
    }
    Ok(bytes)
}

/// Reads a profile in any format, saying what was skipped.
fn load(path: Option<&Path>) -> anyhow::Result<Profile> {
    let name = path.map_or_else(|| "standard input".to_string(), |p| p.display().to_string());
    let bytes = read_input(path)?;
    let read = read_any(&bytes).with_context(|| format!("cannot read a profile from {name}"))?;
    if !read.bad_lines.is_empty() {
        eprintln!("plumb flame: {name}: skipped {} lines that are not stacks", read.bad_lines.count);
        for bad in read.bad_lines.examples.iter().take(3) {
            eprintln!("plumb flame:   line {}: {}", bad.line_number, bad.reason);
        }
    }
    Ok(read.profile)
}

fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let before = load(Some(&args.before))?;
    let after = load(Some(&args.after))?;
    let options = DiffOptions {
        normalize: !args.no_normalize,
        svg: SvgOptions { title: args.title.clone(), ..SvgOptions::default() },
    };
    let mut bytes = Vec::new();
    write_diff_svg(&before, &after, &options, &mut bytes)?;
    write_bytes(&args.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn collapse(args: CollapseArgs) -> anyhow::Result<ExitCode> {
    let bytes = read_input(args.input.as_deref())?;
    let options =
        CollapseOptions { include_pid: args.pid || args.tid, include_tid: args.tid, ..CollapseOptions::default() };
    let mut folded = Vec::new();
    collapse_perf_script(bytes.as_slice(), &options, &mut folded).context("cannot collapse the perf script output")?;
    match &args.output {
        Some(p) => write_bytes(p, &folded)?,
        None => write_bytes(Path::new("-"), &folded)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let output = Output::choose(args.output.as_deref(), args.format)?;
    let profile = load(args.input.as_deref())?;
    write_profile(&profile, &output, args.title.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
