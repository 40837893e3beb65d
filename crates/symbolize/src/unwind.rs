//! DWARF CFI unwinding of copied user stacks with framehop, so code built without frame pointers
//! still yields whole stacks.
//!
//! Each module file's unwind sections (`.eh_frame`, `.eh_frame_hdr`, `.debug_frame`) and load
//! segments are read once with `object` and kept as shared byte slices; a process's unwinder is a
//! framehop `UnwinderX86_64` holding one module per executable mapping at its load bias, rebuilt
//! only when the process's maps change. Design decision: only the unwind sections are read into
//! memory, not the code, because framehop's instruction analysis (which needs `.text`) is used for
//! Mach-O only; ELF CFI already describes prologues and epilogues, and where a module has no CFI
//! framehop falls back to the frame-pointer rule on its own.

use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, Module, Unwinder};
use object::read::ReadCache;
use object::{Object, ObjectSection, ObjectSegment};

use crate::Error;
use crate::files::ModuleFiles;
use crate::maps::{Backing, ProcessMaps};

/// Most frames one stack is unwound to; deeper stacks are cut (recursion gone wrong, corrupt stacks).
pub const MAX_FRAMES: usize = 512;

/// The section bytes framehop reads: shared, so every process mapping a file reuses one copy.
pub type SectionBytes = Arc<[u8]>;

/// A PT_LOAD segment: where file bytes land in the module's stated address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    /// Offset of the segment in the file.
    pub file_offset: u64,
    /// Bytes of the segment present in the file.
    pub file_size: u64,
    /// Stated virtual address (SVMA) of the segment's first byte.
    pub vaddr: u64,
}

/// The unwind information of one module file.
#[derive(Clone, Debug, Default)]
pub struct UnwindSections {
    /// Load segments, to place the module at its bias.
    pub segments: Vec<LoadSegment>,
    /// `.text` address range (SVMA).
    pub text_svma: Option<Range<u64>>,
    /// `.got` address range (SVMA), for GOT-relative CFI pointers.
    pub got_svma: Option<Range<u64>>,
    /// `.eh_frame` address range and bytes.
    pub eh_frame: Option<(Range<u64>, SectionBytes)>,
    /// `.eh_frame_hdr` address range and bytes (framehop's binary search table).
    pub eh_frame_hdr: Option<(Range<u64>, SectionBytes)>,
    /// `.debug_frame` bytes (decompressed), used when `.eh_frame` is missing.
    pub debug_frame: Option<SectionBytes>,
}

impl UnwindSections {
    /// Reads the unwind sections and load segments of an ELF file.
    pub fn load(file: &File, path: &str) -> Result<UnwindSections, Error> {
        let handle = file.try_clone().map_err(|source| Error::Io { path: path.to_string(), source })?;
        let cache = ReadCache::new(handle);
        let object =
            object::File::parse(&cache).map_err(|e| Error::Elf { path: path.to_string(), reason: e.to_string() })?;
        Ok(Self::from_object(&object))
    }

    /// Reads the unwind sections and load segments of an ELF image held in memory (the vDSO).
    pub fn parse(bytes: &[u8], path: &str) -> Result<UnwindSections, Error> {
        let object =
            object::File::parse(bytes).map_err(|e| Error::Elf { path: path.to_string(), reason: e.to_string() })?;
        Ok(Self::from_object(&object))
    }

    fn from_object<'data, O: Object<'data>>(object: &O) -> UnwindSections {
        let segments = object
            .segments()
            .map(|segment| {
                let (file_offset, file_size) = segment.file_range();
                LoadSegment { file_offset, file_size, vaddr: segment.address() }
            })
            .collect();
        let range =
            |name: &str| object.section_by_name(name).map(|s| s.address()..s.address().saturating_add(s.size()));
        let bytes = |name: &str| -> Option<SectionBytes> {
            let section = object.section_by_name(name)?;
            let data = section.uncompressed_data().ok()?;
            (!data.is_empty()).then(|| Arc::from(data.as_ref()))
        };
        let with_range = |name: &str| Some((range(name)?, bytes(name)?));
        UnwindSections {
            segments,
            text_svma: range(".text"),
            got_svma: range(".got"),
            eh_frame: with_range(".eh_frame"),
            eh_frame_hdr: with_range(".eh_frame_hdr"),
            debug_frame: bytes(".debug_frame"),
        }
    }

    /// The load bias of a mapping of this file at `start` with file offset `pgoff`: the address
    /// that SVMA 0 lands on (framehop's `base_avma` for ELF). `None` if no segment holds `pgoff`.
    pub fn bias(&self, start: u64, pgoff: u64) -> Option<u64> {
        const PAGE: u64 = 4096;
        let segment = self.segments.iter().find(|s| {
            let first = s.file_offset & !(PAGE - 1);
            pgoff >= first && pgoff < s.file_offset.saturating_add(s.file_size.max(1))
        })?;
        // Within a segment, svma - file offset is constant: vaddr - file_offset.
        let svma_of_start = pgoff.wrapping_add(segment.vaddr.wrapping_sub(segment.file_offset));
        Some(start.wrapping_sub(svma_of_start))
    }

    fn section_info(&self) -> ExplicitModuleSectionInfo<SectionBytes> {
        ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: self.text_svma.clone(),
            got_svma: self.got_svma.clone(),
            eh_frame_svma: self.eh_frame.as_ref().map(|(r, _)| r.clone()),
            eh_frame: self.eh_frame.as_ref().map(|(_, b)| b.clone()),
            eh_frame_hdr_svma: self.eh_frame_hdr.as_ref().map(|(r, _)| r.clone()),
            eh_frame_hdr: self.eh_frame_hdr.as_ref().map(|(_, b)| b.clone()),
            debug_frame: self.debug_frame.clone(),
            ..Default::default()
        }
    }
}

