//! The real Prometheus (Debian's `prometheus` 2.42) scraping `plumb server`'s own /metrics and
//! remote-writing them into the same server: what Prometheus sends arrives, named from
//! `__name__`, with its labels as tags.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PROMETHEUS: &str = "/usr/bin/prometheus";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else { return (0, String::new()) };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let status = resp.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

#[test]
fn prometheus_remote_writes_into_plumb() {
    assert!(
        std::path::Path::new(PROMETHEUS).exists(),
        "prometheus is required: apt-get install -y prometheus (.ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["server", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("plumb"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let server = Killed(server);
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("plumb server exited").unwrap();
        if let Some(a) = line.split("listening on http://").nth(1) {
            break a.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    // A free loopback port for Prometheus's own web listener.
    let web = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: plumb\n    static_configs:\n      - targets: ['{addr}']\n\
             remote_write:\n  - url: http://{addr}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n"
        ),
    )
    .unwrap();
    let prometheus = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("prom").display()))
        .arg(format!("--web.listen-address={web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prometheus = Killed(prometheus);

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, body) = get(&addr, "/api/v1/raw?name=up&job=plumb");
        if status == 200 {
            let series: Vec<Value> = serde_json::from_str(&body).unwrap();
            if let Some(s) = series.first() {
                let n = s["timestamps"].as_array().unwrap().len();
                if n >= 3 {
                    assert_eq!(s["tags"]["instance"], Value::String(addr.clone()));
                    assert!(s["values"].as_array().unwrap().iter().all(|v| v.as_f64() == Some(1.0)), "{s}");
                    break;
                }
            }
        }
        assert!(Instant::now() < deadline, "Prometheus's `up` never arrived by remote write (last: {status} {body})");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Prometheus forwards what it scraped from plumb itself.
    let (_, body) = get(&addr, "/api/v1/raw?name=plumb_server_datapoints_total&job=plumb");
    let series: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert!(series.len() >= 2, "accepted and rejected counters: {body}");
    drop(server);
}
