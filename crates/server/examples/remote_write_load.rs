//! remote_write_load: a deterministic Prometheus remote-write load for the store benchmark
//! (bench/store/run.sh, BENCHMARKS.md).
//!
//! It generates N series (default 100,000) over a time range (default 2 h at a 10 s step) with
//! the shapes a fleet sends: 30% counters (integer increments at rates spread over six orders of
//! magnitude), 30% noisy float gauges, 20% constants, 10% integer gauges (random walks) and 10%
//! sparse series (runs of missing samples). Series are named like node_exporter metrics (50
//! names) and tagged like Atlas (`nf.node` from N/50 nodes, `nf.app`, `nf.cluster`, `nf.asg`,
//! `nf.region`, `nf.zone`). Everything derives from `--seed`, so every target gets the same data.
//!
//! Requests go out in time order, as a real remote-write stream does: for each window of
//! `--samples-per-series` steps, one request per `--batch-series` series. Modes:
//! - `--url URL`: generate and send (snappy protobuf, `POST`), `--concurrency` connections.
//! - `--save FILE`: generate into FILE (u32 length, u32 samples, body; repeated) and send nothing.
//! - `--replay FILE --url URL`: send FILE's bodies, so generation costs the target nothing.
//!
//! The sender counts answers by class (2xx, 4xx, 5xx), retries 5xx and connection failures, and
//! prints one JSON line of totals on stdout. Design decision: the HTTP/1.1 client is a few lines
//! over `std::net::TcpStream` (keep-alive, Content-Length or chunked answers), so the example
//! needs no dependency plumb-server does not already have.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plumb_server::ingest::encode_remote_write;
use plumb_server::ingest::prompb::{Label, Sample, TimeSeries, WriteRequest};

const USAGE: &str = "usage: remote_write_load [--url URL | --save FILE] [--replay FILE] [--series N] \
[--duration-secs S] [--step-secs S] [--end-ms MS] [--batch-series N] [--samples-per-series N] \
[--concurrency N] [--seed N] [--retries N]";

/// Largest body accepted from a `--replay` file, a guard against a corrupt length.
const MAX_BODY: usize = 256 << 20;

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

#[derive(Debug, Clone)]
struct Args {
    url: Option<String>,
    save: Option<String>,
    replay: Option<String>,
    series: usize,
    duration_secs: u64,
    step_secs: u64,
    end_ms: Option<i64>,
    batch_series: usize,
    samples_per_series: usize,
    concurrency: usize,
    seed: u64,
    retries: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            url: None,
            save: None,
            replay: None,
            series: 100_000,
            duration_secs: 7200,
            step_secs: 10,
            end_ms: None,
            batch_series: 2000,
            samples_per_series: 1,
            concurrency: 2,
            seed: 1,
            retries: 20,
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.replace('_', "").parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--url" => a.url = Some(value),
            "--save" => a.save = Some(value),
            "--replay" => a.replay = Some(value),
            "--series" => a.series = num(&value)? as usize,
            "--duration-secs" => a.duration_secs = num(&value)?,
            "--step-secs" => a.step_secs = num(&value)?,
            "--end-ms" => a.end_ms = Some(num(&value)? as i64),
            "--batch-series" => a.batch_series = num(&value)? as usize,
            "--samples-per-series" => a.samples_per_series = num(&value)? as usize,
            "--concurrency" => a.concurrency = num(&value)? as usize,
            "--seed" => a.seed = num(&value)?,
            "--retries" => a.retries = num(&value)? as u32,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if a.series == 0 || a.step_secs == 0 || a.batch_series == 0 || a.samples_per_series == 0 || a.concurrency == 0 {
        return Err(
            "--series, --step-secs, --batch-series, --samples-per-series and --concurrency must be above 0".into()
        );
    }
    if a.url.is_none() == a.save.is_none() {
        return Err(format!("give exactly one of --url and --save\n{USAGE}"));
    }
    Ok(a)
}

/// splitmix64: a tiny, good-enough deterministic generator.
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
    /// Integer increments of about `rate * step` per step.
    Counter {
        rate: f64,
    },
    /// `base + amp * sin(...) + noise`, full-precision floats.
    Gauge {
        base: f64,
        amp: f64,
        period_steps: f64,
        noise: f64,
    },
    Constant(f64),
    /// An integer random walk with steps in `-max..=max`, floored at 0.
    IntGauge {
        max: i64,
    },
    /// A noisy gauge with runs of missing samples: present while in an "up" run.
    Sparse {
        base: f64,
    },
}

