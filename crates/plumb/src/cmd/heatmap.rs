//! `plumb heatmap`: latency heat maps (Gregg's HeatMap) of block I/O or run-queue latency. The
//! histograms come from `plumb_trace::iolatency` or `plumb_trace::runqlat`, one per second
//! (`plumb_trace::record_columns`); `plumb_trace::HeatMap` draws them as SVG.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plumb_trace::{BlockDev, HeatMap, IO_SLOTS, IolatencyOptions, io_slot_bounds_us, runq_slot_bounds};

/// Which latency to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// Block I/O latency (block_rq_issue, or with -Q block_rq_insert, to block_rq_complete).
    Io,
    /// Run-queue latency (wakeup or preemption to running).
    Runq,
}

/// Draw a latency heat map: time across (one column per second), latency up (log2 rows),
/// colour for the number of events in each cell, as in Brendan Gregg's latency heat maps.
///
/// The histograms are counted in the kernel (as by `plumb iolatency` and `plumb runqlat`) and
/// read once a second for SECONDS seconds, or until Ctrl-C; each cell's tooltip gives its count.
/// Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.
///
/// Examples:
///   plumb heatmap io -d 30 -o io.svg              block I/O latency for 30 s
///   plumb heatmap io --disk vda -Q -o io.svg      one disk, with queue time, until Ctrl-C
///   plumb heatmap runq -d 10 -o runq.svg          run-queue latency for 10 s
///   plumb heatmap runq -n postgres -d 10 -o r.svg --json   threads named *postgres*, and the matrix
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct HeatmapArgs {
    /// What to draw.
    #[arg(value_enum)]
    source: Source,
    /// Seconds to record (default: until Ctrl-C, at most a day).
    #[arg(short = 'd', long = "duration", value_name = "SECONDS")]
    seconds: Option<u64>,
    /// The SVG file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE.svg")]
    output: PathBuf,
    /// io: only this disk (a name under /sys/class/block).
    #[arg(long = "disk", value_name = "DEV")]
    disk: Option<String>,
    /// io: include the time queued in the I/O scheduler.
    #[arg(short = 'Q', long = "queued")]
    queued: bool,
    /// Only this process: runq, its threads' waits; io, I/O issued while it was on CPU.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only threads whose name contains this (at most 15 bytes): runq as `plumb runqlat -n`,
    /// io as `plumb iolatency -n` (the thread on CPU at issue, or with -Q at insert).
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// Also print the per-second histogram matrix as one JSON object on standard output:
    /// seconds, buckets (low_us, high_us exclusive), counts per second, total, lost.
    #[arg(long)]
    json: bool,
}

/// The longest recording when no duration is given.
const DAY_SECONDS: u64 = 86_400;

fn ms(us: u64) -> String {
    format!("{}", us as f64 / 1000.0)
}

/// A runq slot's bounds with the high end exclusive (bcc prints it inclusive), `None` for the
/// last slot.
fn runq_bounds_exclusive(slot: usize) -> (u64, Option<u64>) {
    let (low, high) = runq_slot_bounds(slot);
    (low, high.checked_add(1))
}

/// Runs `plumb heatmap`.
pub fn run(args: HeatmapArgs) -> anyhow::Result<ExitCode> {
    let seconds = args.seconds.unwrap_or(DAY_SECONDS);
    if seconds == 0 {
        anyhow::bail!("-d SECONDS must be at least 1");
    }
    if args.comm.as_ref().is_some_and(|c| c.is_empty() || c.len() > 15) {
        anyhow::bail!("-n COMM must be 1 to 15 bytes (a thread name's length)");
    }
    let stop = super::stopping::stop_on_ctrl_c()?;
    let mut err = std::io::stderr();
    let named = args.comm.as_ref().map_or_else(String::new, |c| format!(" of threads named *{c}*"));
    let (map, lost) = match args.source {
        Source::Io => {
            let device = args.disk.as_deref().map(BlockDev::resolve).transpose().context("--disk")?;
            let options = IolatencyOptions { device, queued: args.queued, pid: args.pid, comm: args.comm.clone() };
            let tool = plumb_trace::iolatency(&options)?;
            let _ = writeln!(err, "Tracing block I/O latency... Hit Ctrl-C to end.");
            let columns = plumb_trace::record_columns(|| Ok(tool.snapshot()?.slots), seconds, &stop)?;
            let row_labels = (0..IO_SLOTS)
                .map(|slot| match io_slot_bounds_us(slot) {
                    (low, Some(high)) => format!("{}-{} ms", ms(low), ms(high)),
                    (low, None) => format!(">= {} ms", ms(low)),
                })
                .collect();
            let on = args.disk.map_or_else(String::new, |d| format!(" on {d}"));
            let queued = if args.queued { ", including queue time" } else { "" };
            let title = format!("Block I/O latency{on}{named}{queued}");
            (HeatMap { title, unit: "I/O".to_string(), columns, row_labels }, tool.drops()?.total())
        }
        Source::Runq => {
            let tool = plumb_trace::runqlat_named(args.pid, args.comm.as_deref())?;
            let _ = writeln!(err, "Tracing run queue latency... Hit Ctrl-C to end.");
            let columns = plumb_trace::record_columns(|| Ok(tool.snapshot()?.histogram.slots), seconds, &stop)?;
            let slots = columns.iter().map(Vec::len).max().unwrap_or(0);
            let row_labels = (0..slots)
                .map(|slot| {
                    let (low, high) = runq_slot_bounds(slot);
                    format!("{low}-{high} us")
                })
                .collect();
            let title = format!("Run-queue latency{named}");
            (HeatMap { title, unit: "wakeups".to_string(), columns, row_labels }, tool.snapshot()?.drops.total())
        }
    };
    std::fs::write(&args.output, map.svg()).with_context(|| format!("writing {}", args.output.display()))?;
    let total: u64 = map.columns.iter().flatten().sum();
    let _ = writeln!(
        err,
        "Wrote {} ({} s, {total} {}, {lost} lost (table full))",
        args.output.display(),
        map.columns.len(),
        map.unit
    );
    if args.json {
        let mut summary = match args.source {
            Source::Io => map.json(io_slot_bounds_us, lost),
            Source::Runq => map.json(runq_bounds_exclusive, lost),
        };
        summary["source"] = serde_json::json!(match args.source {
            Source::Io => "io",
            Source::Runq => "runq",
        });
        summary["output"] = serde_json::json!(args.output.display().to_string());
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
