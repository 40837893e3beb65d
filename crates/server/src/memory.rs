//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory a program frees for reuse, so the resident size after a burst
//! (a compaction holds a block's samples while it writes them; a request decompresses its
//! body) stays at the burst's peak although the store needs far less. [`release_free_memory`]
//! asks glibc (`malloc_trim`) to return the free pages, which the server does after each
//! maintenance round.
#![allow(unsafe_code)] // one libc call with a SAFETY comment

/// Returns free heap pages to the operating system; true if any were released.
pub fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes a padding size and only reorganizes glibc's own free lists; it
    // touches no memory the program holds and is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}
