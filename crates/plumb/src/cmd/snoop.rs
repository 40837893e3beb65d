//! What every snoop tool's subcommand shares once its tool is started: the "Tracing" line,
//! events on standard output, the loss summary on standard error.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use plumb_trace::{RunOptions, Snoop, SnoopEvent};

/// Runs a started snoop tool to the end: a "Tracing WHAT..." line on stderr once attached (tests
/// wait for it), events on stdout, the loss summary on stderr.
pub(crate) fn run_snoop<E: SnoopEvent>(
    mut snoop: Snoop<E>,
    what: &str,
    options: RunOptions,
    stop: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr();
    if !snoop.skipped().is_empty() {
        let _ = writeln!(err, "plumb: not traced (absent in this kernel): {}", snoop.skipped().join(", "));
    }
    let _ = writeln!(err, "Tracing {what}... Hit Ctrl-C to end.");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let summary = snoop.run(&options, stop, &mut out)?;
    let _ = writeln!(err, "{summary}");
    Ok(ExitCode::SUCCESS)
}
