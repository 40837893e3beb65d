//! End-to-end tests of `plumb agent`: the real binary on 127.0.0.1 port 0, scraped over a real
//! socket, publishing to a small HTTP receiver run by the test (std only).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers: a temp dir, the agent process, raw HTTP.

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "plumb-agent-test-{name}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `plumb agent` with the environment cleaned of anything that configures it.
fn agent_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumb"));
    cmd.arg("agent").args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if ["PLUMB_", "NF_", "NETFLIX_", "EC2_"].iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// A running agent and the lines it has written to stderr.
struct Agent {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Agent {
    /// Starts the agent with `--listen 127.0.0.1:0` and `args`; waits for the line giving its port.
    fn start(args: &[&str]) -> Agent {
        let mut cmd = agent_command(&[&["--listen", "127.0.0.1:0"], args].concat());
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut agent = Agent { child, port: 0, lines, seen: Vec::new() };
        let line = agent.wait_for_line("listening on http://", Duration::from_secs(10));
        let addr = line.rsplit("http://").next().unwrap();
        agent.port = addr.rsplit(':').next().unwrap().parse().unwrap();
        agent
    }

    /// The first stderr line containing `needle`, waiting up to `timeout`.
    fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no stderr line with {needle:?} within {timeout:?}; got {:#?}", self.seen);
    }

    fn metrics(&self) -> String {
        let (status, _, body) = http_get(self.port, "/metrics");
        assert_eq!(status, 200);
        body
    }

    /// The value of an unlabelled-by-series agent metric in the current `/metrics`.
    fn metric(&self, name: &str) -> f64 {
        let body = self.metrics();
        parse_exposition(&body)
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
            .value
    }

