//! The loop every snoop tool shares: load and attach its BPF object, read records until Ctrl-C
//! or the duration ends, decode, filter and print each, then read the loss counters.
//!
//! Design decision: a tool is only its event type (a [`SnoopEvent`]: decoder, filter, line and
//! JSON forms) plus the settings it hands the kernel; [`Snoop`] owns everything else, so every
//! tool stops, flushes and reports losses the same way. After the stop flag is seen the ring
//! is drained once more, so events that happened before the stop are not lost to timing.

use std::io::Write;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plumb_bpf::{Drops, Global, MonotonicClock, Tracer, objects};
use serde_json::json;

use crate::Error;
use crate::exec::{ExecEvent, ExecFilter};
use crate::open::{OpenEvent, OpenFilter};
use crate::record::DecodeError;

/// How long one wait on the ring lasts before the stop flag and the deadline are checked.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// An event type a snoop tool prints.
pub trait SnoopEvent: Sized {
    /// The user's filter for this event type; it may also carry what printing needs (iosnoop's
    /// device names).
    type Filter;
    /// Decodes one ring buffer record.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
    /// True when the event passes `filter`.
    fn passes(&self, filter: &Self::Filter) -> bool;
    /// The column headers of the line form.
    fn header() -> String;
    /// The line form; `clock` turns the event's BPF timestamps into wall-clock time.
    fn line(&self, clock: &MonotonicClock, filter: &Self::Filter) -> String;
    /// The JSON form; `clock` turns the event's BPF timestamps into wall-clock time.
    fn json(&self, clock: &MonotonicClock, filter: &Self::Filter) -> serde_json::Value;
}

/// Implements [`SnoopEvent`] for an event type with one BPF timestamp, `ts_ns`, and inherent
/// `decode`, `header`, `line(unix_ns)` and `json(unix_ns)`; `|event, filter| EXPR` is its filter
/// test. iosnoop's event, with two times and a device name, implements the trait by hand.
macro_rules! one_time_snoop_event {
    ($event:ty, $filter:ty, |$e:ident, $f:ident| $passes:expr) => {
        impl $crate::snoop::SnoopEvent for $event {
            type Filter = $filter;
            fn decode(bytes: &[u8]) -> Result<Self, $crate::record::DecodeError> {
                <$event>::decode(bytes)
            }
            fn passes(&self, $f: &$filter) -> bool {
                let $e = self;
                $passes
            }
            fn header() -> String {
                <$event>::header()
            }
            fn line(&self, clock: &plumb_bpf::MonotonicClock, _: &$filter) -> String {
                <$event>::line(self, clock.to_unix_ns(self.ts_ns))
            }
            fn json(&self, clock: &plumb_bpf::MonotonicClock, _: &$filter) -> serde_json::Value {
                <$event>::json(self, clock.to_unix_ns(self.ts_ns))
            }
        }
    };
}
pub(crate) use one_time_snoop_event;

one_time_snoop_event!(ExecEvent, ExecFilter, |event, filter| filter.matches(event));
one_time_snoop_event!(OpenEvent, OpenFilter, |event, filter| filter.matches(event));

/// How a snoop run prints and ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Stop after this long. Default: run until the stop flag is set.
    pub duration: Option<Duration>,
    /// One JSON object per line instead of a table, and a final summary object. Default: false.
    pub json: bool,
}

/// What a run saw and lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// The tool's name.
    pub tool: &'static str,
    /// Records read from the ring buffer.
    pub received: u64,
    /// Events printed (received, decoded and passing the filter).
    pub shown: u64,
    /// Records too short to decode.
    pub malformed: u64,
    /// Events the kernel side could not deliver.
    pub drops: Drops,
}

impl Summary {
    /// The summary as the last JSON line of a `--json` run.
    pub fn json(&self) -> serde_json::Value {
        json!({"summary": {
            "tool": self.tool,
            "received": self.received,
            "shown": self.shown,
            "malformed": self.malformed,
            "lost": self.drops.total(),
            "lost_ring_full": self.drops.ring_full,
            "lost_table_full": self.drops.table_full,
        }})
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} events shown of {} received, {} lost (ring buffer full: {}, in-flight table full: {})",
            self.tool,
            self.shown,
            self.received,
            self.drops.total(),
            self.drops.ring_full,
            self.drops.table_full
        )?;
        if self.malformed > 0 {
            write!(f, ", {} malformed records", self.malformed)?;
        }
        Ok(())
    }
}

