//! `plumb stat --json` against sysstat on the real kernel, under a known load.
//!
//! Each test starts plumb and the sysstat tool together over the same one-second intervals,
//! applies a load it controls, and compares the interval reports (never sysstat's since-boot
//! report). Loads that have a known size (datagrams, connections, dd) run inside the window, after
//! both tools have taken their first reading and before their last, so the totals over the window
//! do not depend on how the tools' sampling instants line up. The tests measure the whole
//! machine, so they take a lock and run one at a time. A missing sysstat fails them.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::machine::{self, ScratchDir, Spinner};
use common::{Running, deadline_for, mean, plumb, rel_diff, sysstat};

/// How long the tools get to take their first reading before a load starts.
const SETTLE: Duration = Duration::from_millis(500);

/// Starts plumb and the sysstat tool at the same moment; returns (plumb, peer) in that order.
fn start_pair(plumb_cmd: &mut Command, peer_name: &str, peer_cmd: &mut Command) -> (Running, Running) {
    let peer = Running::spawn(peer_name, peer_cmd);
    let ours = Running::spawn("plumb stat", plumb_cmd);
    (ours, peer)
}

/// CPU busy (100 - idle - iowait) within 2 points of mpstat's over five intervals, with one
/// spinning child keeping one CPU busy.
#[test]
fn cpu_busy_matches_mpstat() {
    let _machine = machine::lock();
    const N: u32 = 5;
    let spinner = Spinner::start();
    thread::sleep(Duration::from_millis(200));

    let (ours, peer) =
        start_pair(&mut plumb::stat_json(&["cpu"], N), "mpstat", sysstat::tool("mpstat").args(["1", &N.to_string()]));
    let ours = plumb::lines(&ours.finish(deadline_for(N)));
    let peer = peer.finish(deadline_for(N));
    drop(spinner);

    let theirs: Vec<f64> = sysstat::select(&sysstat::rows(&peer, "%idle"), "CPU", "all")
        .iter()
        .map(|r| 100.0 - sysstat::num(r, "%idle") - sysstat::num(r, "%iowait"))
        .collect();
    let busy: Vec<f64> = ours.iter().map(|l| plumb::num(plumb::group(l, "cpu"), "cpu.busy")).collect();
    assert_eq!(busy.len(), N as usize, "plumb printed {} lines, want {N}", busy.len());
    assert_eq!(theirs.len(), N as usize, "mpstat printed {} interval rows, want {N}:\n{peer}", theirs.len());

    let (b, t) = (mean(&busy), mean(&theirs));
    eprintln!("cpu.busy: plumb {busy:?} mean {b:.2}; mpstat {theirs:?} mean {t:.2}");
    let floor = 0.8 * 100.0 / machine::cpus_in_proc_stat() as f64;
    assert!(t >= floor, "the spinning child does not show in mpstat ({t:.1}% busy < {floor:.1}%): {theirs:?}");
    assert!(
        (b - t).abs() <= 2.0,
        "plumb cpu.busy {b:.2}% vs mpstat {t:.2}% (per interval: plumb {busy:?}, mpstat {theirs:?})"
    );
}

/// Disk r/s, w/s, rkB/s, wkB/s within 5% of iostat -x over five intervals of direct-I/O dd on
/// the device under cargo's target directory; both see at least what dd moved.
#[test]
fn disk_matches_iostat() {
    let _machine = machine::lock();
    const N: u32 = 5;
    const BLOCKS: u64 = 128; // of 64 KiB: an 8 MiB file
    let dir = ScratchDir::new("vs_sysstat-disk");
    let dev = machine::block_device_of(dir.path());
    let file = dir.path().join("dd.bin");
    let of = format!("of={}", file.display());
    let iff = format!("if={}", file.display());
    let count = format!("count={BLOCKS}");
    dd(&["if=/dev/zero", &of, "bs=64k", &count, "oflag=direct"]);

    let (ours, peer) = start_pair(
        &mut plumb::stat_json(&["disk"], N),
        "iostat",
        sysstat::tool("iostat").args(["-x", "-d", "-y", &dev, "1", &N.to_string()]),
    );
    thread::sleep(SETTLE);
    let stop = Instant::now() + Duration::from_secs(u64::from(N)) - SETTLE - Duration::from_millis(600);
    let mut rounds = 0u64;
    while Instant::now() < stop {
        dd(&["if=/dev/zero", &of, "bs=64k", &count, "oflag=direct", "conv=notrunc"]);
        dd(&[&iff, "of=/dev/null", "bs=64k", "iflag=direct"]);
        rounds += 1;
        thread::sleep(Duration::from_millis(100));
    }
    let ours = plumb::lines(&ours.finish(deadline_for(N)));
    let peer = peer.finish(deadline_for(N));
    drop(dir);

    let theirs = sysstat::rows(&peer, "r/s");
    let theirs = sysstat::select(&theirs, "Device", &dev);
    assert_eq!(ours.len(), N as usize, "plumb printed {} lines, want {N}", ours.len());
    assert_eq!(theirs.len(), N as usize, "iostat printed {} interval rows for {dev}, want {N}:\n{peer}", theirs.len());
    let moved_kb = (rounds * BLOCKS * 64) as f64;
    for (metric, col, at_least) in [
        ("disk.reads", "r/s", (rounds * BLOCKS) as f64),
        ("disk.writes", "w/s", (rounds * BLOCKS) as f64),
        ("disk.read_kb", "rkB/s", moved_kb),
        ("disk.write_kb", "wkB/s", moved_kb),
    ] {
        let plumb_total = plumb::total(&ours, |l| {
            let row = plumb::row(l, "disk", "dev", &dev).unwrap_or_else(|| panic!("no disk row for {dev} in {l}"));
            plumb::num(row, metric)
        });
        let iostat_total: f64 = theirs.iter().map(|r| sysstat::num(r, col)).sum();
        eprintln!("{dev} {metric}: plumb {plumb_total:.1}, iostat {iostat_total:.1}, dd {at_least}");
        assert!(
            rel_diff(plumb_total, iostat_total) <= 0.05,
            "{dev} {metric}: plumb {plumb_total:.1} vs iostat {col} {iostat_total:.1} over {N} s"
        );
        // dd's requests reach the device whole (direct I/O), but the block layer may split or
        // merge them, so only the kB have a floor: what dd moved.
        if metric.ends_with("_kb") {
            assert!(plumb_total >= 0.99 * at_least, "{dev} {metric}: plumb {plumb_total:.1} kB < dd's {at_least} kB");
        } else {
            assert!(plumb_total > 0.0, "{dev} {metric}: plumb saw no requests while dd ran");
        }
    }
}

