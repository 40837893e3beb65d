//! `GET /api/v1/graph` and `GET /api/v1/expr` end to end: publish known values for two nodes
//! into a real `plumb server`, then read them back as JSON, CSV, PNG and SVG, and check that
//! bad programs and oversized results are refused with a reason.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod common;

use common::listening::{Listening, http, spawn_listening};

fn start(data: &str) -> Listening {
    spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["server", "--data", data, "--listen", "127.0.0.1:0"])
            .env("PLUMB_SERVER_SELF_METRICS_INTERVAL_MS", "3600000")
            .stdout(Stdio::null()),
    )
}

/// GET `path`: (status, content type, body bytes).
fn get(addr: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    (status, content_type, resp[split + 4..].to_vec())
}

fn text(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).unwrap()
}

/// Atlas's graph JSON writes NaN bare; as null it parses.
fn atlas_json(body: &[u8]) -> Value {
    serde_json::from_str(&text(body).replace("NaN", "null")).unwrap()
}

fn publish(addr: &str, metrics: Vec<Value>) {
    let body = json!({"metrics": metrics}).to_string();
    let (status, resp) = http(addr, "POST", "/api/v1/publish", body.as_bytes());
    assert_eq!(status, 200, "{resp}");
}

#[test]
fn graph_formats_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path().to_str().unwrap());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let t0 = now / 60_000 * 60_000 - 10 * 60_000;
    let mut metrics = Vec::new();
    for k in 1..=3 {
        for (node, scale) in [("a", 1.0), ("b", 10.0)] {
            let tags = json!({"name": "gx", "nf.node": node});
            metrics.push(json!({"tags": tags, "timestamp": t0 + k * 60_000, "value": scale * k as f64}));
        }
    }
    publish(&server.addr, metrics);
    let range = format!("s={t0}&e={}&step=1m", t0 + 180_000);

    let (status, content_type, body) =
        get(&server.addr, &format!("/api/v1/graph?q=name,gx,:eq,:sum&{range}&format=json"));
    assert_eq!(status, 200, "{}", text(&body));
    assert_eq!(content_type, "application/json");
    let v = atlas_json(&body);
    assert_eq!((v["start"].as_i64(), v["step"].as_i64()), (Some(t0), Some(60_000)));
    assert_eq!(v["values"], json!([[null], [11.0], [22.0], [33.0]]), "sums per step; the first step has no data");
    assert_eq!(v["legend"], json!(["sum(name=gx)"]));

    let by = format!("/api/v1/graph?q=name,gx,:eq,(,nf.node,),:by&{range}&format=json");
    let (status, _, body) = get(&server.addr, &by);
    assert_eq!(status, 200, "{}", text(&body));
    let v = atlas_json(&body);
    assert_eq!(v["metrics"][0]["nf.node"], "a");
    assert_eq!(v["metrics"][1]["nf.node"], "b");
    assert_eq!(v["values"], json!([[null, null], [1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]));

    let (status, content_type, body) = get(&server.addr, &by.replace("format=json", "format=csv"));
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = text(&body);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    assert_eq!(rows[0], "\"timestamp\",\"(nf.node=a)\",\"(nf.node=b)\"", "{csv}");
    assert!(rows[2].ends_with(",1.000000,10.000000"), "{csv}");
    assert!(rows[4].ends_with(",3.000000,30.000000"), "{csv}");

    let (status, content_type, png) =
        get(&server.addr, &format!("/api/v1/graph?q=name,gx,:eq&{range}&w=400&h=150&title=Hello%20graph"));
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let png_w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let png_h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    let (status, content_type, svg) =
        get(&server.addr, &format!("/api/v1/graph?q=name,gx,:eq&{range}&w=400&h=150&format=svg&title=Hello%20graph"));
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    let svg = text(&svg);
    assert!(svg.contains("Hello graph"), "the title is drawn");
    assert!(png_w > 400 && png_h > 150, "the image holds the 400x150 plot and its margins: {png_w}x{png_h}");
    assert!(svg.contains(&format!("width=\"{png_w}\" height=\"{png_h}\"")), "PNG and SVG agree on the size");

    // A heat map in both image formats, with Atlas's heat map parameters, and a palette.
    let heat = format!(
        "/api/v1/graph?q=name,gx,:eq,(,nf.node,),:by,:heatmap&{range}&heatmap_label=gx%20heat&heatmap_palette=reds&palette=reds"
    );
    let (status, content_type, png) = get(&server.addr, &heat);
    assert_eq!((status, content_type.as_str()), (200, "image/png"), "{}", text(&png));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (status, _, svg) = get(&server.addr, &format!("{heat}&format=svg"));
    assert_eq!(status, 200);
    let svg = text(&svg);
    assert!(svg.contains(">gx heat</text>"), "one legend entry for the heat map");
    assert!(!svg.contains(">(nf.node=a)</text>"), "heat map lines are not listed");
    assert!(svg.contains("fill=\"#67000d\""), "cells in the reds heat map palette");
    let (status, _, body) = get(&server.addr, &format!("/api/v1/graph?q=name,gx,:eq&{range}&palette=plaid"));
    assert_eq!(status, 400);
    assert!(text(&body).contains("palette="), "{}", text(&body));
    let (_, _, svg) = get(&server.addr, &format!("/api/v1/graph?q=name,gx,:eq,:sum&{range}&format=svg"));
    assert!(text(&svg).contains("stroke=\"#0075dc\""), "the first line takes armytage's first colour");

    let (status, _, body) = get(&server.addr, "/api/v1/graph?q=name,gx,:frobnicate");
    assert_eq!(status, 400);
    assert!(text(&body).contains(":frobnicate"), "{}", text(&body));

    let (status, _, body) = get(&server.addr, "/api/v1/expr?q=name,gx,:eq,:max,2,:mul");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["expressions"].as_array().map(Vec::len), Some(1), "{v}");
    let (status, _, body) = get(&server.addr, "/api/v1/expr?q=name,:eq");
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["token"], ":eq");

    let many: Vec<Value> = (0..1025)
        .map(|i| json!({"tags": {"name": "gy", "nf.node": format!("i-{i}")}, "timestamp": t0 + 60_000, "value": 1.0}))
        .collect();
    publish(&server.addr, many);
    let (status, _, body) =
        get(&server.addr, &format!("/api/v1/graph?q=name,gy,:eq,(,nf.node,),:by&{range}&format=json"));
    assert_eq!(status, 400);
    assert!(text(&body).contains("max-lines=1024"), "{}", text(&body));
}

