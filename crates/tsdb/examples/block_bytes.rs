//! block_bytes: bytes per sample of a compacted block on the store benchmark's data set.
//!
//! `cargo run --release -p plumb-tsdb --example block_bytes -- [--series N] [--seed N]` generates
//! the series of `crates/server/examples/remote_write_load.rs` (the same shapes, rates, tags and
//! gaps: 30% counters, 30% noisy float gauges, 20% constants, 10% integer walks, 10% sparse
//! 2-decimal gauges; 2 h at a 10 s step), appends them into head-sized XOR chunks as the head
//! does, writes them with `BlockWriter::write` into a temporary directory and prints one JSON
//! object: the block's samples, series and bytes per file, bytes per sample in all and per file,
//! and the same per shape (each shape's series written as a block of their own).
//!
//! Design decision: the formulas are copied from the load generator rather than shared with it,
//! so this crate needs no dependency on the server; the distributions match, the hash mixing
//! need not (it does here, as the copy is verbatim).

use std::path::Path;

use plumb_tsdb::SeriesTags;
use plumb_tsdb::block::{Block, BlockWriter};
use plumb_tsdb::chunkenc::XorChunk;

const METRICS: [&str; 50] = [
    "node_cpu_user_seconds_total",
    "node_cpu_system_seconds_total",
    "node_cpu_iowait_seconds_total",
    "node_cpu_idle_seconds_total",
    "node_cpu_steal_seconds_total",
    "node_load1",
    "node_load5",
    "node_load15",
    "node_memory_mem_total_bytes",
    "node_memory_mem_free_bytes",
    "node_memory_mem_available_bytes",
    "node_memory_cached_bytes",
    "node_memory_buffers_bytes",
    "node_memory_swap_total_bytes",
    "node_memory_dirty_bytes",
    "node_disk_reads_completed_total",
    "node_disk_writes_completed_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_io_time_seconds_total",
    "node_disk_io_now",
    "node_filesystem_size_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_files_free",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_receive_packets_total",
    "node_network_transmit_packets_total",
    "node_network_receive_errs_total",
    "node_network_mtu_bytes",
    "node_netstat_tcp_curr_estab",
    "node_netstat_tcp_retrans_segs_total",
    "node_sockstat_tcp_inuse",
    "node_context_switches_total",
    "node_intr_total",
    "node_forks_total",
    "node_procs_running",
    "node_procs_blocked",
    "node_boot_time_seconds",
    "node_time_seconds",
    "node_entropy_available_bits",
    "node_filefd_allocated",
    "node_filefd_maximum",
    "node_vmstat_pgfault_total",
    "node_vmstat_pgmajfault_total",
    "node_pressure_cpu_waiting_seconds_total",
    "node_pressure_memory_stalled_seconds_total",
    "jvm_gc_pause_seconds",
    "http_server_requests_inflight",
    "http_server_request_latency_seconds",
];

/// 2 h at a 10 s step.
const STEPS: u64 = 720;
const STEP_MS: i64 = 10_000;
const START_MS: i64 = 1_700_000_000_000;

/// splitmix64, as the load generator mixes.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform float in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Counter { rate: f64 },
    Gauge { base: f64, amp: f64, period_steps: f64, noise: f64 },
    Constant(f64),
    IntGauge { max: i64 },
    Sparse { base: f64 },
}

impl Shape {
    const NAMES: [&str; 5] = ["counter", "gauge", "constant", "int_walk", "sparse"];

    fn kind(&self) -> usize {
        match self {
            Shape::Counter { .. } => 0,
            Shape::Gauge { .. } => 1,
            Shape::Constant(_) => 2,
            Shape::IntGauge { .. } => 3,
            Shape::Sparse { .. } => 4,
        }
    }
}

struct Series {
    tags: SeriesTags,
    shape: Shape,
    state: f64,
}

