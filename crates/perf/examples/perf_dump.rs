//! Samples for a few seconds and prints what came out of the ring buffers: record counts by
//! kind, the session's counters, and one example sample. A quick sanity check of plumb-perf on a
//! real kernel.
//!
//! Usage: `cargo run -p plumb-perf --example perf_dump -- [SECONDS] [--pid PID ...]
//! [--event cpu-clock|page-faults|context-switches] [-F HZ]`. Default: 3 seconds, all CPUs,
//! cpu-clock at 99 Hz. Design decision: plain argument parsing, so the example needs no
//! dependency beyond the crate.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use plumb_perf::{Event, Record, SampleRate, SamplingConfig, Session, Target};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_dump: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SamplingConfig::default();
    let mut seconds = 3.0;
    let mut pids = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pid" | "-p" => pids.push(args.next().ok_or("--pid needs a value")?.parse()?),
            "--event" | "-e" => {
                let name = args.next().ok_or("--event needs a value")?;
                config.event = Event::from_name(&name).ok_or(format!("unknown event {name}"))?;
            }
            "-F" => config.rate = SampleRate::Frequency(args.next().ok_or("-F needs a value")?.parse()?),
            other => seconds = other.parse()?,
        }
    }
    if !pids.is_empty() {
        config.target = Target::Pids(pids);
    }
    let mut session = Session::open(&config)?;
    println!("{} events, rings on CPUs {:?}", session.event_count(), session.cpus());
    session.enable()?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut example = None;
    let mut records = Vec::new();
    let mut drain = |session: &mut Session| {
        records.clear();
        session.drain(&mut records);
        for record in records.drain(..) {
            *kinds.entry(kind_name(&record)).or_default() += 1;
            if let Record::Sample(s) = &record
                && example.is_none()
                && !s.user_ips.is_empty()
            {
                example = Some(s.clone());
            }
        }
    };
    while Instant::now() < deadline {
        let ready =
            session.poll(Some(deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(100))))?;
        drain(&mut session);
        if ready.all_hung_up() {
            println!("every watched task exited");
            break;
        }
    }
    session.disable()?;
    drain(&mut session);
    println!("sampled {:.2} s", start.elapsed().as_secs_f64());
    for (kind, n) in &kinds {
        println!("{kind:>14} {n}");
    }
    println!("{:#?}", session.stats());
    println!("lost samples (PERF_FORMAT_LOST): {:?}", session.read_lost_samples()?);
    if let Some(s) = example {
        println!(
            "example sample: pid {} tid {} cpu {} period {} kernel frames {} user frames {} regs {:x?} stack {} bytes",
            s.pid,
            s.tid,
            s.cpu,
            s.period,
            s.kernel_ips.len(),
            s.user_ips.len(),
            s.user_regs,
            s.user_stack.len()
        );
    }
    Ok(())
}

fn kind_name(record: &Record) -> &'static str {
    match record {
        Record::Sample(_) => "sample",
        Record::Mmap(_) => "mmap",
        Record::Comm(_) => "comm",
        Record::Fork(_) => "fork",
        Record::Exit(_) => "exit",
        Record::Lost { .. } => "lost",
        Record::LostSamples { .. } => "lost-samples",
        Record::Throttle(_) => "throttle",
        Record::Unthrottle(_) => "unthrottle",
        Record::Unknown { .. } => "unknown",
    }
}
