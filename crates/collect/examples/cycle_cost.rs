//! Cost of one collection cycle per source on this machine: wall and CPU time per cycle.
//!
//!     cargo run --release -p plumb-collect --example cycle_cost [CYCLES]

use std::time::Instant;

use plumb_collect::{Collector, Group, Options};

fn cpu_time_us() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // utime and stime are fields 14 and 15; after the comm, field 3 is at index 0.
    (f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) * 10_000
}

fn main() {
    let cycles: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let mut rows = Vec::new();
    for g in Group::ALL {
        let mut c = Collector::new(Options { groups: vec![g], ..Options::default() });
        c.collect();
        let (t, cpu) = (Instant::now(), cpu_time_us());
        for _ in 0..cycles {
            c.collect();
        }
        let wall = t.elapsed().as_micros() as f64 / cycles as f64;
        let cpu = (cpu_time_us() - cpu) as f64 / cycles as f64;
        rows.push((g, wall, cpu));
    }
    let mut all = Collector::new(Options::default());
    all.collect();
    let (t, cpu) = (Instant::now(), cpu_time_us());
    for _ in 0..cycles {
        all.collect();
    }
    for (g, wall, cpu) in rows {
        println!("{:<8} {:>8.1} us wall {:>8.1} us cpu", g.as_str(), wall, cpu);
    }
    println!(
        "{:<8} {:>8.1} us wall {:>8.1} us cpu  ({} cycles each)",
        "all",
        t.elapsed().as_micros() as f64 / cycles as f64,
        (cpu_time_us() - cpu) as f64 / cycles as f64,
        cycles
    );
}