struct Series {
    labels: Vec<Label>,
    shape: Shape,
    /// Counter or walk value, or whether a sparse series is in an up run (1.0) or not (0.0).
    state: f64,
}

struct Dataset {
    seed: u64,
    series: Vec<Series>,
    steps: u64,
    step_ms: i64,
    start_ms: i64,
}

impl Dataset {
    fn new(a: &Args) -> Dataset {
        let step_ms = (a.step_secs * 1000) as i64;
        let steps = (a.duration_secs / a.step_secs).max(1);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let end = a.end_ms.unwrap_or(now);
        let end = end - end.rem_euclid(step_ms);
        let start_ms = end - (steps as i64 - 1) * step_ms;
        let series = (0..a.series).map(|i| Self::make_series(a.seed, i)).collect();
        Dataset { seed: a.seed, series, steps, step_ms, start_ms }
    }

    fn make_series(seed: u64, i: usize) -> Series {
        let h = |k: u64| mix(seed ^ mix((i as u64) << 8 | k));
        let node = i / METRICS.len();
        let name = METRICS.get(i % METRICS.len()).copied().unwrap_or("unknown");
        let app = node % 97;
        let label = |k: &str, v: String| Label { name: k.to_string(), value: v };
        let labels = vec![
            label("__name__", name.to_string()),
            label("nf.app", format!("app{app}")),
            label("nf.asg", format!("app{app}-v{:03}", node % 7)),
            label("nf.cluster", format!("app{app}-{}", ["main", "canary", "test"][node % 3])),
            label("nf.node", format!("i-{:016x}", mix(seed ^ node as u64))),
            label("nf.region", ["us-east-1", "us-west-2", "eu-west-1"][node % 3].to_string()),
            label(
                "nf.zone",
                format!("{}{}", ["us-east-1", "us-west-2", "eu-west-1"][node % 3], ["a", "b", "c"][node / 3 % 3]),
            ),
        ];
        let kind = h(1) % 10;
        let shape = match kind {
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
        Series { labels, shape, state }
    }

    /// The value of series `i` at step `t`, or None for a gap; advances the series' state.
    fn sample(&mut self, i: usize, t: u64, step_secs: f64) -> Option<f64> {
        let r = mix(self.seed ^ mix((i as u64) << 24 ^ t));
        let s = self.series.get_mut(i)?;
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
                // Up runs last ~20 steps, down runs ~10; within an up run 10% of samples are lost.
                let flip = if s.state > 0.5 { 0.05 } else { 0.1 };
                if unit(mix(r)) < flip {
                    s.state = 1.0 - s.state;
                }
                (s.state > 0.5 && unit(r) >= 0.1).then(|| (base * (0.5 + unit(mix(r ^ 7))) * 100.0).round() / 100.0)
            }
        }
    }

    /// Every request body in time order, with its sample count, passed to `sink`.
    fn generate(&mut self, a: &Args, mut sink: impl FnMut(Vec<u8>, u64) -> Result<(), String>) -> Result<(), String> {
        let step_secs = a.step_secs as f64;
        let mut t0 = 0;
        while t0 < self.steps {
            let t1 = (t0 + a.samples_per_series as u64).min(self.steps);
            for lo in (0..self.series.len()).step_by(a.batch_series) {
                let hi = (lo + a.batch_series).min(self.series.len());
                let mut req = WriteRequest { timeseries: Vec::with_capacity(hi - lo) };
                let mut count = 0;
                for i in lo..hi {
                    let samples: Vec<Sample> = (t0..t1)
                        .filter_map(|t| {
                            let v = self.sample(i, t, step_secs)?;
                            Some(Sample { value: v, timestamp: self.start_ms + t as i64 * self.step_ms })
                        })
                        .collect();
                    if samples.is_empty() {
                        continue;
                    }
                    count += samples.len() as u64;
                    let labels = self.series.get(i).map(|s| s.labels.clone()).unwrap_or_default();
                    req.timeseries.push(TimeSeries { labels, samples, exemplars: vec![], histograms: vec![] });
                }
                if count > 0 {
                    sink(encode_remote_write(&req).map_err(|e| e.to_string())?, count)?;
                }
            }
            t0 = t1;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Totals {
    requests: AtomicU64,
    samples_ok: AtomicU64,
    samples_4xx: AtomicU64,
    samples_failed: AtomicU64,
    status_2xx: AtomicU64,
    status_4xx: AtomicU64,
    status_5xx: AtomicU64,
    retries: AtomicU64,
    body_bytes: AtomicU64,
}

struct Target {
    host_port: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (host_port, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    Ok(Target { host_port: host_port.to_string(), path })
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(t: &Target) -> std::io::Result<Conn> {
        let s = TcpStream::connect(&t.host_port)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Conn { reader: BufReader::new(s) })
    }

    /// Posts `body`; returns the status and the answer's body (its first 300 bytes as text).
    fn post(&mut self, t: &Target, body: &[u8]) -> std::io::Result<(u16, String)> {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n\
             X-Prometheus-Remote-Write-Version: 0.1.0\r\nUser-Agent: plumb-remote-write-load\r\nContent-Length: {}\r\n\r\n",
            t.path,
            t.host_port,
            body.len()
        );
        let s = self.reader.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 =
            line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
        let (mut len, mut chunked) = (None, false);
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(bad("closed in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    len = v.parse::<usize>().ok();
                } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut answer = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let n =
                    usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).map_err(|_| bad("chunk"))?;
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk)?;
                chunk.truncate(n);
                answer.extend_from_slice(&chunk);
                if n == 0 {
                    break;
                }
            }
        } else if let Some(n) = len {
            answer.resize(n.min(MAX_BODY), 0);
            self.reader.read_exact(&mut answer)?;
        } else if status != 204 && status != 304 {
            return Err(bad("answer without length"));
        }
        Ok((status, String::from_utf8_lossy(answer.get(..300).unwrap_or(&answer)).into_owned()))
    }
}