/// A loaded and attached snoop tool, ready to [`run`](Snoop::run).
pub struct Snoop<E: SnoopEvent> {
    tool: &'static str,
    tracer: Tracer,
    filter: E::Filter,
    clock: MonotonicClock,
    event: PhantomData<E>,
}

impl<E: SnoopEvent> std::fmt::Debug for Snoop<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snoop").field("tool", &self.tool).field("tracer", &self.tracer).finish_non_exhaustive()
    }
}

/// Starts execsnoop: `syscalls:sys_enter_execve` and `sys_exit_execve`. The filter runs in
/// user space (execs are rare; `-p` also matches children, which the kernel cannot know yet).
pub fn execsnoop(filter: ExecFilter) -> Result<Snoop<ExecEvent>, Error> {
    let tracer = plumb_bpf::load(&objects::EXECSNOOP, &[("targ_tgid", Global::U32(0))])?;
    Ok(Snoop { tool: "execsnoop", tracer, filter, clock: MonotonicClock::now(), event: PhantomData })
}

/// Starts opensnoop: open, openat and openat2 where the kernel has them. The pid and
/// failed-only filters also run in the kernel, so what they exclude takes no ring space.
pub fn opensnoop(filter: OpenFilter) -> Result<Snoop<OpenEvent>, Error> {
    let globals = [
        ("targ_tgid", Global::U32(filter.pid.unwrap_or(0))),
        ("targ_failed", Global::U8(u8::from(filter.failed_only))),
    ];
    let tracer = plumb_bpf::load(&objects::OPENSNOOP, &globals)?;
    Ok(Snoop { tool: "opensnoop", tracer, filter, clock: MonotonicClock::now(), event: PhantomData })
}

impl<E: SnoopEvent> Snoop<E> {
    /// A snoop tool over an already loaded `tracer` (the constructor other tools' modules use).
    pub(crate) fn new(tool: &'static str, tracer: Tracer, filter: E::Filter) -> Snoop<E> {
        Snoop { tool, tracer, filter, clock: MonotonicClock::now(), event: PhantomData }
    }

    /// The optional tracepoints this kernel lacks (not traced).
    pub fn skipped(&self) -> &[&'static str] {
        self.tracer.skipped()
    }

    /// Prints events to `out` until `stop` is set or `options.duration` passes, then returns
    /// the counts (a `--json` run also ends with the summary object). `out` is flushed after
    /// every batch so a pipe sees events as they happen.
    pub fn run(&mut self, options: &RunOptions, stop: &AtomicBool, out: &mut dyn Write) -> Result<Summary, Error> {
        let deadline = options.duration.map(|d| Instant::now() + d);
        let mut summary = Summary { tool: self.tool, ..Summary::default() };
        if !options.json {
            writeln!(out, "{}", E::header()).map_err(Error::Output)?;
            out.flush().map_err(Error::Output)?;
        }
        loop {
            let stopping = stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d);
            let timeout = match deadline {
                Some(d) => POLL_INTERVAL.min(d.saturating_duration_since(Instant::now())),
                None => POLL_INTERVAL,
            };
            self.read_batch(if stopping { Duration::ZERO } else { timeout }, options.json, out, &mut summary)?;
            if stopping {
                break;
            }
        }
        summary.drops = self.tracer.drops()?;
        if options.json {
            writeln!(out, "{}", summary.json()).map_err(Error::Output)?;
        }
        out.flush().map_err(Error::Output)?;
        Ok(summary)
    }

    fn read_batch(
        &mut self,
        timeout: Duration,
        json: bool,
        out: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<(), Error> {
        let mut failed: Option<std::io::Error> = None;
        let (clock, filter) = (self.clock, &self.filter);
        self.tracer.poll(timeout, |bytes| {
            summary.received += 1;
            let event = match E::decode(bytes) {
                Ok(event) => event,
                Err(_) => {
                    summary.malformed += 1;
                    return;
                }
            };
            if failed.is_some() || !event.passes(filter) {
                return;
            }
            let written = if json {
                writeln!(out, "{}", event.json(&clock, filter))
            } else {
                writeln!(out, "{}", event.line(&clock, filter))
            };
            match written {
                Ok(()) => summary.shown += 1,
                Err(e) => failed = Some(e),
            }
        })?;
        if let Some(e) = failed {
            return Err(Error::Output(e));
        }
        out.flush().map_err(Error::Output)
    }
}
