//! The system constants the parsers need: clock ticks per second, the page size, and the
//! open-files limit.
#![allow(unsafe_code)] // libc calls that only read constants and limits, each with a SAFETY comment

/// Clock ticks per second (`USER_HZ`), the unit of /proc/stat and /proc/PID/stat times.
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a constant; _SC_CLK_TCK is a valid name.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// The page size in bytes.
pub fn page_size() -> u64 {
    // SAFETY: sysconf only reads a constant; _SC_PAGESIZE is a valid name.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

/// The soft limit on open files of this process (`RLIMIT_NOFILE`); 1024 if it cannot be read.
pub fn open_files_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the valid, exclusively borrowed `lim`.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if rc == 0 { lim.rlim_cur } else { 1024 }
}
