//! Helpers for the end-to-end tests: start the real `plumb` binary and the sysstat tools, wait
//! for them with a deadline, and read their output (JSON lines from plumb, text tables from
//! sysstat).
//!
//! Every test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

pub mod listening;
pub mod machine;
pub mod plumb;
pub mod sysstat;
pub mod tracer;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A child process whose stdout and stderr are drained by threads; killed if dropped unfinished.
pub struct Running {
    name: String,
    child: Option<Child>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    /// Starts `cmd` with stdout and stderr piped; `name` labels failures.
    pub fn spawn(name: &str, cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Running { name: name.to_string(), child: Some(child), stdout, stderr }
    }

    /// Waits up to `timeout` for the process to exit and returns its stdout. Panics, showing
    /// stderr, when it times out or exits unsuccessfully.
    pub fn finish(mut self, timeout: Duration) -> String {
        let Some(mut child) = self.child.take() else { panic!("{} was already finished", self.name) };
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let err = self.stderr_text();
                    panic!("{} did not finish within {timeout:?}; stderr:\n{err}", self.name);
                }
                Err(e) => panic!("waiting for {}: {e}", self.name),
            }
        };
        let out = self.stdout.take().and_then(|h| h.join().ok()).unwrap_or_default();
        let out = String::from_utf8_lossy(&out).into_owned();
        if !status.success() {
            let err = self.stderr_text();
            panic!("{} failed ({status}); stderr:\n{err}\nstdout:\n{out}", self.name);
        }
        out
    }

    fn stderr_text(&mut self) -> String {
        let err = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        String::from_utf8_lossy(&err).into_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// How long to wait for a tool started with `interval` 1 and `count` intervals.
pub fn deadline_for(count: u32) -> Duration {
    Duration::from_secs(u64::from(count) + 15)
}

/// Relative difference of `ours` from `theirs`, as a fraction of `theirs`.
pub fn rel_diff(ours: f64, theirs: f64) -> f64 {
    if theirs == 0.0 { if ours == 0.0 { 0.0 } else { f64::INFINITY } } else { (ours - theirs).abs() / theirs.abs() }
}

/// The arithmetic mean; NaN for an empty slice.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}
