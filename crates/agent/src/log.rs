//! The agent's log: one line per event on stderr, prefixed `plumb agent: `. Events that could
//! repeat every cycle go through a [`Throttle`].

use std::fmt::Display;
use std::time::{Duration, Instant};

/// Writes one log line.
pub fn log(msg: impl Display) {
    eprintln!("plumb agent: {msg}");
}

/// Lets a recurring message through at most once per `every`, saying how many were held back.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    held: u64,
}

impl Throttle {
    /// A throttle letting one message through per `every`.
    pub fn new(every: Duration) -> Self {
        Throttle { every, last: None, held: 0 }
    }

    /// Logs `msg` unless one went out less than `every` ago.
    pub fn log(&mut self, msg: impl Display) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < self.every) {
            self.held += 1;
            return;
        }
        match std::mem::take(&mut self.held) {
            0 => log(msg),
            n => log(format_args!("{msg} ({n} similar messages held back)")),
        }
        self.last = Some(now);
    }
}
