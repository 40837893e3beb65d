//! `plumb use`: Brendan Gregg's USE method, Utilization, Saturation and Errors of every resource
//! measured over an interval, with thresholds that flag a problem. The checklist, evaluation and
//! rendering live in plumb-use; this module parses arguments and drives the collector.
//!
//! Design decision: the first collection only primes the counters, so each report covers exactly
//! the INTERVAL after the previous one, as `plumb stat` does; `plumb use 5` waits 5 s before it
//! says anything.

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use plumb_collect::{Collector, FsRoot, Options};

/// The USE method: utilization, saturation and errors of every resource, with thresholds.
///
/// Measures over INTERVAL seconds (default 1) and prints one report: for all CPUs and each CPU,
/// memory, swap, each disk, each network interface, TCP, file handles and the pressure stall
/// signals, the three answers with the metric each comes from. `!` marks a value past its
/// threshold; n/a cells say why beneath the table. With COUNT (or --count) it repeats, each
/// report covering the INTERVAL after the previous one, as iostat does.
///
/// Examples:
///   plumb use              one report over 1 s
///   plumb use 5            one report over 5 s
///   plumb use 1 10         ten reports, one a second
///   plumb use --json       the same as one JSON object per report
#[derive(clap::Args)]
#[command(verbatim_doc_comment, after_long_help = plumb_use::checklist_help(100))]
pub struct UseArgs {
    /// One JSON object per report per line: every cell with its metric, unit, value, threshold
    /// and flag, and the reason for each n/a.
    #[arg(long)]
    json: bool,
    /// Reports to print (default 1); the same as the COUNT argument.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    count: Option<u64>,
    /// Seconds to measure over, 0.1 to 86400.
    #[arg(value_name = "INTERVAL", default_value = "1", value_parser = parse_interval)]
    interval: Duration,
    /// Reports to print (default 1).
    #[arg(value_name = "COUNT", value_parser = parse_count)]
    count_arg: Option<u64>,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=86_400.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err("expected seconds between 0.1 and 86400".into()),
    }
}

fn parse_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number above 0".into()),
    }
}

pub fn run(args: UseArgs) -> anyhow::Result<ExitCode> {
    let count = match (args.count, args.count_arg) {
        (Some(a), Some(b)) if a != b => {
            eprintln!("plumb use: --count {a} and COUNT {b} disagree; give one");
            return Ok(ExitCode::from(2));
        }
        (a, b) => a.or(b).unwrap_or(1),
    };
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;

    let options = Options { root: FsRoot::default(), groups: plumb_use::GROUPS.to_vec(), top_processes: 0 };
    let mut collector = Collector::new(options);
    let tz = jiff::tz::TimeZone::system();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();

    // Notes (a source this kernel lacks) also show as n/a in the report, with their reason.
    let (_, notes) = collector.collect();
    print_notes(&notes);
    let start = Instant::now();
    for done in 0..count {
        let deadline = start + args.interval.mul_f64((done + 1) as f64);
        if stop_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok() {
            break;
        }
        let (snap, notes) = collector.collect();
        print_notes(&notes);
        let report = plumb_use::evaluate(&snap);
        let ts = jiff::Timestamp::from_millisecond(snap.timestamp_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        if args.json {
            writeln!(out, "{}", plumb_use::json::report_json(&report, &ts.to_string()))?;
        } else {
            if done > 0 {
                writeln!(out)?;
            }
            let local = ts.to_zoned_datetime(tz.clone()).strftime("%H:%M:%S").to_string();
            out.write_all(plumb_use::table::render(&report, &local).as_bytes())?;
        }
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("plumb use: note: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        assert_eq!(parse_interval("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_interval("0").is_err() && parse_interval("-1").is_err() && parse_interval("x").is_err());
        assert_eq!(parse_count("3"), Ok(3));
        assert!(parse_count("0").is_err() && parse_count("1.5").is_err());
    }
}