    /// Sends SIGTERM and waits for the exit; returns the status and the closing summary
    /// (cycles, datapoints handed to the publisher, batches left in the spool).
    fn stop(mut self) -> (ExitStatus, (u64, u64, u64)) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("agent did not stop within 10 s of SIGTERM");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let line = self.wait_for_line("stopped after", Duration::from_secs(2));
        let numbers: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
        assert_eq!(numbers.len(), 3, "{line}");
        (status, (numbers[0], numbers[1], numbers[2]))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `path` over a fresh connection; (status, headers, body).
fn http_get(port: u16, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a whole response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

// ---------------------------------------------------------------------------------------------
// The exposition format, checked strictly.

struct Line {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses a text exposition body, asserting the format: `# HELP` and `# TYPE` once per family
/// before its samples, samples of a family together, `name{k="v",...} value` lines.
fn parse_exposition(body: &str) -> Vec<Line> {
    let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = Vec::new();
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut current = String::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(helped.insert(name.to_string()), "HELP twice for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(typed.insert(name.to_string()), "family {name} appears twice (not grouped)");
            current = name.to_string();
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value in {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, parse_labels(rest.strip_suffix('}').unwrap_or_else(|| panic!("{line:?}")))),
            None => (series, BTreeMap::new()),
        };
        assert!(name_ok(name), "bad metric name in {line:?}");
        assert_eq!(name, current, "sample outside its family: {line:?}");
        assert!(labels.keys().all(|k| name_ok(k)), "bad label name in {line:?}");
        out.push(Line { name: name.to_string(), labels, value });
    }
    out
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {key} not quoted in {s:?}");
        let mut v = String::new();
        loop {
            match chars.next().unwrap_or_else(|| panic!("unclosed value in {s:?}")) {
                '\\' => match chars.next() {
                    Some('n') => v.push('\n'),
                    Some(c @ ('\\' | '"')) => v.push(c),
                    c => panic!("bad escape {c:?} in {s:?}"),
                },
                '"' => break,
                c => v.push(c),
            }
        }
        assert!(out.insert(key.clone(), v).is_none(), "label {key} twice in {s:?}");
        match chars.next() {
            None | Some(',') => {}
            Some(c) => panic!("junk {c:?} after a label in {s:?}"),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A publish receiver: speaks enough HTTP/1.1 (keep-alive, Content-Length) to take POSTs.

struct Receiver {
    stop: Arc<AtomicBool>,
    bodies: Arc<Mutex<Vec<Value>>>,
    handle: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `port`, answering every publish with `status` and `reply`.
    fn start(port: u16, status: u16, reply: &'static str) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the receiver's port was taken meanwhile");
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (stop2, bodies2) = (stop.clone(), bodies.clone());
        let handle = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let bodies = bodies2.clone();
                        thread::spawn(move || serve_connection(conn, status, reply, &bodies));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver { stop, bodies, handle: Some(handle) }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve_connection(conn: TcpStream, status: u16, reply: &str, bodies: &Mutex<Vec<Value>>) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        assert!(request_line.starts_with("POST /api/v1/publish "), "{request_line:?}");
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
                assert!(!k.eq_ignore_ascii_case("transfer-encoding"), "expected a Content-Length body");
            }
        }
        assert!(length <= 64 << 20);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        bodies.lock().unwrap().push(serde_json::from_slice(&body).expect("publish body is JSON"));
        let reason = if status < 300 { "OK" } else { "Bad Request" };
        let resp = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// Every datapoint in `bodies`: (series key, timestamp), in arrival order, checking that each
/// body has Atlas's shape and carries `node` as its `nf.node`.
fn datapoints(bodies: &[Value], node: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for b in bodies {
        assert_eq!(b["tags"]["nf.node"], node, "common tags on {b}");
        for m in b["metrics"].as_array().expect("metrics array") {
            let tags = m["tags"].as_object().expect("tags object");
            assert!(tags.get("name").is_some_and(Value::is_string), "{m}");
            assert!(m["value"].is_number(), "{m}");
            let key: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
            out.push((key.join(","), m["timestamp"].as_i64().expect("timestamp")));
        }
    }
    out
}

/// Asserts that `points` are exactly the datapoints of `cycles` cycles and `expected` datapoints:
/// none twice, every series in timestamp order, one timestamp per cycle.
fn assert_exactly_once_in_order(points: &[(String, i64)], expected: u64, cycles: u64) {
    assert_eq!(points.len() as u64, expected, "datapoints received vs handed to the publisher");
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (series, ts) in points {
        if let Some(prev) = last.insert(series, *ts) {
            assert!(*ts > prev, "{series}: {ts} after {prev} (duplicate or out of order)");
        }
    }
    let stamps: HashSet<i64> = points.iter().map(|(_, t)| *t).collect();
    assert_eq!(stamps.len() as u64, cycles, "one timestamp per cycle");
    assert!(stamps.iter().all(|t| t % 1000 == 0), "timestamps on second boundaries");
}

/// Waits (bounded) until the agent's spool is empty and `receiver` has had something.
fn wait_drained(agent: &Agent, receiver: &Receiver, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if !receiver.bodies().is_empty() && agent.metric("plumb_agent_spool_batches") == 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "spool not drained within {timeout:?}");
        thread::sleep(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn metrics_endpoint_serves_prometheus_exposition() {
    let mut agent = Agent::start(&["--tag", "nf.node=test-node-1", "--tag", "nf.app=plumbtest"]);
    let deadline = Instant::now() + Duration::from_secs(8);
    let body = loop {
        let (status, head, body) = http_get(agent.port, "/metrics");
        assert_eq!(status, 200);
        assert!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
        if body.lines().any(|l| l.starts_with("cpu_user{")) {
            break body;
        }
        assert!(Instant::now() < deadline, "cpu_user never appeared:\n{body}");
        thread::sleep(Duration::from_millis(250));
    };
    let lines = parse_exposition(&body);
    assert!(lines.len() > 20, "only {} series", lines.len());
    for l in &lines {
        assert_eq!(l.labels.get("nf_node").map(String::as_str), Some("test-node-1"), "{}", l.name);
        assert_eq!(l.labels.get("nf_app").map(String::as_str), Some("plumbtest"), "{}", l.name);
    }
    let value = |n: &str| lines.iter().find(|l| l.name == n).unwrap_or_else(|| panic!("{n} missing")).value;
    assert!((0.0..=100.0).contains(&value("cpu_user")));
    assert!(value("plumb_agent_collect_cycles_total") >= 2.0);
    assert!(value("plumb_agent_collect_duration_seconds") > 0.0);
    let rss = value("plumb_agent_process_resident_memory_bytes");
    assert!(rss > 0.0, "agent RSS {rss} bytes");
    // The goal (at most 15 MB) is on the agent's own memory: the file-backed pages of a debug
    // build's binary (which holds the profilers and tracers too) are not the agent's cost, so
    // the check reads the anonymous part of its resident set.
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.child.id())).unwrap();
    let anon_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon in /proc/PID/status");
    assert!(anon_kb * 1024.0 < 15e6, "agent anonymous RSS {anon_kb} kB, goal is at most 15 MB");
    assert!(body.contains("# HELP cpu_user "), "help from the catalogue");

    let (status, _, index) = http_get(agent.port, "/");
    assert_eq!(status, 200);
    assert!(index.contains("/metrics"));
    assert_eq!(http_get(agent.port, "/no/such/page").0, 404);

    agent.wait_for_line("listening on http://127.0.0.1:", Duration::ZERO);
    let (status, (cycles, queued, left)) = agent.stop();
    assert!(status.success(), "SIGTERM exits 0, got {status}");
    assert!(cycles >= 2);
    assert_eq!((queued, left), (0, 0), "no server, nothing published");
}

#[test]
fn publishing_survives_an_outage_exactly_once_in_order() {
    let spool = TempDir::new("outage");
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let spool_dir = spool.path().join("spool");
    let agent = Agent::start(&[
        "--server",
        &server,
        "--spool-dir",
        spool_dir.to_str().unwrap(),
        "--publish-timeout",
        "1s",
        "--tag",
        "nf.node=outage-node",
    ]);
    thread::sleep(Duration::from_secs(5));
    assert!(agent.metric("plumb_agent_publish_failures_total") >= 1.0, "sends failed while the server was down");
    assert!(agent.metric("plumb_agent_spool_batches") >= 1.0, "batches spooled while the server was down");
    let up_at = now_ms();
    let receiver = Receiver::start(port, 200, "");
    wait_drained(&agent, &receiver, Duration::from_secs(15));
    let (status, (cycles, queued, left)) = agent.stop();
    assert!(status.success(), "{status}");
    assert_eq!(left, 0);
    let points = datapoints(&receiver.bodies(), "outage-node");
    assert_exactly_once_in_order(&points, queued, cycles);
    let first = points.iter().map(|(_, t)| *t).min().unwrap();
    assert!(first < up_at - 3000, "data collected during the outage arrived (first {first}, up at {up_at})");
    let leftovers = std::fs::read_dir(&spool_dir).unwrap().count();
    assert_eq!(leftovers, 0, "spool emptied");
}

#[test]
fn spool_survives_a_restart_while_the_server_is_down() {
    let spool = TempDir::new("restart");
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let spool_dir = spool.path().join("spool");
    let args = [
        "--server",
        &server,
        "--spool-dir",
        spool_dir.to_str().unwrap(),
        "--publish-timeout",
        "1s",
        "--tag",
        "nf.node=restart-node",
    ];
    let first = Agent::start(&args);
    thread::sleep(Duration::from_millis(3500));
    let (status, (cycles1, queued1, left1)) = first.stop();
    assert!(status.success(), "{status}");
    assert!(left1 >= 2 && queued1 > 0, "batches left on disk: {left1}");
    assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count() as u64, left1);

    let mut second = Agent::start(&args);
    second.wait_for_line("from an earlier run", Duration::from_secs(2));
    thread::sleep(Duration::from_millis(1500));
    let receiver = Receiver::start(port, 200, "");
    wait_drained(&second, &receiver, Duration::from_secs(15));
    let (status, (cycles2, queued2, left2)) = second.stop();
    assert!(status.success(), "{status}");
    assert_eq!(left2, 0);
    let points = datapoints(&receiver.bodies(), "restart-node");
    assert_exactly_once_in_order(&points, queued1 + queued2, cycles1 + cycles2);
}

#[test]
fn refused_batches_are_dropped_and_counted() {
    let spool = TempDir::new("refused");
    let port = free_port();
    let receiver = Receiver::start(port, 400, r#"{"type":"error","errorCount":1,"message":["no good"]}"#);
    let server = format!("http://127.0.0.1:{port}");
    let spool_dir = spool.path().join("spool");
    let mut agent =
        Agent::start(&["--server", &server, "--spool-dir", spool_dir.to_str().unwrap(), "--tag", "nf.node=n"]);
    agent.wait_for_line("no good", Duration::from_secs(5));
    thread::sleep(Duration::from_millis(2500));
    assert!(agent.metric("plumb_agent_publish_rejected_datapoints_total") > 0.0);
    assert_eq!(agent.metric("plumb_agent_publish_failures_total"), 0.0, "a 400 is not a failure to retry");
    assert_eq!(agent.metric("plumb_agent_publish_datapoints_total"), 0.0);
    assert_eq!(agent.metric("plumb_agent_spool_batches"), 0.0, "refused batches are not kept");
    let (status, (cycles, queued, left)) = agent.stop();
    assert!(status.success());
    assert_eq!(left, 0);
    // Each batch was sent once and never again.
    assert_exactly_once_in_order(&datapoints(&receiver.bodies(), "n"), queued, cycles);
}

#[test]
fn bad_configuration_is_one_line_and_exit_2() {
    let dir = TempDir::new("badconfig");
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "listen = \"127.0.0.1:0\"\nlisten_port = 7\n").unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "listen = \"127.0.0.1:0\n").unwrap();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (&["--listen", "nonsense"], &[], "--listen"),
        (&["--server", "https://plumb.example:7101"], &[], "https is not supported"),
        (&["--tag", "novalue"], &[], "novalue"),
        (&["--config", unknown.to_str().unwrap()], &[], "listen_port"),
        (&[], &[("PLUMB_CONFIG", broken.to_str().unwrap())], "line 1"),
        (&[], &[("NF_APP", "has space")], "NF_APP"),
        (&["--interval", "0s"], &[], "--interval"),
    ];
    for (args, env, needle) in cases {
        let out = agent_command(args).envs(env.iter().copied()).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line for {args:?} {env:?}: {stderr}");
        assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
    }
    let out = agent_command(&["--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).lines().next().unwrap().contains("--bogus"));
}

#[test]
fn help_lists_every_option_with_env_and_default() {
    let out = agent_command(&["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--listen",
        "PLUMB_AGENT_LISTEN",
        "127.0.0.1:7102",
        "--server",
        "PLUMB_SERVER",
        "--config",
        "PLUMB_CONFIG",
        "--spool-dir",
        "PLUMB_AGENT_SPOOL_DIR",
        "/var/lib/plumb/agent-spool",
        "--spool-max-bytes",
        "256MiB",
        "--interval",
        "PLUMB_AGENT_INTERVAL",
        "--top-processes",
        "--batch-size",
        "10000",
        "--publish-timeout",
        "--tag",
        "NF_APP",
        "NETFLIX_APP",
        "NETFLIX_AUTO_SCALE_GROUP",
        "EC2_REGION",
        "EC2_AVAILABILITY_ZONE",
        "EC2_INSTANCE_ID",
        "spool_max_bytes",
        "[tags]",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

/// POST `body` to `path` with an optional bearer token; (status, body).
fn http_post(port: u16, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a whole response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

#[test]
fn on_demand_profile_needs_the_token_and_runs_one_at_a_time() {
    let dir = TempDir::new("profile");
    let token = "0123456789abcdef-test-token";
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let agent = Agent::start(&["--profile-token-file", token_file.to_str().unwrap()]);
    let port = agent.port;
    // Something to sample: a busy shell loop for the test's length.
    let mut busy = Command::new("sh").args(["-c", "while :; do :; done"]).spawn().unwrap();
    let busy_pid = busy.id();

    assert_eq!(http_post(port, "/api/v1/profile", None, "{}").0, 401);
    assert_eq!(http_post(port, "/api/v1/profile", Some("wrong-token-0123456789"), "{}").0, 401);
    let (status, reason) = http_post(port, "/api/v1/profile", Some(token), r#"{"format":"png"}"#);
    assert_eq!(status, 400, "{reason}");

    let request = format!(r#"{{"duration_secs":2,"frequency":199,"pids":[{busy_pid}],"format":"folded"}}"#);
    let first = thread::spawn(move || http_post(port, "/api/v1/profile", Some(token), &request));
    thread::sleep(Duration::from_millis(500));
    let (second, reason) = http_post(port, "/api/v1/profile", Some(token), r#"{"duration_secs":1}"#);
    let (status, body) = first.join().unwrap();
    let _ = busy.kill();
    let _ = busy.wait();
    if status == 500 && body.contains("perf_event_open was denied") {
        assert!(std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() != Ok("1"), "PLUMB_REQUIRE_PRIVILEGED=1: {body}");
        eprintln!("skipping the profile itself: {body}");
        return;
    }
    assert_eq!(second, 429, "a second profile while one runs: {reason}");
    assert_eq!(status, 200, "{body}");
    let samples: u64 = body.lines().filter_map(|l| l.rsplit_once(' ')).map(|(_, n)| n.parse::<u64>().unwrap()).sum();
    assert!(samples >= 50, "the busy loop was sampled about 2 s at 199 Hz: {samples} samples\n{body}");
    assert!(body.lines().all(|l| !l.is_empty()), "{body}");
    drop(agent);
}
