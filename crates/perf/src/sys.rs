//! The raw operating-system calls of plumb-perf: perf_event_open, the perf ioctls, mmap/munmap of
//! the ring buffers, poll, and the shared-memory protocol of the ring's control page.
//!
//! Every `unsafe` block of the crate lives here, each with its `// SAFETY:` argument; the rest of
//! the crate sees safe functions and the [`RingMap`] type. Design decision: records are copied out
//! of the shared data area with raw-pointer copies of exactly the bytes between `data_tail` and
//! `data_head` (read with Acquire), never borrowed as `&[u8]`, because the kernel keeps writing
//! the rest of that memory while we read.
#![allow(unsafe_code)] // perf_event_open, ioctl, mmap, poll and the ring's atomics; each block has a SAFETY comment

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use perf_event_open_sys as pes;
use perf_event_open_sys::bindings::{perf_event_attr, perf_event_mmap_page};

/// Opens one perf event with `PERF_FLAG_FD_CLOEXEC`; `pid` -1 means every process, `cpu` -1
/// any CPU.
pub(crate) fn perf_event_open(attr: &perf_event_attr, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    // The kernel may write the size it expects back into the struct on E2BIG, so it gets a copy.
    let mut attr = *attr;
    // SAFETY: `attr` is a fully initialised perf_event_attr (built from its zeroed Default) that
    // lives across the call; group_fd -1 names no group; the flag is a valid PERF_FLAG_*.
    let fd = unsafe {
        pes::perf_event_open(&mut attr, pid, cpu, -1, libc::c_ulong::from(pes::bindings::PERF_FLAG_FD_CLOEXEC))
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `PERF_EVENT_IOC_ENABLE`: starts counting and sampling.
pub(crate) fn enable(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: ENABLE takes an integer argument (0: this event only) and touches no user memory.
    check(unsafe { pes::ioctls::ENABLE(fd.as_raw_fd(), 0) })
}

/// `PERF_EVENT_IOC_DISABLE`: stops counting and sampling.
pub(crate) fn disable(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: DISABLE takes an integer argument (0: this event only) and touches no user memory.
    check(unsafe { pes::ioctls::DISABLE(fd.as_raw_fd(), 0) })
}

/// `PERF_EVENT_IOC_SET_OUTPUT`: sends `fd`'s records into the ring buffer mapped on `target`
/// (both must be on the same CPU).
pub(crate) fn set_output(fd: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: SET_OUTPUT takes another perf fd as an integer; both fds are open for the call.
    check(unsafe { pes::ioctls::SET_OUTPUT(fd.as_raw_fd(), target.as_raw_fd()) })
}

/// Reads an event's counter with `read_format = PERF_FORMAT_LOST`: `[value, lost samples]`.
pub(crate) fn read_value_and_lost(fd: BorrowedFd<'_>) -> io::Result<[u64; 2]> {
    let mut values = [0u64; 2];
    // SAFETY: `values` is a live, exclusively borrowed 16-byte buffer and read writes at most
    // the length passed.
    let n = unsafe { libc::read(fd.as_raw_fd(), values.as_mut_ptr().cast(), std::mem::size_of_val(&values)) };
    match usize::try_from(n) {
        Ok(16) => Ok(values),
        Ok(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short read of a perf counter")),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// Reads a counting event with `read_format = TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING`:
/// `[value, time enabled in ns, time running in ns]`.
pub(crate) fn read_counter(fd: BorrowedFd<'_>) -> io::Result<[u64; 3]> {
    let mut values = [0u64; 3];
    // SAFETY: `values` is a live, exclusively borrowed 24-byte buffer and read writes at most
    // the length passed.
    let n = unsafe { libc::read(fd.as_raw_fd(), values.as_mut_ptr().cast(), std::mem::size_of_val(&values)) };
    match usize::try_from(n) {
        Ok(24) => Ok(values),
        Ok(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short read of a perf counter")),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// The page size in bytes.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf only reads a constant; _SC_PAGESIZE is a valid name.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

/// What poll(2) said about one fd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PollState {
    /// Data is ready (POLLIN).
    pub readable: bool,
    /// The event's task is gone or the event is dead (POLLHUP or POLLERR).
    pub hung_up: bool,
}

/// Waits until one of `fds` is readable or `timeout` passes (`None`: forever). An interrupted
/// wait (EINTR) returns with nothing ready.
pub(crate) fn poll(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Vec<PollState>> {
    let mut pollfds: Vec<libc::pollfd> =
        fds.iter().map(|fd| libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    let timeout_ms = timeout.map_or(-1, |t| libc::c_int::try_from(t.as_millis()).unwrap_or(libc::c_int::MAX));
    let count = libc::nfds_t::try_from(pollfds.len()).unwrap_or(libc::nfds_t::MAX);
    // SAFETY: `pollfds` is a live, exclusively borrowed array of `count` pollfd structs.
    let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), count, timeout_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![PollState::default(); fds.len()]);
        }
        return Err(err);
    }
    Ok(pollfds
        .iter()
        .map(|p| PollState {
            readable: p.revents & libc::POLLIN != 0,
            hung_up: p.revents & (libc::POLLHUP | libc::POLLERR) != 0,
        })
        .collect())
}

/// One mapped perf ring buffer: a control page (`perf_event_mmap_page`) followed by a
/// power-of-two number of data pages, unmapped on drop.
#[derive(Debug)]
pub(crate) struct RingMap {
    base: NonNull<u8>,
    map_len: usize,
    data_offset: usize,
    data_size: usize,
}

// SAFETY: the mapping is owned by this value alone; moving it to another thread moves the only
// handle, and the kernel side does not care which thread reads.
unsafe impl Send for RingMap {}

impl RingMap {
    /// Maps the ring buffer of a perf fd: one control page plus `data_pages` (a power of two).
    pub(crate) fn new(fd: BorrowedFd<'_>, data_pages: usize) -> io::Result<RingMap> {
        let page = page_size();
        let map_len = data_pages
            .checked_add(1)
            .and_then(|p| p.checked_mul(page))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "ring buffer size overflows"))?;
        // SAFETY: a fresh shared read-write mapping of a perf fd at an address the kernel picks;
        // no existing memory is affected. The result is checked against MAP_FAILED.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(addr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        let control = base.cast::<perf_event_mmap_page>().as_ptr();
        // SAFETY: the control page is mapped and at least size_of::<perf_event_mmap_page>() long
        // (1088 bytes < one page); the kernel set data_offset and data_size before mmap returned
        // and never changes them, so plain reads of these two fields race with nothing.
        let (offset, size) = unsafe { ((*control).data_offset, (*control).data_size) };
        let data_bytes = map_len - page;
        let (data_offset, data_size) = match (usize::try_from(offset), usize::try_from(size)) {
            // Kernels before 4.1 leave both 0: the data follows the control page.
            (Ok(o), Ok(s)) if s > 0 && o.checked_add(s).is_some_and(|end| end <= map_len) => (o, s),
            _ => (page, data_bytes),
        };
        Ok(RingMap { base, map_len, data_offset, data_size })
    }

    /// The size of the data area in bytes.
    pub(crate) fn data_size(&self) -> usize {
        self.data_size
    }

    fn control_word(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: `offset` is the offset of data_head or data_tail in the control page, which is
        // 8-byte aligned (page-aligned base + 1024/1032) and mapped for as long as `self` lives;
        // the kernel accesses these words atomically too (READ_ONCE/smp_store_release).
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast::<u64>()) }
    }

    /// `data_head`, read with Acquire: the records before it are fully written.
    pub(crate) fn head(&self) -> u64 {
        self.control_word(std::mem::offset_of!(perf_event_mmap_page, data_head)).load(Ordering::Acquire)
    }

    /// `data_tail`: how far we have consumed (only we write it).
    pub(crate) fn tail(&self) -> u64 {
        self.control_word(std::mem::offset_of!(perf_event_mmap_page, data_tail)).load(Ordering::Relaxed)
    }

    /// Stores `data_tail` with Release: every read of the consumed bytes happens before the
    /// kernel may overwrite them.
    pub(crate) fn set_tail(&self, tail: u64) {
        self.control_word(std::mem::offset_of!(perf_event_mmap_page, data_tail)).store(tail, Ordering::Release);
    }

    /// Appends `len` bytes of the data area starting at ring position `from` (a free-running
    /// counter, taken modulo the size) to `out`, wrapping around the end. `len` is capped at
    /// the data size. Only call it for bytes between `tail()` and a `head()` already read.
    pub(crate) fn copy_out(&self, from: u64, len: usize, out: &mut Vec<u8>) {
        let len = len.min(self.data_size);
        // The data size is a power of two that fits in usize, so the remainder does too.
        let start = usize::try_from(from % self.data_size as u64).unwrap_or(0);
        let first = len.min(self.data_size - start);
        let second = len - first;
        out.reserve(len);
        let data = self.base.as_ptr().wrapping_add(self.data_offset);
        // SAFETY: `start + first <= data_size` and `second <= start`, so both source ranges lie
        // inside the mapped data area; `out` has `len` spare bytes reserved, written before the
        // length is raised. The kernel does not write between data_tail and data_head.
        unsafe {
            let dst = out.as_mut_ptr().add(out.len());
            std::ptr::copy_nonoverlapping(data.add(start), dst, first);
            std::ptr::copy_nonoverlapping(data, dst.add(first), second);
            out.set_len(out.len() + len);
        }
    }
}

impl Drop for RingMap {
    fn drop(&mut self) {
        // SAFETY: `base`/`map_len` are exactly the mapping made in `new`, unmapped only here, and
        // no reference into it outlives `self` (control_word borrows `self`).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.map_len);
        }
    }
}
