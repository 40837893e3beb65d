//! Per-process module maps: which executable mapping covers an address, at which file offset.
//!
//! A process's map starts from `/proc/PID/maps` the first time the process is seen and then follows
//! perf's MMAP2, FORK, EXEC and EXIT records. Design decision: a map is a `BTreeMap` of
//! non-overlapping ranges keyed by start address, and a new mapping cuts whatever it overlaps (as
//! `mmap(MAP_FIXED)` does in the kernel), so the latest record always wins and a lookup is one
//! range query. Parsing is separate from reading (`parse_proc_maps` takes text) so it is tested on
//! captured and generated input.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::files::FileId;

/// What backs an executable mapping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Backing {
    /// A file, by the path the process sees (without a " (deleted)" suffix).
    File {
        /// The path as the process names it (inside its own mount namespace).
        path: Arc<str>,
        /// True when the kernel marked the file " (deleted)" (replaced or removed since mapped).
        deleted: bool,
        /// Device and inode from /proc/PID/maps, when known (perf MMAP2 updates leave them unknown).
        dev_inode: Option<(u64, u64)>,
    },
    /// The kernel's virtual shared object, `[vdso]`.
    Vdso,
    /// Anonymous executable memory (JIT-compiled code; names from /tmp/perf-PID.map).
    Anonymous,
    /// Another pseudo mapping such as `[vsyscall]` or `[uprobes]`, by its bracketed name.
    Special(Arc<str>),
}

/// One executable mapping of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First address of the mapping.
    pub start: u64,
    /// One past the last address of the mapping.
    pub end: u64,
    /// File offset of `start` (0 for anonymous memory).
    pub pgoff: u64,
    /// What the mapping holds.
    pub backing: Backing,
    /// The opened module file, for file-backed mappings whose file could be opened.
    pub file: Option<FileId>,
}

impl Mapping {
    /// The file offset that `addr` (inside the mapping) corresponds to.
    pub fn file_offset(&self, addr: u64) -> u64 {
        addr.wrapping_sub(self.start).wrapping_add(self.pgoff)
    }

    /// The name shown for the mapping in frames: the file's base name, `[vdso]`, `[anon]`, ...
    pub fn display_name(&self) -> Arc<str> {
        match &self.backing {
            Backing::File { path, .. } => match path.rsplit_once('/') {
                Some((_, base)) if !base.is_empty() => Arc::from(base),
                _ => path.clone(),
            },
            Backing::Vdso => Arc::from("[vdso]"),
            Backing::Anonymous => Arc::from("[anon]"),
            Backing::Special(name) => name.clone(),
        }
    }
}

/// Classifies the path column of a maps line or an MMAP2 record.
pub fn backing_for_path(path: &str, dev_inode: Option<(u64, u64)>) -> Backing {
    let path = path.trim_end_matches('\n');
    if path.is_empty() || path.starts_with("//anon") || path.starts_with("[anon") || path == "[heap]" {
        return Backing::Anonymous;
    }
    if path.starts_with("/memfd:") {
        // memfd-backed code is how some JITs map executable memory; perf maps name it.
        return Backing::Anonymous;
    }
    if path == "[vdso]" {
        return Backing::Vdso;
    }
    if path.starts_with('[') {
        return Backing::Special(Arc::from(path));
    }
    let (path, deleted) = match path.strip_suffix(" (deleted)") {
        Some(stripped) => (stripped, true),
        None => (path, false),
    };
    Backing::File { path: Arc::from(path), deleted, dev_inode: dev_inode.filter(|&(_, inode)| inode != 0) }
}

/// Parses the executable lines of a `/proc/PID/maps` text. Malformed lines are skipped and
/// counted in the second element, since a partial map is still useful.
pub fn parse_proc_maps(text: &str) -> (Vec<Mapping>, usize) {
    let mut mappings = Vec::new();
    let mut malformed = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_maps_line(line) {
            Some(Some(mapping)) => mappings.push(mapping),
            Some(None) => {}
            None => malformed += 1,
        }
    }
    (mappings, malformed)
}