fn dd(args: &[&str]) {
    let out =
        Command::new("dd").args(args).arg("status=none").output().unwrap_or_else(|e| panic!("cannot run dd: {e}"));
    assert!(out.status.success(), "dd {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Loopback packets and kB within 5% of sar -n DEV, and matching the datagrams the test sent.
#[test]
fn loopback_traffic_matches_sar() {
    let _machine = machine::lock();
    const N: u32 = 5;
    const DATAGRAMS: usize = 2000;
    const PAYLOAD: usize = 1000;
    // What lo counts per datagram: the IP packet, payload with UDP (8) and IPv4 (20) headers (its
    // Ethernet header is pulled before the count).
    const WIRE: usize = PAYLOAD + 8 + 20;

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    rx.set_read_timeout(Some(Duration::from_millis(100))).unwrap_or_else(|e| panic!("{e}"));
    let to = rx.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let done = Arc::new(AtomicBool::new(false));
    let receiver = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut got = 0usize;
            while !done.load(Ordering::Relaxed) {
                if rx.recv(&mut buf).is_ok() {
                    got += 1;
                }
            }
            got
        })
    };
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));

    let (ours, peer) = start_pair(
        &mut plumb::stat_json(&["net"], N),
        "sar -n DEV",
        sysstat::tool("sar").args(["-n", "DEV", "--iface=lo", "1", &N.to_string()]),
    );
    thread::sleep(SETTLE);
    let payload = [0x5au8; PAYLOAD];
    for batch in 0..100 {
        for _ in 0..DATAGRAMS / 100 {
            tx.send_to(&payload, to).unwrap_or_else(|e| panic!("send in batch {batch}: {e}"));
        }
        thread::sleep(Duration::from_millis(30));
    }
    let ours = plumb::lines(&ours.finish(deadline_for(N)));
    let peer = peer.finish(deadline_for(N));
    done.store(true, Ordering::Relaxed);
    let received = receiver.join().unwrap_or(0);

    let theirs = sysstat::rows(&peer, "IFACE");
    let theirs = sysstat::select(&theirs, "IFACE", "lo");
    assert_eq!(ours.len(), N as usize, "plumb printed {} lines, want {N}", ours.len());
    assert_eq!(theirs.len(), N as usize, "sar printed {} interval rows for lo, want {N}:\n{peer}", theirs.len());
    let sent_kb = (DATAGRAMS * WIRE) as f64 / 1024.0;
    for (metric, col, known) in [
        ("net.rx_packets", "rxpck/s", DATAGRAMS as f64),
        ("net.tx_packets", "txpck/s", DATAGRAMS as f64),
        ("net.rx_kb", "rxkB/s", sent_kb),
        ("net.tx_kb", "txkB/s", sent_kb),
    ] {
        let plumb_total = plumb::total(&ours, |l| {
            let row = plumb::row(l, "net", "iface", "lo").unwrap_or_else(|| panic!("no net row for lo in {l}"));
            plumb::num(row, metric)
        });
        let sar_total: f64 = theirs.iter().map(|r| sysstat::num(r, col)).sum();
        eprintln!("lo {metric}: plumb {plumb_total:.1}, sar {sar_total:.1}, sent {known:.1}");
        assert!(
            rel_diff(plumb_total, sar_total) <= 0.05,
            "lo {metric}: plumb {plumb_total:.1} vs sar {col} {sar_total:.1} over {N} s"
        );
        // The datagrams all crossed lo inside the window; other loopback users may add a little.
        assert!(
            plumb_total >= 0.999 * known && plumb_total <= 1.05 * known,
            "lo {metric}: plumb {plumb_total:.1}, but the test sent {known:.1} (receiver got {received} datagrams)"
        );
    }
}

