//! `plumb tsdb`: offline tools for a `plumb server` data directory (stopped server only).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plumb_tsdb::db::{Db, DbOptions};
use serde_json::json;

/// Inspect or compact a plumb server's data directory, offline (stop the server first).
///
/// `plumb tsdb stats --data DIR` lists the blocks and the head: series, samples, bytes on disk
/// and bytes per sample. `plumb tsdb compact --data DIR` writes everything the WAL holds into
/// blocks (as Prometheus's snapshot writes its head), so the directory's size is its compacted
/// size; the server refuses samples older than the compacted data afterwards.
#[derive(clap::Args)]
pub struct TsdbArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Blocks, head and bytes per sample of a data directory.
    Stats(DirArgs),
    /// Write the whole head to blocks and shrink the WAL to the series alone.
    Compact(DirArgs),
}

#[derive(clap::Args)]
struct DirArgs {
    /// The data directory (the server's --data).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: TsdbArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Stats(dir) => stats(&dir, &open(&dir)?),
        Action::Compact(dir) => {
            let mut db = open(&dir)?;
            let report = db.flush_head().context("compacting")?;
            if !dir.json {
                eprintln!("plumb tsdb: wrote {} block(s)", report.blocks.len());
            }
            stats(&dir, &db)
        }
    }
}

fn open(dir: &DirArgs) -> anyhow::Result<Db> {
    if !dir.data.is_dir() {
        anyhow::bail!("{} is not a directory", dir.data.display());
    }
    let (db, report) = Db::open(&dir.data, DbOptions::default())
        .with_context(|| format!("opening the store in {}", dir.data.display()))?;
    for (path, reason) in &report.skipped {
        eprintln!("plumb tsdb: skipped block {}: {reason}", path.display());
    }
    Ok(db)
}

fn stats(dir: &DirArgs, db: &Db) -> anyhow::Result<ExitCode> {
    let blocks: Vec<_> = db
        .blocks()
        .iter()
        .map(|b| {
            let m = b.meta();
            json!({"id": m.id, "min_t": m.min_t, "max_t": m.max_t, "series": m.series, "samples": m.samples,
                   "chunks_bytes": m.chunks_file.size, "index_bytes": m.index_file.size, "disk_bytes": b.disk_bytes()})
        })
        .collect();
    let block_samples: u64 = db.blocks().iter().map(|b| b.meta().samples).sum();
    let head_samples = db.sample_count() as u64;
    let disk = db.disk_bytes() + db.wal_bytes();
    let samples = block_samples + head_samples;
    let per_sample = if samples == 0 { 0.0 } else { disk as f64 / samples as f64 };
    if dir.json {
        let v = json!({"blocks": blocks, "head": {"series": db.series_count(), "samples": head_samples,
                        "wal_bytes": db.wal_bytes()}, "samples": samples, "disk_bytes": disk,
                        "bytes_per_sample": per_sample});
        println!("{v}");
    } else {
        println!("{:<27} {:>10} {:>12} {:>13} {:>12}", "block", "series", "samples", "disk bytes", "bytes/sample");
        for b in db.blocks() {
            let m = b.meta();
            let bps = if m.samples == 0 { 0.0 } else { b.disk_bytes() as f64 / m.samples as f64 };
            println!("{:<27} {:>10} {:>12} {:>13} {:>12.3}", m.id, m.series, m.samples, b.disk_bytes(), bps);
        }
        println!("{:<27} {:>10} {:>12} {:>13}", "head (WAL)", db.series_count(), head_samples, db.wal_bytes());
        println!("{:<27} {:>10} {:>12} {:>13} {:>12.3}", "total", "", samples, disk, per_sample);
    }
    Ok(ExitCode::SUCCESS)
}