/// One maps line: `None` when malformed, `Some(None)` when valid but not executable.
fn parse_maps_line(line: &str) -> Option<Option<Mapping>> {
    let mut rest = line;
    let mut field = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (head, tail) = trimmed.split_at(end);
        rest = tail;
        head
    };
    let range = field();
    let perms = field();
    let offset = field();
    let dev = field();
    let inode = field();
    let path = rest.trim_start();
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let pgoff = u64::from_str_radix(offset, 16).ok()?;
    let (major, minor) = dev.split_once(':')?;
    let dev = (u64::from_str_radix(major, 16).ok()? << 20) | u64::from_str_radix(minor, 16).ok()?;
    let inode: u64 = inode.parse().ok()?;
    if end <= start || perms.len() < 3 {
        return None;
    }
    if perms.as_bytes().get(2) != Some(&b'x') {
        return Some(None);
    }
    Some(Some(Mapping { start, end, pgoff, backing: backing_for_path(path, Some((dev, inode))), file: None }))
}

/// The executable mappings of one process, non-overlapping, keyed by start address.
#[derive(Clone, Debug, Default)]
pub struct ProcessMaps {
    by_start: BTreeMap<u64, Mapping>,
    /// Bumped on every change so that derived state (the unwinder) knows to rebuild.
    generation: u64,
}

impl ProcessMaps {
    /// A map holding `mappings` (later ones win where they overlap).
    pub fn from_mappings(mappings: impl IntoIterator<Item = Mapping>) -> Self {
        let mut maps = ProcessMaps::default();
        for mapping in mappings {
            maps.insert(mapping);
        }
        maps
    }

    /// Adds a mapping, cutting away the parts of older mappings it overlaps.
    pub fn insert(&mut self, mapping: Mapping) {
        if mapping.end <= mapping.start {
            return;
        }
        self.remove_range(mapping.start, mapping.end);
        self.by_start.insert(mapping.start, mapping);
        self.generation = self.generation.wrapping_add(1);
    }

