//! The raw operating-system calls of plumb-bpf: mounting tracefs, polling a ring buffer's file
//! descriptor, and reading the two clocks.
//!
//! Every `unsafe` block of the crate lives here, each with its `// SAFETY:` argument. Design
//! decision: plain `libc` calls on borrowed descriptors and stack values, so no pointer escapes a
//! function and the rest of the crate stays safe code.
#![allow(unsafe_code)] // mount, poll and clock_gettime through libc; each block has a SAFETY comment

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Mounts a tracefs instance at `target` (`mount -t tracefs tracefs TARGET`).
pub(crate) fn mount_tracefs(target: &str) -> io::Result<()> {
    let source = CString::new("tracefs").map_err(io::Error::other)?;
    let target = CString::new(target).map_err(io::Error::other)?;
    // SAFETY: all three strings are NUL-terminated and outlive the call; no data argument.
    let rc = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), source.as_ptr(), 0, std::ptr::null()) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Waits until `fd` is readable or `timeout` passes; true when readable. EINTR counts as a
/// timeout so the caller re-checks its stop flag.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pfd` is one valid pollfd on the stack for the duration of the call, count 1.
    let rc = unsafe { libc::poll(&mut pfd, 1, millis) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(err) };
    }
    Ok(rc > 0)
}

/// Reads a clock in nanoseconds.
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec on the stack; both clocks used here always exist on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// CLOCK_MONOTONIC, the clock of `bpf_ktime_get_ns`.
pub(crate) fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CLOCK_REALTIME, nanoseconds since the Unix epoch.
pub(crate) fn realtime_ns() -> u64 {
    clock_ns(libc::CLOCK_REALTIME)
}
