//! The agent's own resource use, read from `/proc/self`: CPU time, resident memory, threads.

/// One reading of `/proc/self/stat` and `/proc/self/statm`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SelfUsage {
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Resident set size, bytes.
    pub resident_bytes: u64,
    /// Number of threads.
    pub threads: u64,
}

impl SelfUsage {
    /// Reads this process's usage; `None` when /proc is unavailable or unreadable.
    pub fn read() -> Option<SelfUsage> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let ticks = plumb_collect::source::sysconf::ticks_per_second();
        let page = plumb_collect::source::sysconf::page_size();
        parse(&stat, &statm, ticks, page)
    }
}

/// Parses the two files: `stat` fields 14 (utime), 15 (stime), 20 (num_threads), counted after
/// the command name in parentheses (which may itself hold spaces and parentheses), and `statm`'s
/// second field (resident pages).
pub fn parse(stat: &str, statm: &str, ticks_per_second: u64, page_size: u64) -> Option<SelfUsage> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Fields from 3 (state) on: field N is at index N - 3.
    let fields: Vec<&str> = after_comm.split_ascii_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let ticks = field(14)?.saturating_add(field(15)?);
    let resident_pages: u64 = statm.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(SelfUsage {
        cpu_seconds: ticks as f64 / ticks_per_second.max(1) as f64,
        resident_bytes: resident_pages.saturating_mul(page_size),
        threads: field(20)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_odd_command_names() {
        let stat = "4242 (plumb (a) b) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 4 0 1234 10000000 800 18446744073709551615";
        let u = parse(stat, "2500 800 300 100 0 500 0\n", 100, 4096).unwrap();
        assert_eq!(u, SelfUsage { cpu_seconds: 3.0, resident_bytes: 800 * 4096, threads: 4 });
        assert_eq!(parse("1 (x) S 1", "1 2", 100, 4096), None, "truncated stat");
        assert_eq!(parse(stat, "", 100, 4096), None, "empty statm");
    }

    #[test]
    fn reads_this_process() {
        let u = SelfUsage::read().expect("/proc/self is readable");
        assert!(u.resident_bytes > 0 && u.threads >= 1);
    }
}