    /// Removes `[start, end)` from every mapping, keeping the parts outside it.
    pub fn remove_range(&mut self, start: u64, end: u64) {
        let overlapping: Vec<u64> = self
            .by_start
            .range(..end)
            .rev()
            .take_while(|(_, m)| m.end > start || m.start >= start)
            .filter(|(_, m)| m.end > start)
            .map(|(&s, _)| s)
            .collect();
        for key in overlapping {
            let Some(old) = self.by_start.remove(&key) else { continue };
            if old.start < start {
                let mut left = old.clone();
                left.end = start;
                self.by_start.insert(left.start, left);
            }
            if old.end > end {
                let mut right = old.clone();
                right.pgoff = old.pgoff.wrapping_add(end - old.start);
                right.start = end;
                self.by_start.insert(right.start, right);
            }
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// The mapping that contains `addr`, if any.
    pub fn find(&self, addr: u64) -> Option<&Mapping> {
        let (_, mapping) = self.by_start.range(..=addr).next_back()?;
        (addr < mapping.end).then_some(mapping)
    }

    /// All mappings in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Mapping> {
        self.by_start.values()
    }

    /// How many mappings the process has.
    pub fn len(&self) -> usize {
        self.by_start.len()
    }

    /// True when the process has no executable mappings.
    pub fn is_empty(&self) -> bool {
        self.by_start.is_empty()
    }

    /// A counter that changes whenever the mappings change.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\
55d0c2a00000-55d0c2a02000 r--p 00000000 fd:01 1234567                    /usr/bin/cat
55d0c2a02000-55d0c2a07000 r-xp 00002000 fd:01 1234567                    /usr/bin/cat
7f1e2c000000-7f1e2c021000 rwxp 00000000 00:00 0 
7f1e2d228000-7f1e2d3ad000 r-xp 00028000 08:02 42                         /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2d400000-7f1e2d401000 r-xp 00001000 00:2a 77                         /tmp/my lib.so (deleted)
7ffd5e1f3000-7ffd5e1f5000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
garbage line
";

    #[test]
    fn parses_executable_lines_only() {
        let (mappings, malformed) = parse_proc_maps(SAMPLE);
        assert_eq!(malformed, 1);
        assert_eq!(mappings.len(), 6);
        assert_eq!(
            mappings[0],
            Mapping {
                start: 0x55d0c2a02000,
                end: 0x55d0c2a07000,
                pgoff: 0x2000,
                backing: Backing::File {
                    path: Arc::from("/usr/bin/cat"),
                    deleted: false,
                    dev_inode: Some(((0xfd << 20) | 1, 1234567))
                },
                file: None,
            }
        );
        assert_eq!(mappings[1].backing, Backing::Anonymous);
        assert_eq!(
            mappings[3].backing,
            Backing::File { path: Arc::from("/tmp/my lib.so"), deleted: true, dev_inode: Some((0x2a, 77)) }
        );
        assert_eq!(mappings[4].backing, Backing::Vdso);
        assert_eq!(mappings[5].backing, Backing::Special(Arc::from("[vsyscall]")));
        assert_eq!(mappings[2].display_name().as_ref(), "libc.so.6");
        assert_eq!(mappings[2].file_offset(0x7f1e2d228010), 0x28010);
    }

    #[test]
    fn insert_cuts_overlapped_mappings() {
        let file = |p: &str| backing_for_path(p, None);
        let mut maps = ProcessMaps::from_mappings([
            Mapping { start: 0x1000, end: 0x5000, pgoff: 0x10000, backing: file("/a"), file: None },
            Mapping { start: 0x6000, end: 0x7000, pgoff: 0, backing: file("/b"), file: None },
        ]);
        maps.insert(Mapping { start: 0x2000, end: 0x3000, pgoff: 0, backing: file("/c"), file: None });
        let got: Vec<(u64, u64, u64)> = maps.iter().map(|m| (m.start, m.end, m.pgoff)).collect();
        assert_eq!(
            got,
            vec![(0x1000, 0x2000, 0x10000), (0x2000, 0x3000, 0), (0x3000, 0x5000, 0x12000), (0x6000, 0x7000, 0)]
        );
        assert_eq!(maps.find(0x3100).map(|m| m.file_offset(0x3100)), Some(0x12100));
        assert!(maps.find(0x5000).is_none());
        assert!(maps.find(0xfff).is_none());
    }

    proptest! {
        #[test]
        fn latest_insert_wins_and_ranges_stay_disjoint(
            inserts in proptest::collection::vec((0u64..64, 1u64..16), 1..40),
            probes in proptest::collection::vec(0u64..80, 1..40),
        ) {
            let mut maps = ProcessMaps::default();
            let mut model: Vec<Option<(usize, u64)>> = vec![None; 80]; // page -> (insert index, pgoff)
            for (index, &(start, len)) in inserts.iter().enumerate() {
                let pgoff = (index as u64) * 1000;
                maps.insert(Mapping {
                    start,
                    end: start + len,
                    pgoff,
                    backing: backing_for_path(&format!("/m{index}"), None),
                    file: None,
                });
                for page in start..start + len {
                    model[page as usize] = Some((index, pgoff + (page - start)));
                }
            }
            let mut previous_end = 0;
            for m in maps.iter() {
                prop_assert!(m.start >= previous_end && m.end > m.start);
                previous_end = m.end;
            }
            for probe in probes {
                let got = maps.find(probe).map(|m| (m.display_name().to_string(), m.file_offset(probe)));
                let want = model[probe as usize].map(|(index, offset)| (format!("m{index}"), offset));
                prop_assert_eq!(got, want);
            }
        }

        #[test]
        fn maps_parser_never_panics(text in ".{0,300}") {
            let _ = parse_proc_maps(&text);
        }
    }
}
