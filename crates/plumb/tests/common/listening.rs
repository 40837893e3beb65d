//! A `plumb` process that serves HTTP (agent, server): started, its bound address read from its
//! `... listening on http://ADDR` stderr line, killed and reaped when dropped; and one-shot
//! HTTP/1.1 requests to it over a plain socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A listening process; killed and reaped on drop, so a failed assertion leaves nothing behind.
pub struct Listening {
    pub child: Child,
    /// The address it bound, `IP:PORT`.
    pub addr: String,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` (stderr piped here) and waits up to 20 s for its listening line.
pub fn spawn_listening(cmd: &mut Command) -> Listening {
    let child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    // Owned from here, so a failed assertion still kills and reaps it.
    let mut proc = Listening { child, addr: String::new() };
    let mut err = BufReader::new(proc.child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "{cmd:?} exited before listening");
        if let Some(addr) = line.trim().split("listening on http://").nth(1) {
            proc.addr = addr.to_string();
            // Keep draining stderr so the process never blocks on a full pipe.
            std::thread::spawn(move || for _ in err.lines() {});
            return proc;
        }
        assert!(Instant::now() < deadline, "no listening line from {cmd:?}");
    }
}

/// One HTTP/1.1 request with a JSON content type; (status, body). Status 0 when nothing
/// listens (so callers can poll a server that is starting).
pub fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else { return (0, String::new()) };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = "Host: x\r\nConnection: close\r\nContent-Type: application/json";
    write!(s, "{method} {path} HTTP/1.1\r\n{head}\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