fn make_series(seed: u64, i: usize) -> Series {
    let h = |k: u64| mix(seed ^ mix((i as u64) << 8 | k));
    let node = i / METRICS.len();
    let name = METRICS[i % METRICS.len()];
    let app = node % 97;
    let region = ["us-east-1", "us-west-2", "eu-west-1"][node % 3];
    let pairs = [
        ("name", name.to_string()),
        ("nf.app", format!("app{app}")),
        ("nf.asg", format!("app{app}-v{:03}", node % 7)),
        ("nf.cluster", format!("app{app}-{}", ["main", "canary", "test"][node % 3])),
        ("nf.node", format!("i-{:016x}", mix(seed ^ node as u64))),
        ("nf.region", region.to_string()),
        ("nf.zone", format!("{region}{}", ["a", "b", "c"][node / 3 % 3])),
    ];
    let tags = SeriesTags::new(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        .unwrap_or_else(|e| panic!("generated tags are valid: {e}"));
    let shape = match h(1) % 10 {
        0..=2 => Shape::Counter { rate: 10f64.powf(unit(h(2)) * 6.0 - 2.0) },
        3..=5 => {
            let base = 10f64.powf(unit(h(2)) * 8.0 - 2.0);
            Shape::Gauge {
                base,
                amp: base * 0.3 * unit(h(3)),
                period_steps: 30.0 + 700.0 * unit(h(4)),
                noise: base * 0.05,
            }
        }
        6 | 7 => Shape::Constant([0.0, 1.0, 4096.0, 1_700_000_000.0, 16_777_216.0, 1500.0][(h(2) % 6) as usize]),
        8 => Shape::IntGauge { max: 1 + (h(2) % 50) as i64 },
        _ => Shape::Sparse { base: 10f64.powf(unit(h(2)) * 4.0) },
    };
    let state = match shape {
        Shape::Counter { rate } => (rate * 1000.0 * unit(h(5))).round(),
        Shape::IntGauge { max } => (max * 20) as f64,
        Shape::Sparse { .. } => 1.0,
        _ => 0.0,
    };
    Series { tags, shape, state }
}

/// The value of series `i` at step `t`, or None for a gap; advances the series' state.
fn sample(seed: u64, s: &mut Series, i: usize, t: u64, step_secs: f64) -> Option<f64> {
    let r = mix(seed ^ mix((i as u64) << 24 ^ t));
    match s.shape {
        Shape::Counter { rate } => {
            s.state += (rate * step_secs * (0.5 + unit(r))).round();
            Some(s.state)
        }
        Shape::Gauge { base, amp, period_steps, noise } => {
            let phase = std::f64::consts::TAU * t as f64 / period_steps;
            Some(base + amp * phase.sin() + noise * (unit(r) - 0.5))
        }
        Shape::Constant(v) => Some(v),
        Shape::IntGauge { max } => {
            s.state = (s.state + (r % (2 * max as u64 + 1)) as f64 - max as f64).max(0.0);
            Some(s.state)
        }
        Shape::Sparse { base } => {
            let flip = if s.state > 0.5 { 0.05 } else { 0.1 };
            if unit(mix(r)) < flip {
                s.state = 1.0 - s.state;
            }
            (s.state > 0.5 && unit(r) >= 0.1).then(|| (base * (0.5 + unit(mix(r ^ 7))) * 100.0).round() / 100.0)
        }
    }
}

/// A series' samples in head-sized XOR chunks, cut as the head cuts them.
fn head_chunks(seed: u64, s: &mut Series, i: usize) -> Vec<XorChunk> {
    let mut out = vec![XorChunk::new()];
    for t in 0..STEPS {
        let Some(v) = sample(seed, s, i, t, STEP_MS as f64 / 1000.0) else { continue };
        let ts = START_MS + t as i64 * STEP_MS;
        let full = out.last_mut().is_none_or(|c| c.append(ts, v).is_err());
        if full {
            let mut c = XorChunk::new();
            c.append(ts, v).unwrap_or_else(|e| panic!("a new chunk takes a sample: {e}"));
            out.push(c);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// What one block costs.
struct Figures {
    series: u64,
    samples: u64,
    chunks_count: u64,
    chunks: u64,
    index: u64,
    meta: u64,
}

impl Figures {
    fn total(&self) -> u64 {
        self.chunks + self.index + self.meta
    }

    fn per(&self, b: u64) -> f64 {
        b as f64 / self.samples.max(1) as f64
    }

    fn json(&self) -> String {
        format!(
            "{{\"series\": {}, \"samples\": {}, \"chunk_records\": {}, \"chunks_bytes\": {}, \"index_bytes\": {}, \
             \"meta_bytes\": {}, \"total_bytes\": {}, \"bytes_per_sample\": {:.4}, \"chunks_per_sample\": {:.4}, \
             \"index_per_sample\": {:.4}, \"meta_per_sample\": {:.4}}}",
            self.series,
            self.samples,
            self.chunks_count,
            self.chunks,
            self.index,
            self.meta,
            self.total(),
            self.per(self.total()),
            self.per(self.chunks),
            self.per(self.index),
            self.per(self.meta),
        )
    }
}

/// Writes `series` as one block under `dir` and measures it (opening it checks every byte).
fn measure(dir: &Path, series: Vec<(SeriesTags, Vec<XorChunk>)>) -> Figures {
    let meta = BlockWriter::write(dir, series).unwrap_or_else(|e| panic!("writing the block: {e}"));
    let block = Block::open(&dir.join(&meta.id)).unwrap_or_else(|e| panic!("opening the block: {e}"));
    let total = block.disk_bytes();
    Figures {
        series: meta.series,
        samples: meta.samples,
        chunks_count: meta.chunks,
        chunks: meta.chunks_file.size,
        index: meta.index_file.size,
        meta: total - meta.chunks_file.size - meta.index_file.size,
    }
}

fn main() {
    let mut n = 20_000usize;
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), value) {
            ("--series", Some(v)) => n = v as usize,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: block_bytes [--series N] [--seed N]");
                std::process::exit(2);
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
    let mut all = Vec::with_capacity(n);
    let mut by_shape: [Vec<(SeriesTags, Vec<XorChunk>)>; 5] = Default::default();
    for i in 0..n {
        let mut s = make_series(seed, i);
        let chunks = head_chunks(seed, &mut s, i);
        if chunks.is_empty() {
            continue;
        }
        by_shape[s.shape.kind()].push((s.tags.clone(), chunks.clone()));
        all.push((s.tags, chunks));
    }
    let started = std::time::Instant::now();
    let whole = measure(&tmp.path().join("all"), all);
    let write_secs = started.elapsed().as_secs_f64();
    let shapes: Vec<String> = by_shape
        .into_iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(k, s)| {
            let f = measure(&tmp.path().join(Shape::NAMES[k]), s);
            format!("    \"{}\": {}", Shape::NAMES[k], f.json())
        })
        .collect();
    println!(
        "{{\n  \"block\": {},\n  \"write_and_open_seconds\": {write_secs:.2},\n  \"shapes\": {{\n{}\n  }}\n}}",
        whole.json(),
        shapes.join(",\n")
    );
}
