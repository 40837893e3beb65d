//! `plumb stat`: live per-second tables, the sysstat tools in one.

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use plumb_collect::{Collector, FsRoot, Group, Options, hostname};
use plumb_stat::json::snapshot_json;
use plumb_stat::table::TableWriter;

/// Groups shown when none is named.
const DEFAULT_GROUPS: [Group; 6] = [Group::Cpu, Group::Load, Group::Psi, Group::Mem, Group::Disk, Group::Net];

/// Live per-second system metrics in aligned tables, as vmstat, mpstat, iostat, sar and pidstat.
///
/// Each line covers the INTERVAL before it; the first comes one INTERVAL after start (there is
/// no since-boot line). After COUNT lines, or on Ctrl-C, the table modes print `Average:` lines.
///
/// Groups: cpu (mpstat), percpu (mpstat -P ALL), load (sar -q -w, vmstat r b in cs), psi
/// (pressure stall), mem (sar -r -S), paging (sar -B -W), disk (iostat -x), net (sar -n
/// DEV,EDEV), tcp (sar -n TCP,ETCP,UDP), proc (pidstat -u -r -d, busiest first), all.
/// Default: cpu load psi mem disk net.
///
/// Examples:
///   plumb stat                    default groups every second until Ctrl-C
///   plumb stat disk 5 12          iostat -x every 5 s, 12 times
///   plumb stat --json cpu net 1   one JSON object per second
///   plumb metrics                 every metric with its unit and meaning
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct StatArgs {
    /// One JSON object per interval per line; keys are the metric names of `plumb metrics`.
    #[arg(long)]
    json: bool,
    /// How many processes the proc group shows, busiest first.
    #[arg(long, short = 'n', default_value_t = plumb_collect::DEFAULT_TOP_PROCESSES, value_name = "N")]
    top: usize,
    /// [GROUP...] [INTERVAL [COUNT]]: groups to show, seconds between lines (default 1), lines
    /// to print (default: until Ctrl-C).
    #[arg(value_name = "GROUP|INTERVAL|COUNT", allow_hyphen_values = true)]
    args: Vec<String>,
}

/// What the positional arguments said.
#[derive(Debug, PartialEq)]
struct Plan {
    groups: Vec<Group>,
    interval: Duration,
    count: Option<u64>,
}

fn plan(args: &[String]) -> Result<Plan, String> {
    let mut groups = Vec::new();
    let mut numbers = Vec::new();
    for a in args {
        let numeric = a.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
        if numeric {
            numbers.push(a.as_str());
        } else if !numbers.is_empty() {
            return Err(format!("group {a:?} after INTERVAL: groups come first, as in `plumb stat cpu disk 1 5`"));
        } else if a == "all" {
            groups.extend(Group::ALL);
        } else {
            groups.push(a.parse::<Group>().map_err(|e| e.to_string())?);
        }
    }
    if groups.is_empty() {
        groups.extend(DEFAULT_GROUPS);
    }
    let mut seen = Vec::new();
    groups.retain(|g| {
        if seen.contains(g) {
            false
        } else {
            seen.push(*g);
            true
        }
    });
    let interval = match numbers.first() {
        None => Duration::from_secs(1),
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.1..=86_400.0).contains(&v) => Duration::from_secs_f64(v),
            _ => return Err(format!("bad INTERVAL {s:?}: expected seconds between 0.1 and 86400")),
        },
    };
    let count = match numbers.get(1) {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("bad COUNT {s:?}: expected a whole number above 0")),
        },
    };
    if numbers.len() > 2 {
        return Err(format!("unexpected {:?}: at most INTERVAL and COUNT follow the groups", numbers[2]));
    }
    Ok(Plan { groups, interval, count })
}

pub fn run(args: StatArgs) -> anyhow::Result<ExitCode> {
    let plan = match plan(&args.args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("plumb stat: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;

    let root = FsRoot::default();
    let host = hostname(&root).unwrap_or_else(|| "localhost".into());
    let mut collector = Collector::new(Options { root, groups: plan.groups.clone(), top_processes: args.top });
    let mut table = TableWriter::new(&plan.groups);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();

    let tz = jiff::tz::TimeZone::system();
    let (_, notes) = collector.collect();
    print_notes(&notes);
    let start = Instant::now();
    let mut printed = 0u64;
    loop {
        let deadline = start + plan.interval * (printed as u32 + 1);
        let wait = deadline.saturating_duration_since(Instant::now());
        if stop_rx.recv_timeout(wait).is_ok() {
            break;
        }
        let (snap, notes) = collector.collect();
        print_notes(&notes);
        let ts = jiff::Timestamp::from_millisecond(snap.timestamp_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        if args.json {
            let v = snapshot_json(&snap, &plan.groups, &ts.to_string(), &host);
            writeln!(out, "{v}")?;
        } else {
            let local = ts.to_zoned_datetime(tz.clone()).strftime("%H:%M:%S").to_string();
            out.write_all(table.render(&snap, &local).as_bytes())?;
        }
        out.flush()?;
        printed += 1;
        if plan.count.is_some_and(|c| printed >= c) {
            break;
        }
    }
    if !args.json {
        out.write_all(table.averages().as_bytes())?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("plumb stat: note: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Plan, String> {
        plan(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn groups_then_interval_then_count() {
        let pl = p(&["disk", "cpu", "5", "12"]).unwrap();
        assert_eq!(pl.groups, vec![Group::Disk, Group::Cpu]);
        assert_eq!(pl.interval, Duration::from_secs(5));
        assert_eq!(pl.count, Some(12));
        assert_eq!(p(&[]).unwrap().groups, DEFAULT_GROUPS.to_vec());
        assert_eq!(p(&["all", "cpu"]).unwrap().groups, Group::ALL.to_vec());
        assert_eq!(p(&["0.5"]).unwrap().interval, Duration::from_millis(500));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(p(&["cpus"]).unwrap_err().contains("unknown group"));
        assert!(p(&["0"]).unwrap_err().contains("INTERVAL"));
        assert!(p(&["-1"]).unwrap_err().contains("INTERVAL"));
        assert!(p(&["1", "0"]).unwrap_err().contains("COUNT"));
        assert!(p(&["1", "2.5"]).unwrap_err().contains("COUNT"));
        assert!(p(&["1", "cpu"]).unwrap_err().contains("groups come first"));
        assert!(p(&["1", "2", "3"]).is_err());
    }
}
