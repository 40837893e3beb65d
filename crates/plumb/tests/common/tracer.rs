//! A BPF tracing tool run by a test: `plumb ARGS` started and awaited until it prints its
//! "Tracing" line, its stderr read by a thread, stopped by Ctrl-C or by itself. Where BPF is
//! refused the tests print why and pass, unless `PLUMB_REQUIRE_PRIVILEGED=1` (set by CI).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// Whether CI demands that privileged tests run rather than skip.
pub fn required() -> bool {
    std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() == Ok("1")
}

/// A running plumb tool, past its "Tracing" line.
pub struct Tracer {
    child: Child,
    stderr: mpsc::Receiver<String>,
}

/// Starts `plumb ARGS` and waits until it is tracing; `None` (after printing why) when BPF is
/// not available here and CI does not require it.
pub fn start(args: &[&str]) -> Option<Tracer> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.starts_with("Tracing ") => return Some(Tracer { child, stderr: rx }),
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                let why = seen.join("\n");
                assert!(!required(), "PLUMB_REQUIRE_PRIVILEGED=1 but `plumb {args:?}` did not start ({status}): {why}");
                assert!(
                    why.contains("refused") || why.contains("BTF") || why.contains("tracefs"),
                    "`plumb {args:?}` failed for a reason other than permissions: {why}"
                );
                eprintln!("skipping: BPF tracing is not available here: {why}");
                return None;
            }
        }
    }
}

impl Tracer {
    /// Sends Ctrl-C (SIGINT).
    pub fn interrupt(&self) {
        let status = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the tool to exit successfully; returns stdout and the rest of stderr.
    pub fn wait(mut self) -> (String, String) {
        let mut stdout = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        let stderr: Vec<String> = self.stderr.iter().collect();
        assert!(status.success(), "exit {status}: {}", stderr.join("\n"));
        (stdout, stderr.join("\n"))
    }

    /// Lets the last events cross the ring buffer, sends Ctrl-C unless `interrupt` is false (the
    /// tool stops by itself), and waits as [`Tracer::wait`] does.
    pub fn finish(self, interrupt: bool) -> (String, String) {
        std::thread::sleep(Duration::from_millis(300));
        if interrupt {
            self.interrupt();
        }
        self.wait()
    }
}

/// One JSON object per line.
pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}