/// `plumb query` asks the real server and prints a table, CSV or JSON; a bad program exits 1
/// with the server's reason naming the word.
#[test]
fn plumb_query_prints_the_lines_of_an_expression() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path().to_str().unwrap());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let t0 = now / 60_000 * 60_000 - 10 * 60_000;
    let metrics = (1..=3)
        .flat_map(|k| {
            [("a", 1.0), ("b", 10.0)].map(|(node, scale)| {
                json!({"tags": {"name": "gq", "nf.node": node}, "timestamp": t0 + k * 60_000 - 1, "value": scale * k as f64})
            })
        })
        .collect();
    publish(&server.addr, metrics);
    let url = format!("http://{}", server.addr);
    let (s, e) = ((t0 + 60_000).to_string(), (t0 + 3 * 60_000).to_string());
    let query = |expr: &str, format: &str| {
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["query", expr, "--server", &url, "-s", &s, "-e", &e, "--step", "1m", "--format", format])
            .output()
            .unwrap()
    };
    let out = query("name,gq,:eq,(,nf.node,),:by,$nf.node,:legend", "table");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three rows:\n{table}");
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["time", "a", "b"], "{table}");
    let row = |i: usize| lines[i].split_whitespace().skip(1).collect::<Vec<_>>();
    assert_eq!((row(1), row(2), row(3)), (vec!["1", "10"], vec!["2", "20"], vec!["3", "30"]), "{table}");
    let csv = String::from_utf8(query("name,gq,:eq,:sum", "csv").stdout).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().nth(3).unwrap().ends_with(",33.000000"), "{csv}");
    let json: Value = serde_json::from_slice(&query("name,gq,:eq,:sum", "json").stdout).unwrap();
    assert_eq!(json["metrics"][0]["data"]["values"], json!([11.0, 22.0, 33.0]));
    let bad = query("name,:frobnicate", "table");
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains(":frobnicate") && err.lines().count() == 1, "{err}");
}
