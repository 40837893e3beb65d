//! `plumb server` over its real interfaces: publish, read back, SIGKILL, restart, read again;
//! and `plumb agent` publishing into it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod common;

use common::listening::{Listening as Proc, http, spawn_listening};

/// Starts `plumb ARGS --listen 127.0.0.1:0` and reads the address it bound.
fn start(args: &[&str]) -> Proc {
    start_on(args, "127.0.0.1:0")
}

/// [`start`] on a given address.
fn start_on(args: &[&str], listen: &str) -> Proc {
    spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(args)
            .args(["--listen", listen])
            // The server's own series would otherwise join the counts these tests check.
            .env("PLUMB_SERVER_SELF_METRICS_INTERVAL_MS", "3600000")
            .stdout(Stdio::null()),
    )
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn raw(addr: &str, query: &str) -> Vec<Value> {
    let (status, body) = http(addr, "GET", &format!("/api/v1/raw?{query}"), b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{e}: {body}")).as_array().unwrap().clone()
}

#[test]
fn acknowledged_publishes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let t0 = now_ms() - 60_000;
    let mut acknowledged = 0;
    {
        let server = start(&["server", "--data", &data]);
        for batch in 0..20 {
            let metrics: Vec<Value> = (0..50)
                .map(|i| json!({"tags": {"name": "test.gauge", "nf.node": format!("i-{i}")}, "timestamp": t0 + batch * 1000, "value": batch as f64 + 0.25}))
                .collect();
            let body = json!({"tags": {"nf.app": "durable"}, "metrics": metrics}).to_string();
            let (status, resp) = http(&server.addr, "POST", "/api/v1/publish", body.as_bytes());
            assert_eq!(status, 200, "{resp}");
            acknowledged += 50;
        }
        let mut server = server;
        server.child.kill().unwrap(); // SIGKILL: no chance to flush anything
        server.child.wait().unwrap();
    }
    let server = start(&["server", "--data", &data]);
    let series = raw(&server.addr, &format!("s={}&e={}&name=test.gauge&nf.app=durable", t0 - 1, now_ms()));
    assert_eq!(series.len(), 50);
    let points: usize = series.iter().map(|s| s["timestamps"].as_array().unwrap().len()).sum();
    assert_eq!(points, acknowledged, "every acknowledged datapoint is back after SIGKILL and restart");
    let one = series.iter().find(|s| s["tags"]["nf.node"] == "i-7").unwrap();
    assert_eq!(one["values"][3], json!(3.25));
    assert_eq!(one["tags"]["nf.app"], json!("durable"), "common tags are merged");
}

#[test]
fn publish_answers_as_atlas_and_bad_input_gets_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().to_str().unwrap()]);
    let t = now_ms();
    let ok = json!({"metrics": [{"tags": {"name": "a.b"}, "timestamp": t, "value": 1.0}]}).to_string();
    assert_eq!(http(&server.addr, "POST", "/api/v1/publish", ok.as_bytes()).0, 200);
    // the same timestamp again is out of order; with one good datapoint it is a 202
    let partial = json!({"metrics": [
        {"tags": {"name": "a.b"}, "timestamp": t, "value": 2.0},
        {"tags": {"name": "a.b"}, "timestamp": t + 1000, "value": 3.0}
    ]})
    .to_string();
    let (status, body) = http(&server.addr, "POST", "/api/v1/publish", partial.as_bytes());
    assert_eq!(status, 202, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errorCount"], json!(1));
    assert!(v["message"][0].as_str().unwrap().contains("metrics[0]"), "{body}");
    for bad in [&b"not json"[..], b"{\"metrics\": [{\"tags\": {}, \"timestamp\": \"x\"}]}", b""] {
        let (status, body) = http(&server.addr, "POST", "/api/v1/publish", bad);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("message"), "{body}");
    }
    let (status, _) = http(&server.addr, "GET", "/api/v1/raw?s=x&name=a.b", b"");
    assert_eq!(status, 400);
    let (status, body) = http(&server.addr, "GET", "/api/v1/tags/name", b"");
    assert_eq!((status, body.as_str()), (200, "[\"a.b\"]"));
    assert_eq!(raw(&server.addr, &format!("e={}&name=a.b", t + 5000))[0]["values"], json!([1.0, 3.0]));
    let (status, metrics) = http(&server.addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    for line in [
        "plumb_server_datapoints_total{outcome=\"accepted\"} 2",
        "plumb_server_datapoints_total{outcome=\"rejected\"} 1",
        "plumb_server_publish_requests_total{answer=\"ok\"} 1",
        "plumb_server_publish_requests_total{answer=\"partial\"} 1",
        "plumb_server_publish_requests_total{answer=\"refused\"} 3",
        "plumb_server_series 1",
        "plumb_server_samples 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line:?} missing from:\n{metrics}");
    }
}

