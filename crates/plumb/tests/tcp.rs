//! `plumb tcplife` and `plumb tcpretrans` against the real kernel. tcplife must report a
//! loopback session this test makes (100,000 bytes one way, 2,000 back) with its ports, its
//! payload byte counts and a duration no longer than the session took. tcpretrans must report
//! the SYN retransmission of a connect to a listener whose accept queue is full (the kernel drops
//! the SYN and the client resends it after 1 s): deterministic, and with no packet-loss qdisc
//! (this kernel has no sch_netem). Where BPF is refused the tests skip with the reason, and fail
//! instead under `PLUMB_REQUIRE_PRIVILEGED=1`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::tracer::{Tracer, json_lines, start};

const SENT: usize = 100_000;
const REPLY: usize = 2_000;
/// The SYN and the FIN take a sequence number each, which `bytes_acked`/`bytes_received` count.
const SEQ_SLACK: u64 = 2;

/// Sends Ctrl-C, checks the clean exit and the loss line, and returns the JSON lines.
fn finish(tool: Tracer) -> Vec<Value> {
    let (stdout, stderr) = tool.finish(true);
    assert!(stderr.lines().any(|l| l.contains(" lost (ring buffer full: ")), "{stderr:?}");
    let lines = json_lines(&stdout);
    assert!(lines.last().is_some_and(|l| l["summary"]["lost"].is_u64()), "no summary: {stdout}");
    lines
}

fn endpoint(event: &Value, side: &str) -> Option<SocketAddr> {
    let ip = event[side].as_str()?;
    let port = event[format!("{side}_port")].as_u64()?;
    format!("{ip}:{port}").parse().ok().or_else(|| format!("[{ip}]:{port}").parse().ok())
}

#[test]
fn tcplife_reports_a_loopback_session_with_its_bytes_and_duration() {
    let pid = std::process::id().to_string();
    let Some(tool) = start(&["tcplife", "--json", "-p", &pid]) else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let began = Instant::now();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let (client_addr, server_addr) = (client.local_addr().unwrap(), listener.local_addr().unwrap());
    let writer = std::thread::spawn(move || {
        client.write_all(&vec![7u8; SENT]).unwrap();
        let mut reply = vec![0u8; REPLY];
        client.read_exact(&mut reply).unwrap();
        client
    });
    let mut got = vec![0u8; SENT];
    server.read_exact(&mut got).unwrap();
    server.write_all(&vec![9u8; REPLY]).unwrap();
    let client = writer.join().unwrap();
    drop(client);
    drop(server);
    let took = began.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    let lines = finish(tool);

    let find = |local: SocketAddr, remote: SocketAddr| {
        lines
            .iter()
            .find(|e| endpoint(e, "local") == Some(local) && endpoint(e, "remote") == Some(remote))
            .unwrap_or_else(|| panic!("no session {local} -> {remote} in {lines:?}"))
    };
    for (event, tx, rx) in
        [(find(client_addr, server_addr), SENT, REPLY), (find(server_addr, client_addr), REPLY, SENT)]
    {
        assert_eq!(event["pid"].as_u64(), Some(u64::from(std::process::id())), "{event}");
        let (got_tx, got_rx) = (event["tx_bytes"].as_u64().unwrap(), event["rx_bytes"].as_u64().unwrap());
        assert!((tx as u64..=tx as u64 + SEQ_SLACK).contains(&got_tx), "tx {got_tx}, sent {tx}: {event}");
        assert!((rx as u64..=rx as u64 + SEQ_SLACK).contains(&got_rx), "rx {got_rx}, sent {rx}: {event}");
        let ms = event["duration_ms"].as_f64().unwrap();
        assert!(ms > 0.0 && ms <= took.as_secs_f64() * 1e3 + 50.0, "duration {ms} ms, session took {took:?}: {event}");
    }
    assert_eq!(lines.last().unwrap()["summary"]["lost"], 0);
}

#[test]
fn tcpretrans_reports_the_syn_resent_to_a_full_accept_queue() {
    let Some(tool) = start(&["tcpretrans", "--json"]) else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    // Fill the accept queue (never accepting); the first connect that cannot complete had its
    // SYN dropped by the listener, and waits through at least one SYN retransmission (1 s).
    let mut held = Vec::new();
    let blocked = loop {
        match TcpStream::connect_timeout(&target, Duration::from_millis(1_500)) {
            Ok(stream) => held.push(stream),
            Err(e) => break e,
        }
        assert!(held.len() < 10_000, "the accept queue never filled");
    };
    assert_eq!(blocked.kind(), std::io::ErrorKind::TimedOut, "{blocked}");
    let lines = finish(tool);
    let resent: Vec<&Value> = lines.iter().filter(|e| endpoint(e, "remote") == Some(target)).collect();
    assert!(!resent.is_empty(), "no retransmission to {target} after {} queued connections: {lines:?}", held.len());
    for event in resent {
        assert_eq!(event["state"], "SYN_SENT", "{event}");
        assert_eq!(event["local"], "127.0.0.1", "{event}");
        assert!(event["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{event}");
    }
}
