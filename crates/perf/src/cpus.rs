//! Where events go: the online CPUs (from /sys/devices/system/cpu/online) and the threads of a
//! process (from /proc/PID/task).
//!
//! Design decision: the CPU list parser is a pure function over the file's text, so its edge
//! cases (ranges, singletons, a trailing newline, garbage) are tested without a machine that has
//! them.

use std::path::Path;

use crate::error::Error;

/// The largest CPU number accepted, far above any machine, so a corrupt file cannot make the
/// session open billions of events.
const MAX_CPU: u32 = 1 << 16;

/// Parses a kernel CPU list such as `0-3,5,7-8\n` into sorted, de-duplicated CPU numbers.
pub fn parse_cpu_list(text: &str) -> Result<Vec<u32>, Error> {
    let bad = |reason| Error::CpuList { text: text.chars().take(200).collect(), reason };
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>(), b.trim().parse::<u32>()),
            None => (part.trim().parse::<u32>(), part.trim().parse::<u32>()),
        };
        let (first, last) = (first.map_err(|_| bad("not a number"))?, last.map_err(|_| bad("not a number"))?);
        if first > last {
            return Err(bad("a range runs backwards"));
        }
        if last > MAX_CPU {
            return Err(bad("a CPU number is implausibly large"));
        }
        cpus.extend(first..=last);
    }
    if cpus.is_empty() {
        return Err(bad("no CPUs listed"));
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// The online CPUs of this machine.
pub fn online_cpus() -> Result<Vec<u32>, Error> {
    let path = Path::new("/sys/devices/system/cpu/online");
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    parse_cpu_list(&text)
}

/// The thread ids of a process, from /proc/PID/task.
pub fn threads_of(pid: u32) -> Result<Vec<u32>, Error> {
    let dir = format!("/proc/{pid}/task");
    let entries = std::fs::read_dir(&dir).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NoSuchProcess { pid }
        } else {
            Error::Read { path: dir.clone().into(), source }
        }
    })?;
    let mut tids: Vec<u32> =
        entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok())).collect();
    tids.sort_unstable();
    Ok(tids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_ranges_and_singletons() {
        assert_eq!(parse_cpu_list("0-3,5,7-8\n").unwrap(), vec![0, 1, 2, 3, 5, 7, 8]);
        assert_eq!(parse_cpu_list("0\n").unwrap(), vec![0]);
        assert_eq!(parse_cpu_list("2,0-1,1").unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "\n", "a", "3-1", "0-", "1,,x", "0-4294967295"] {
            assert!(matches!(parse_cpu_list(text), Err(Error::CpuList { .. })), "{text:?}");
        }
    }

    #[test]
    fn this_machine_has_an_online_cpu_and_this_process_a_thread() {
        assert!(!online_cpus().unwrap().is_empty());
        assert!(threads_of(std::process::id()).unwrap().contains(&std::process::id()));
        assert!(matches!(threads_of(u32::MAX), Err(Error::NoSuchProcess { pid: u32::MAX })));
    }

    proptest! {
        #[test]
        fn never_panics(text in "[0-9,\\- \n]{0,40}") {
            let _ = parse_cpu_list(&text);
        }
    }
}
