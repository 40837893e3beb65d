//! The two system constants the parsers need: clock ticks per second and the page size.
#![allow(unsafe_code)] // two libc::sysconf calls, each with a SAFETY comment

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
