//! `plumb server`'s config file and its own metrics, against the real binary: the file sets
//! options, the environment beats the file, a flag beats both, a bad file stops the server with
//! exit code 2 and one line; and the server's metrics appear in its own store.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Every variable the server reads, cleared so the caller's environment cannot leak in.
const ENV: [&str; 13] = [
    "PLUMB_SERVER_CONFIG",
    "PLUMB_SERVER_LISTEN",
    "PLUMB_SERVER_DATA",
    "PLUMB_SERVER_MAX_BODY_BYTES",
    "PLUMB_SERVER_MAX_DECODED_BYTES",
    "PLUMB_SERVER_MAX_DATAPOINTS",
    "PLUMB_SERVER_MAX_AGE_SECS",
    "PLUMB_SERVER_MAX_FUTURE_SECS",
    "PLUMB_SERVER_ALLOW_NON_FINITE",
    "PLUMB_SERVER_NEW_SERIES_PER_MINUTE",
    "PLUMB_SERVER_NEW_SERIES_PER_MINUTE_PER_NAME",
    "PLUMB_SERVER_SELF_METRICS_INTERVAL_MS",
    "PLUMB_SERVER_UNUSED",
];

mod common;

use common::listening::{Listening as Proc, http, spawn_listening};

fn server(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumb"));
    cmd.arg("server").args(args).current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    for k in ENV {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Starts the server and reads its address from its listening line.
fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
    spawn_listening(&mut server(dir, args, env))
}

/// Runs a server expected to refuse to start; (exit code, stderr).
fn refused(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = server(dir, args, env).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code(), err)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Publishes `n` datapoints of distinct series; (status, body).
fn publish(addr: &str, n: usize) -> (u16, String) {
    let t = now_ms();
    let metrics: Vec<Value> = (0..n)
        .map(|i| json!({"tags": {"name": "cfg.test", "nf.node": format!("i-{i}")}, "timestamp": t, "value": 1.5}))
        .collect();
    http(addr, "POST", "/api/v1/publish", json!({"metrics": metrics}).to_string().as_bytes())
}

/// Writes `text` to a new file `DIR/server-N.toml`; its path.
fn write_config(dir: &Path, text: &str) -> String {
    let n = std::fs::read_dir(dir).unwrap().count();
    let path = dir.join(format!("server-{n}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_config_file_sets_listen_data_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config =
        write_config(dir.path(), &format!("listen = \"127.0.0.1:{port}\"\ndata = \"from-file\"\nmax_datapoints = 2\n"));
    let srv = start(dir.path(), &["--config", &config], &[]);
    assert_eq!(srv.addr, format!("127.0.0.1:{port}"), "the listen address comes from the file");
    let (status, body) = publish(&srv.addr, 3);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("more than 2 datapoints"), "the file's limit is in the reason: {body}");
    assert_eq!(publish(&srv.addr, 2).0, 200);
    assert!(dir.path().join("from-file/wal").is_dir(), "the data directory comes from the file");
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "listen = \"127.0.0.1:0\"\nmax_datapoints = 2\n");
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();

    let by_flag = start(dir.path(), &["--config", &config, "--data", data, "--max-datapoints", "4"], &[]);
    assert_eq!(publish(&by_flag.addr, 4).0, 200, "the flag raises the file's limit");
    let (status, body) = publish(&by_flag.addr, 5);
    assert!(status == 400 && body.contains("more than 4 datapoints"), "{status} {body}");
    drop(by_flag);

    let by_env =
        start(dir.path(), &["--data", data], &[("PLUMB_SERVER_CONFIG", &config), ("PLUMB_SERVER_MAX_DATAPOINTS", "3")]);
    assert_eq!(publish(&by_env.addr, 3).0, 200, "the environment raises the file's limit");
    let (status, body) = publish(&by_env.addr, 4);
    assert!(status == 400 && body.contains("more than 3 datapoints"), "{status} {body}");
    drop(by_env);

    let both = start(
        dir.path(),
        &["--config", &config, "--data", data, "--max-datapoints", "1"],
        &[("PLUMB_SERVER_MAX_DATAPOINTS", "3")],
    );
    let (status, body) = publish(&both.addr, 2);
    assert!(status == 400 && body.contains("more than 1 datapoints"), "the flag beats the environment: {body}");
}

#[test]
fn an_unknown_key_stops_the_server_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "listen = \"127.0.0.1:0\"\nmax_datapointz = 2\n");
    let (code, err) = refused(dir.path(), &["--config", &config], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("max_datapointz") && err.contains("line 2"), "{err}");
}

#[test]
fn bad_values_and_unreadable_files_stop_the_server_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let cases: Vec<(String, &str)> = vec![
        (write_config(dir.path(), "max_datapoints = 0\n"), "max_datapoints"),
        (write_config(dir.path(), "max_age_secs = \"an hour\"\n"), "line 1"),
        (write_config(dir.path(), "listen = [1, 2]\n"), "line 1"),
        (missing.to_str().unwrap().to_string(), "missing.toml"),
    ];
    for (config, word) in cases {
        let text = std::fs::read_to_string(&config).unwrap_or_default();
        let (code, err) = refused(dir.path(), &["--config", &config], &[]);
        assert_eq!(code, Some(2), "{text}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{text}: {err}");
        assert!(err.contains(word), "{text}: {err}");
    }
    // a value out of range from the environment is judged like one from the file
    let (code, err) = refused(dir.path(), &["--listen", "127.0.0.1:0"], &[("PLUMB_SERVER_MAX_FUTURE_SECS", "0")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("max_future_secs (--max-future-secs) must be between 1 and 86400, got 0"), "{err}");
}

#[test]
fn the_servers_own_metrics_are_stored_in_itself_past_the_cardinality_limit() {
    let dir = tempfile::tempdir().unwrap();
    // No new series at all may be published, yet the server's own series still appear.
    let config = write_config(dir.path(), "listen = \"127.0.0.1:0\"\ndata = \"d\"\nnew_series_per_minute = 0\n");
    let srv = start(dir.path(), &["--config", &config], &[("PLUMB_SERVER_SELF_METRICS_INTERVAL_MS", "300")]);
    let (status, body) = publish(&srv.addr, 2);
    assert_eq!(status, 400, "every new series is refused: {body}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = http(&srv.addr, "GET", "/api/v1/raw?name=plumb.server.datapoints&outcome=rejected", b"");
        assert_eq!(status, 200, "{body}");
        let series: Vec<Value> = serde_json::from_str(&body).unwrap();
        let values = series.first().map(|s| s["values"].as_array().unwrap().clone()).unwrap_or_default();
        if values.len() >= 2 && values.last() == Some(&json!(2.0)) {
            let s = &series[0];
            assert_eq!(s["tags"]["nf.app"], json!("plumb"));
            assert_eq!(s["tags"]["nf.node"], json!(host));
            let ts: Vec<i64> = s["timestamps"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
            assert!(ts.windows(2).all(|w| w[1] > w[0]), "one sample a tick: {ts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the rejected datapoints never showed in the store: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, body) = http(&srv.addr, "GET", "/api/v1/raw?name=plumb.server.series", b"");
    let series: Vec<Value> = serde_json::from_str(&body).unwrap();
    let last = series[0]["values"].as_array().unwrap().last().unwrap().as_f64().unwrap();
    assert_eq!(last, 9.0, "the head holds exactly the nine self-series: {body}");
}