/// A process's framehop unwinder and the maps generation it was built from.
pub struct ProcessUnwinder {
    /// [`ProcessMaps::generation`] when built.
    pub generation: u64,
    unwinder: UnwinderX86_64<SectionBytes>,
    /// Modules placed (for tests and diagnostics).
    pub modules: usize,
}

impl ProcessUnwinder {
    /// Builds the unwinder from a process's executable mappings. `sections_of` gives the unwind
    /// sections of a mapping's file (loading them on first use); the vDSO's come from `vdso`.
    pub fn build(
        maps: &ProcessMaps,
        files: &ModuleFiles,
        vdso: Option<&Arc<UnwindSections>>,
        mut sections_of: impl FnMut(&ModuleFiles, crate::files::FileId) -> Option<Arc<UnwindSections>>,
    ) -> ProcessUnwinder {
        let mut unwinder = UnwinderX86_64::new();
        let mut modules = 0;
        for mapping in maps.iter() {
            let sections = match (&mapping.backing, mapping.file) {
                (Backing::File { .. }, Some(id)) => sections_of(files, id),
                (Backing::Vdso, _) => vdso.cloned(),
                _ => None,
            };
            let Some(sections) = sections else { continue };
            let Some(bias) = sections.bias(mapping.start, mapping.pgoff) else { continue };
            let name = mapping.display_name().to_string();
            unwinder.add_module(Module::new(name, mapping.start..mapping.end, bias, sections.section_info()));
            modules += 1;
        }
        ProcessUnwinder { generation: maps.generation(), unwinder, modules }
    }

    /// Unwinds from the sampled registers over a copy of the stack that starts at `sp`.
    /// Returns the instruction pointer followed by return addresses (callers), and the error that
    /// ended the walk early, if any (the addresses found before it are kept).
    pub fn unwind(
        &self,
        cache: &mut CacheX86_64,
        ip: u64,
        sp: u64,
        bp: u64,
        stack: &[u8],
    ) -> (Vec<u64>, Option<framehop::Error>) {
        let mut read_stack = |addr: u64| -> Result<u64, ()> { read_stack_word(stack, sp, addr).ok_or(()) };
        let mut frames = self.unwinder.iter_frames(ip, UnwindRegsX86_64::new(ip, sp, bp), cache, &mut read_stack);
        let mut addresses = Vec::new();
        loop {
            if addresses.len() >= MAX_FRAMES {
                return (addresses, None);
            }
            match frames.next() {
                Ok(Some(frame)) => addresses.push(frame.address()),
                Ok(None) => return (addresses, None),
                Err(e) => return (addresses, Some(e)),
            }
        }
    }
}

/// The 8-byte little-endian word at `addr` of a stack copy that starts at `sp`.
pub fn read_stack_word(stack: &[u8], sp: u64, addr: u64) -> Option<u64> {
    let offset = usize::try_from(addr.checked_sub(sp)?).ok()?;
    let bytes = stack.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stack_words_are_read_relative_to_sp() {
        let stack: Vec<u8> = (0u8..24).collect();
        assert_eq!(read_stack_word(&stack, 0x1000, 0x1000), Some(u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7])));
        assert_eq!(read_stack_word(&stack, 0x1000, 0x1010), Some(u64::from_le_bytes([16, 17, 18, 19, 20, 21, 22, 23])));
        assert_eq!(read_stack_word(&stack, 0x1000, 0x1011), None);
        assert_eq!(read_stack_word(&stack, 0x1000, 0xff8), None);
    }

    #[test]
    fn bias_follows_the_segment_holding_the_offset() {
        let sections = UnwindSections {
            segments: vec![
                LoadSegment { file_offset: 0, file_size: 0x1000, vaddr: 0 },
                LoadSegment { file_offset: 0x1000, file_size: 0x5000, vaddr: 0x1000 },
                LoadSegment { file_offset: 0x6e10, file_size: 0x300, vaddr: 0x7e10 },
            ],
            ..Default::default()
        };
        assert_eq!(sections.bias(0x5555_0000_1000, 0x1000), Some(0x5555_0000_0000));
        // A data segment whose vaddr and offset differ by a page.
        assert_eq!(sections.bias(0x5555_0000_8000, 0x6000), Some(0x5555_0000_8000 - 0x7000));
        assert_eq!(sections.bias(0x5555_0000_8000, 0x9000), None);
    }

    #[test]
    fn own_executable_has_cfi_and_unwinds_to_more_than_one_frame() {
        let exe = std::env::current_exe().unwrap();
        let file = File::open(&exe).unwrap();
        let sections = UnwindSections::load(&file, "self").unwrap();
        assert!(sections.eh_frame.is_some() && sections.eh_frame_hdr.is_some());
        assert!(!sections.segments.is_empty());
    }

    proptest! {
        #[test]
        fn stack_reads_never_panic(len in 0usize..64, sp in any::<u64>(), addr in any::<u64>()) {
            let stack = vec![0xabu8; len];
            let got = read_stack_word(&stack, sp, addr);
            let inside = addr >= sp && (addr - sp) < len as u64 && (addr - sp) + 8 <= len as u64;
            prop_assert_eq!(got.is_some(), inside);
        }
    }
}