/// The bodies to send, with their sample counts, shared by the workers.
type Shared = Arc<Mutex<Receiver<(Vec<u8>, u64)>>>;

/// Sends bodies from `rx` until it closes, retrying 5xx and broken connections.
fn worker(t: Arc<Target>, rx: Shared, totals: Arc<Totals>, retries: u32) {
    let mut conn: Option<Conn> = None;
    let mut shown_4xx = 0;
    loop {
        let next = rx.lock().map(|r| r.recv());
        let Ok(Ok((body, count))) = next else { return };
        totals.requests.fetch_add(1, Ordering::Relaxed);
        totals.body_bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        let mut attempt = 0;
        loop {
            let result = match conn.as_mut() {
                Some(c) => c.post(&t, &body),
                None => Conn::open(&t).and_then(|mut c| {
                    let r = c.post(&t, &body);
                    conn = Some(c);
                    r
                }),
            };
            match result {
                Ok((s, _)) if (200..300).contains(&s) => {
                    totals.status_2xx.fetch_add(1, Ordering::Relaxed);
                    totals.samples_ok.fetch_add(count, Ordering::Relaxed);
                    break;
                }
                Ok((s, answer)) if (400..500).contains(&s) => {
                    totals.status_4xx.fetch_add(1, Ordering::Relaxed);
                    totals.samples_4xx.fetch_add(count, Ordering::Relaxed);
                    if shown_4xx < 3 {
                        shown_4xx += 1;
                        eprintln!("remote_write_load: {s}: {}", answer.trim());
                    }
                    break;
                }
                other => {
                    if let Ok((s, answer)) = &other {
                        totals.status_5xx.fetch_add(1, Ordering::Relaxed);
                        eprintln!("remote_write_load: {s}: {}", answer.trim());
                    } else if let Err(e) = &other {
                        eprintln!("remote_write_load: {e}");
                    }
                    conn = None;
                    attempt += 1;
                    if attempt > retries {
                        totals.samples_failed.fetch_add(count, Ordering::Relaxed);
                        break;
                    }
                    totals.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100 << attempt.min(5)));
                }
            }
        }
    }
}

