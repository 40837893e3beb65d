//! The real Prometheus (Debian's `prometheus` 2.42) scraping `plumb server`'s own /metrics and
//! remote-writing them into the same server: what Prometheus sends arrives, named from
//! `__name__`, with its labels as tags.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::listening::{http, spawn_listening};

const PROMETHEUS: &str = "/usr/bin/prometheus";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    http(addr, "GET", path, b"")
}

#[test]
fn prometheus_remote_writes_into_plumb() {
    assert!(
        std::path::Path::new(PROMETHEUS).exists(),
        "prometheus is required: apt-get install -y prometheus (.ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["server", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("plumb"))
            .stdout(Stdio::null()),
    );
    let addr = server.addr.clone();

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