/// plumb's TCP active opens over the window equal the kernel's ActiveOpens delta exactly, and
/// that delta includes the connections the test made.
#[test]
fn tcp_active_opens_exact() {
    let _machine = machine::lock();
    const N: u32 = 3;
    const CONNECTIONS: u64 = 50;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let done = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if listener.accept().is_err() {
                    thread::sleep(Duration::from_millis(5));
                }
            }
        })
    };

    // Another process opening a connection in the few milliseconds between reading
    // /proc/net/snmp and plumb's first reading (or after its last) breaks exactness without
    // plumb being wrong. A wrong plumb is wrong every time, so three attempts are allowed.
    let mut attempts = Vec::new();
    for attempt in 1..=3 {
        let before = machine::snmp_tcp("ActiveOpens");
        let ours = Running::spawn("plumb stat", &mut plumb::stat_json(&["tcp"], N));
        thread::sleep(SETTLE);
        for i in 0..CONNECTIONS {
            let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connection {i}: {e}"));
            let _ = s.write_all(b"x");
            thread::sleep(Duration::from_millis(10));
        }
        let lines = plumb::lines(&ours.finish(deadline_for(N)));
        let after = machine::snmp_tcp("ActiveOpens");
        assert_eq!(lines.len(), N as usize, "plumb printed {} lines, want {N}", lines.len());
        let total = plumb::total(&lines, |l| plumb::num(plumb::group(l, "tcp"), "tcp.active_opens"));
        let delta = after.saturating_sub(before);
        eprintln!("attempt {attempt}: tcp.active_opens total {total:.3}, ActiveOpens delta {delta}");
        assert!(delta >= CONNECTIONS, "the kernel counted {delta} active opens, the test made {CONNECTIONS}");
        if (total - delta as f64).abs() < 0.5 {
            done.store(true, Ordering::Relaxed);
            let _ = acceptor.join();
            return;
        }
        attempts
            .push(format!("attempt {attempt}: plumb {total:.2}, kernel delta {delta} (the test made {CONNECTIONS})"));
    }
    done.store(true, Ordering::Relaxed);
    let _ = acceptor.join();
    panic!("tcp.active_opens over the window is not the kernel's ActiveOpens delta:\n{}", attempts.join("\n"));
}

/// A spinning child shows in plumb's top processes every interval, with %usr within 5 points of
/// pidstat's for the same pid.
#[test]
fn busy_process_matches_pidstat() {
    let _machine = machine::lock();
    const N: u32 = 5;
    let spinner = Spinner::start();
    let pid = spinner.pid().to_string();
    thread::sleep(Duration::from_millis(200));

    let (ours, peer) = start_pair(
        &mut plumb::stat_json(&["proc"], N),
        "pidstat",
        sysstat::tool("pidstat").args(["-u", "-p", &pid, "1", &N.to_string()]),
    );
    let ours = plumb::lines(&ours.finish(deadline_for(N)));
    let peer = peer.finish(deadline_for(N));
    drop(spinner);

    let theirs: Vec<f64> =
        sysstat::select(&sysstat::rows(&peer, "%usr"), "PID", &pid).iter().map(|r| sysstat::num(r, "%usr")).collect();
    assert_eq!(ours.len(), N as usize, "plumb printed {} lines, want {N}", ours.len());
    assert_eq!(theirs.len(), N as usize, "pidstat printed {} interval rows for {pid}, want {N}:\n{peer}", theirs.len());
    let mut usr = Vec::new();
    for l in &ours {
        let row = plumb::row(l, "proc", "pid", &pid)
            .unwrap_or_else(|| panic!("the busy child {pid} is not in plumb's top processes: {l}"));
        assert_eq!(row.get("comm").and_then(|c| c.as_str()), Some("sh"), "child {pid}: {row}");
        usr.push(plumb::num(row, "proc.cpu_user"));
    }
    let (u, t) = (mean(&usr), mean(&theirs));
    eprintln!("pid {pid}: plumb proc.cpu_user {usr:?} mean {u:.1}; pidstat %usr {theirs:?} mean {t:.1}");
    assert!(t >= 20.0, "the spinning child barely ran according to pidstat ({t:.1}% usr): {theirs:?}");
    assert!(
        (u - t).abs() <= 5.0,
        "pid {pid}: plumb proc.cpu_user {u:.1}% vs pidstat %usr {t:.1}% (plumb {usr:?}, pidstat {theirs:?})"
    );
}