/// Reads `(body, samples)` records from a `--save` file into `tx`.
fn replay(path: &str, tx: &SyncSender<(Vec<u8>, u64)>) -> Result<(), String> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| format!("{path}: {e}"))?);
    let mut head = [0u8; 8];
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(format!("{path}: {e}")),
        }
        let [a, b, c, d, e, f, g, h] = head;
        let len = u32::from_le_bytes([a, b, c, d]) as usize;
        let count = u32::from_le_bytes([e, f, g, h]) as u64;
        if len > MAX_BODY {
            return Err(format!("{path}: corrupt record length {len}"));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).map_err(|e| format!("{path}: {e}"))?;
        tx.send((body, count)).map_err(|_| "the senders stopped".to_string())?;
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("remote_write_load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let a = parse_args()?;
    let started = Instant::now();
    if let Some(path) = &a.save {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| format!("{path}: {e}"))?);
        let (mut requests, mut samples, mut bytes) = (0u64, 0u64, 0u64);
        let mut ds = Dataset::new(&a);
        let start_ms = ds.start_ms;
        ds.generate(&a, |body, count| {
            requests += 1;
            samples += count;
            bytes += body.len() as u64;
            out.write_all(&(body.len() as u32).to_le_bytes())
                .and_then(|()| out.write_all(&(count as u32).to_le_bytes()))
                .and_then(|()| out.write_all(&body))
                .map_err(|e| format!("{path}: {e}"))
        })?;
        out.flush().map_err(|e| format!("{path}: {e}"))?;
        let secs = started.elapsed().as_secs_f64();
        // A probe series for restart checks: node_load1 (metric 5) on the first node.
        let label = |k: &str| {
            ds.series.get(5).and_then(|s| s.labels.iter().find(|l| l.name == k)).map_or("", |l| l.value.as_str())
        };
        println!(
            "{{\"mode\":\"save\",\"probe_name\":\"{}\",\"probe_node\":\"{}\",\"series\":{},\"requests\":{requests},\"samples\":{samples},\"body_bytes\":{bytes},\
             \"start_ms\":{start_ms},\"end_ms\":{},\"seconds\":{secs:.3},\"samples_per_sec\":{:.0}}}",
            label("__name__"),
            label("nf.node"),
            a.series,
            start_ms + (ds.steps as i64 - 1) * ds.step_ms,
            samples as f64 / secs
        );
        return Ok(());
    }
    let target = Arc::new(parse_url(a.url.as_deref().unwrap_or(""))?);
    let totals = Arc::new(Totals::default());
    let (tx, rx) = sync_channel::<(Vec<u8>, u64)>(a.concurrency * 4);
    let rx = Arc::new(Mutex::new(rx));
    let workers: Vec<_> = (0..a.concurrency)
        .map(|_| {
            let (t, rx, totals) = (target.clone(), rx.clone(), totals.clone());
            std::thread::spawn(move || worker(t, rx, totals, a.retries))
        })
        .collect();
    let produced = match &a.replay {
        Some(path) => replay(path, &tx),
        None => {
            Dataset::new(&a).generate(&a, |body, count| tx.send((body, count)).map_err(|_| "senders stopped".into()))
        }
    };
    drop(tx);
    for w in workers {
        let _ = w.join();
    }
    produced?;
    let secs = started.elapsed().as_secs_f64();
    let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "{{\"mode\":\"send\",\"url\":\"{}\",\"requests\":{},\"samples_ok\":{},\"samples_4xx\":{},\"samples_failed\":{},\
         \"status_2xx\":{},\"status_4xx\":{},\"status_5xx\":{},\"retries\":{},\"body_bytes\":{},\"seconds\":{secs:.3},\
         \"samples_per_sec\":{:.0}}}",
        a.url.as_deref().unwrap_or(""),
        g(&totals.requests),
        g(&totals.samples_ok),
        g(&totals.samples_4xx),
        g(&totals.samples_failed),
        g(&totals.status_2xx),
        g(&totals.status_4xx),
        g(&totals.status_5xx),
        g(&totals.retries),
        g(&totals.body_bytes),
        g(&totals.samples_ok) as f64 / secs
    );
    if g(&totals.samples_failed) > 0 || g(&totals.status_4xx) > 0 {
        return Err("some requests were refused or failed (see the counts)".into());
    }
    Ok(())
}
