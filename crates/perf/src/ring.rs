//! Reading a perf ring buffer: copy out what the kernel wrote, hand the space back, then cut the
//! copy into records.
//!
//! Design decision: each read copies all bytes between `data_tail` and `data_head` (two copies
//! when they wrap past the end of the data area) into a reused buffer and advances `data_tail`
//! at once, before any parsing. The kernel gets its space back as early as possible (fewer lost
//! records under load), a record that crosses the end of the ring needs no special case, and the
//! parser sees plain contiguous bytes.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::record::HEADER_BYTES;
use crate::sys::RingMap;

/// One mapped ring buffer and the event fd that owns it.
#[derive(Debug)]
pub(crate) struct RingBuffer {
    map: RingMap,
    fd: OwnedFd,
    cpu: u32,
}

impl RingBuffer {
    /// Maps `pages` data pages of `fd`'s ring buffer.
    pub(crate) fn new(fd: OwnedFd, cpu: u32, pages: usize) -> std::io::Result<RingBuffer> {
        let map = RingMap::new(fd.as_fd(), pages)?;
        Ok(RingBuffer { map, fd, cpu })
    }

    /// The fd that owns the ring (poll it; redirect other events into it).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The CPU the ring collects from.
    pub(crate) fn cpu(&self) -> u32 {
        self.cpu
    }

    /// Appends every unread byte to `out` and marks it consumed; returns how many.
    pub(crate) fn read_into(&mut self, out: &mut Vec<u8>) -> usize {
        let head = self.map.head();
        let tail = self.map.tail();
        let available = head.wrapping_sub(tail);
        // A head more than a ring ahead of the tail cannot happen unless the control page is
        // corrupt; then the whole ring is read and the parser resynchronises or reports it.
        let len = usize::try_from(available).unwrap_or(usize::MAX).min(self.map.data_size());
        if len > 0 {
            self.map.copy_out(tail, len, out);
        }
        self.map.set_tail(head);
        len
    }
}

/// Cuts a run of records into single records by their headers' sizes. Yields `Err(())` once and
/// stops when a header is cut short or gives a size below the header's or beyond the bytes left.
pub(crate) fn split_records(mut bytes: &[u8]) -> impl Iterator<Item = Result<&[u8], ()>> {
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || bytes.is_empty() {
            return None;
        }
        let size =
            bytes.get(6..8).and_then(|s| <[u8; 2]>::try_from(s).ok()).map(|s| usize::from(u16::from_ne_bytes(s)));
        match size {
            Some(size) if size >= HEADER_BYTES && size <= bytes.len() => {
                let (record, rest) = bytes.split_at(size);
                bytes = rest;
                Some(Ok(record))
            }
            _ => {
                failed = true;
                Some(Err(()))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(kind: u32, size: u16) -> Vec<u8> {
        let mut h = kind.to_ne_bytes().to_vec();
        h.extend(0u16.to_ne_bytes());
        h.extend(size.to_ne_bytes());
        h.resize(usize::from(size), 0xaa);
        h
    }

    #[test]
    fn splits_back_to_back_records() {
        let mut bytes = header(9, 16);
        bytes.extend(header(3, 8));
        bytes.extend(header(10, 24));
        let sizes: Vec<usize> = split_records(&bytes).map(|r| r.unwrap().len()).collect();
        assert_eq!(sizes, vec![16, 8, 24]);
    }

    #[test]
    fn stops_at_a_bad_header() {
        let mut bytes = header(9, 16);
        bytes.extend(header(3, 4).get(..4).unwrap());
        let mut it = split_records(&bytes);
        assert_eq!(it.next().map(|r| r.map(<[u8]>::len)), Some(Ok(16)));
        assert_eq!(it.next().map(|r| r.map(<[u8]>::len)), Some(Err(())));
        assert_eq!(it.next(), None);
        let mut oversized = header(9, 16);
        oversized.truncate(12);
        assert_eq!(split_records(&oversized).collect::<Vec<_>>(), vec![Err(())]);
        let mut zero = header(9, 8);
        zero[6] = 0;
        assert_eq!(split_records(&zero).collect::<Vec<_>>(), vec![Err(())]);
    }

    proptest! {
        #[test]
        fn split_never_panics_and_covers_the_input(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut covered = 0;
            for record in split_records(&bytes) {
                match record {
                    Ok(r) => covered += r.len(),
                    Err(()) => covered = bytes.len(),
                }
            }
            prop_assert_eq!(covered, bytes.len());
        }
    }
}