#[test]
fn the_agent_publishes_into_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().join("data").to_str().unwrap()]);
    let spool = dir.path().join("spool");
    let url = format!("http://{}", server.addr);
    let _agent = start(&["agent", "--server", &url, "--spool-dir", spool.to_str().unwrap(), "--tag", "nf.app=e2e"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let series = raw(&server.addr, "name=cpu.user&nf.app=e2e");
        let n = series.first().map(|s| s["timestamps"].as_array().unwrap().len()).unwrap_or(0);
        if n >= 3 {
            let ts: Vec<i64> =
                series[0]["timestamps"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
            assert!(ts.windows(2).all(|w| w[1] - w[0] == 1000), "one datapoint a second: {ts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the agent's cpu.user did not arrive: {series:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The outage: the server is away for a minute while the agent collects every second;
/// once it is back, every datapoint the agent collected meanwhile arrives (from its spool).
#[test]
fn a_minute_of_server_outage_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let mut server = start(&["server", "--data", data]);
    let addr = server.addr.clone();
    let url = format!("http://{addr}");
    let spool = dir.path().join("spool");
    let _agent = start(&["agent", "--server", &url, "--spool-dir", spool.to_str().unwrap(), "--tag", "nf.app=outage"]);
    let query = "name=load.runnable&nf.app=outage";
    let count = |addr: &str| raw(addr, query).first().map(|s| s["timestamps"].as_array().unwrap().len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(15);
    while count(&addr) < 2 {
        assert!(Instant::now() < deadline, "nothing arrived before the outage");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let down_at = Instant::now();
    std::thread::sleep(Duration::from_secs(60));
    // Back on the same address the agent knows.
    let _server = start_on(&["server", "--data", data], &addr);
    let outage = down_at.elapsed().as_secs();
    // Wait until the spool has drained and a few more live points came in.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = raw(&addr, query).first() {
            let ts: Vec<i64> = s["timestamps"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
            let span = (ts[ts.len() - 1] - ts[0]) / 1000;
            let gaps: Vec<_> = ts.windows(2).filter(|w| w[1] - w[0] != 1000).collect();
            if gaps.is_empty() && span as u64 > outage + 3 {
                assert_eq!(ts.len() as i64, span + 1);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after {outage} s away: {} points over {span} s, gaps {gaps:?}",
                ts.len()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Remote write as Prometheus sends it (snappy protobuf), built with the server's own encoder.
#[test]
fn prometheus_remote_write_is_stored_with_its_name_label() {
    use plumb_server::ingest::{encode_remote_write, prompb};
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().to_str().unwrap()]);
    let t = now_ms();
    let label = |n: &str, v: &str| prompb::Label { name: n.into(), value: v.into() };
    let request = prompb::WriteRequest {
        timeseries: vec![prompb::TimeSeries {
            labels: vec![label("__name__", "http_requests_total"), label("job", "api"), label("path", "/v1/x y")],
            samples: vec![prompb::Sample { value: 1.0, timestamp: t }, prompb::Sample { value: 2.5, timestamp: t + 1 }],
            ..Default::default()
        }],
    };
    let body = encode_remote_write(&request).unwrap();
    let (status, resp) = http(&server.addr, "POST", "/api/v1/write", &body);
    assert_eq!(status, 204, "{resp}");
    let series = raw(&server.addr, &format!("e={}&name=http_requests_total&job=api", t + 10));
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["tags"]["path"], json!("/v1/x y"), "Prometheus label values are kept as sent");
    assert_eq!(series[0]["values"], json!([1.0, 2.5]));
    let (status, resp) = http(&server.addr, "POST", "/api/v1/write", b"not snappy");
    assert_eq!(status, 400);
    assert!(resp.contains("snappy"), "{resp}");
}

#[test]
fn tag_listings_take_an_atlas_query_limit_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().to_str().unwrap()]);
    let t = now_ms() - 10_000;
    let metrics: Vec<Value> = (0..6)
        .map(|i| {
            let name = if i % 2 == 0 { "cpu.user" } else { "mem.free" };
            json!({"tags": {"name": name, "nf.node": format!("i-{i}"), "nf.zone": format!("z{}", i % 3)}, "timestamp": t, "value": 1.0})
        })
        .collect();
    let body = json!({"tags": {"nf.app": "www"}, "metrics": metrics}).to_string();
    assert_eq!(http(&server.addr, "POST", "/api/v1/publish", body.as_bytes()).0, 200);
    let get = |path: &str| {
        let (status, body) = http(&server.addr, "GET", path, b"");
        (status, serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
    };
    assert_eq!(get("/api/v1/tags/nf.node?q=name,cpu.user,:eq"), (200, json!(["i-0", "i-2", "i-4"])));
    assert_eq!(get("/api/v1/tags/nf.node?q=name,cpu.user,:eq,nf.zone,z1,:eq,:and"), (200, json!(["i-4"])));
    assert_eq!(get("/api/v1/tags/nf.node?q=nf.node,(,i-1,i-5,),:in,:not&limit=2"), (200, json!(["i-0", "i-2"])));
    assert_eq!(get("/api/v1/tags/nf.node?limit=2&offset=i-2"), (200, json!(["i-3", "i-4"])));
    assert_eq!(get("/api/v1/tags?q=name,mem,:re"), (200, json!(["name", "nf.app", "nf.node", "nf.zone"])));
    assert_eq!(get("/api/v1/tags/nf.node?q=name,nothing,:eq"), (200, json!([])));
    let (status, err) = get("/api/v1/tags/nf.node?q=name,:eq");
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains(":eq"), "the error names the word: {err}");
    assert_eq!(get("/api/v1/tags/nf.node?limit=0").0, 400);
}

/// 100k new series of one metric in ten requests: the per-name limit (10k a minute, refilled
/// as time passes) lets about the first 10k in and refuses the rest with the reason, every
/// refused datapoint is counted, and the server keeps serving.
#[test]
fn a_burst_of_100k_new_series_is_refused_with_a_reason_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().to_str().unwrap()]);
    let t = now_ms() - 10_000;
    let (mut answers, mut rejected) = (Vec::new(), 0);
    for part in 0..10 {
        let metrics: Vec<Value> = (0..10_000)
            .map(|i| json!({"tags": {"name": "burst", "id": format!("{}", part * 10_000 + i)}, "timestamp": t, "value": 1.0}))
            .collect();
        let body = json!({"metrics": metrics}).to_string();
        let (status, resp) = http(&server.addr, "POST", "/api/v1/publish", body.as_bytes());
        answers.push(status);
        if status != 200 {
            assert!(status == 202 || status == 400, "{status}: {resp}");
            let v: Value = serde_json::from_str(&resp).unwrap();
            rejected += v["errorCount"].as_u64().unwrap();
            assert!(v["message"][0].as_str().unwrap().contains("too many new series for metric"), "{resp}");
        }
    }
    assert_eq!(answers[0], 200, "{answers:?}");
    assert!((89_000..90_000).contains(&rejected), "about 90k refused, not {rejected}: {answers:?}");
    let (status, body) = http(&server.addr, "GET", "/api/v1/tags/id?limit=100000", b"");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Vec<String>>(&body).unwrap().len() as u64, 100_000 - rejected);
    // Another metric is not held back by the burst's name, and the known series still append.
    let ok = json!({"metrics": [
        {"tags": {"name": "other"}, "timestamp": t, "value": 1.0},
        {"tags": {"name": "burst", "id": "7"}, "timestamp": t + 1000, "value": 2.0}
    ]})
    .to_string();
    assert_eq!(http(&server.addr, "POST", "/api/v1/publish", ok.as_bytes()).0, 200);
    let (_, metrics) = http(&server.addr, "GET", "/metrics", b"");
    let line = format!("plumb_server_datapoints_total{{outcome=\"rejected\"}} {rejected}");
    assert!(metrics.lines().any(|l| l == line), "{line} missing from {metrics}");
}

/// The value of the `/metrics` line `series` (name and labels exactly), or a panic naming it.
fn metric(metrics: &str, series: &str) -> f64 {
    let found = metrics.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')));
    found.unwrap_or_else(|| panic!("{series} missing from {metrics}")).parse().unwrap()
}

/// Two remote-write senders overtaking each other (the later request stored first) make samples
/// out of order per series: each one is stored or counted as rejected with its reason, and a
/// request that stored something is counted as partial, not refused.
#[test]
fn remote_write_out_of_order_samples_are_counted_by_reason() {
    use plumb_server::ingest::{STALE_NAN_BITS, encode_remote_write, prompb};
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["server", "--data", dir.path().to_str().unwrap()]);
    let t = now_ms() - 60_000;
    let series = |node: &str, samples: &[(i64, f64)]| prompb::TimeSeries {
        labels: vec![
            prompb::Label { name: "__name__".into(), value: "node_load1".into() },
            prompb::Label { name: "node".into(), value: node.into() },
        ],
        samples: samples.iter().map(|&(timestamp, value)| prompb::Sample { value, timestamp }).collect(),
        ..Default::default()
    };
    let send = |timeseries: Vec<prompb::TimeSeries>| {
        let body = encode_remote_write(&prompb::WriteRequest { timeseries }).unwrap();
        http(&server.addr, "POST", "/api/v1/write", &body)
    };
    let nodes = ["a", "b", "c"];
    // The later request arrives first: 6 samples, all stored.
    let later: Vec<_> = nodes.iter().map(|n| series(n, &[(t + 10_000, 2.0), (t + 20_000, 3.0)])).collect();
    assert_eq!(send(later).0, 204);
    // The earlier one: 6 samples out of order, one new series' sample stored, one staleness marker.
    let mut earlier: Vec<_> = nodes.iter().map(|n| series(n, &[(t, 1.0), (t + 10_000, 2.0)])).collect();
    earlier.push(series("d", &[(t, 1.0), (t + 5_000, f64::from_bits(STALE_NAN_BITS))]));
    let (status, body) = send(earlier);
    assert_eq!(status, 204, "something was stored: {body}");
    // Nothing of this one can be stored: 400 with the reason.
    let (status, body) = send(vec![series("a", &[(t + 1, 5.0), (t + 20_000, 5.0)])]);
    assert_eq!(status, 400);
    assert!(body.contains("out of order"), "{body}");
    let sent = 6 + 8 + 2;

    let (status, metrics) = http(&server.addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    let accepted = metric(&metrics, "plumb_server_datapoints_total{outcome=\"accepted\"}");
    let rejected = metric(&metrics, "plumb_server_datapoints_total{outcome=\"rejected\"}");
    assert_eq!((accepted, rejected), (7.0, 9.0));
    assert_eq!(accepted + rejected, sent as f64, "every sample sent is stored or rejected");
    let by_reason =
        |reason: &str| metric(&metrics, &format!("plumb_server_datapoints_rejected_total{{reason=\"{reason}\"}}"));
    assert_eq!(by_reason("out_of_order"), 8.0);
    assert_eq!(by_reason("staleness_marker"), 1.0);
    assert_eq!(by_reason("too_old"), 0.0);
    let requests =
        |answer: &str| metric(&metrics, &format!("plumb_server_publish_requests_total{{answer=\"{answer}\"}}"));
    assert_eq!((requests("ok"), requests("partial"), requests("refused")), (1.0, 1.0, 1.0));
    assert_eq!(metric(&metrics, "plumb_server_samples"), accepted, "the store holds what was counted accepted");
    let stored = raw(&server.addr, &format!("s={}&e={}&name=node_load1", t - 1, t + 30_000));
    let points: usize = stored.iter().map(|s| s["values"].as_array().unwrap().len()).sum();
    assert_eq!(points, 7);
}

#[test]
fn a_second_server_on_one_data_directory_is_refused_and_the_first_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let first = start(&["server", "--data", data]);
    let second = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(["server", "--data", data, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second server opened {data}: {stderr}");
    assert!(stderr.contains("in use by another process"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "not one line: {stderr}");
    let (status, _) = http(&first.addr, "GET", "/api/v1/tags", b"");
    assert_eq!(status, 200);
    // The offline tool is refused too while the server holds the directory.
    let tool = Command::new(env!("CARGO_BIN_EXE_plumb")).args(["tsdb", "stats", "--data", data]).output().unwrap();
    assert!(!tool.status.success());
    assert!(String::from_utf8_lossy(&tool.stderr).contains("in use by another process"));
}
