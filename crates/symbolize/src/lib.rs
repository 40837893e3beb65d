//! plumb-symbolize: sampled addresses and copied user stacks become named frames.
//!
//! The recording session feeds a [`Symbolizer`] the process events it sees (`note_mmap`,
//! `note_fork`, `note_exec`, `note_exit`) and, per sample, asks it to unwind the copied user stack
//! ([`Symbolizer::unwind_user`], DWARF CFI through framehop, for code without frame pointers) and
//! to name the user and kernel addresses ([`Symbolizer::symbolize_user`],
//! [`Symbolizer::symbolize_kernel`]). Underneath: [`maps`] keeps each process's executable
//! mappings, [`files`] opens each module file once (through `/proc/PID/map_files` or
//! `/proc/PID/root` for containers and deleted files), [`symbols`] asks blazesym for ELF/DWARF
//! names (inlined frames included), [`kallsyms`], [`perfmap`] and [`vdso`] cover the kernel, JIT
//! code and the vDSO.
//!
//! Design decision: this crate takes plain values (pids, addresses, byte slices), not plumb-perf's
//! records, so it can be driven by live recording, a perf.data import or a test alike. Nothing is
//! ever dropped: an address no source can name becomes `libfoo.so+0x1234` or `[unknown]`, and the
//! failures behind it are counted in [`Stats`] and kept as warnings rather than returned as errors.

pub mod files;
pub mod kallsyms;
pub mod maps;
pub mod perfmap;
mod symbolizer;
pub mod symbols;
pub mod unwind;
pub mod vdso;

use std::sync::Arc;

pub use symbolizer::{Options, Stats, Symbolizer, lookup_addresses};

/// Where a frame's code lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Kernel code (core image or a module).
    Kernel,
    /// User code in a file-backed module or the vDSO.
    User,
    /// JIT-compiled code named by a perf map, or anonymous executable memory.
    Jit,
    /// An address in no known mapping.
    Unknown,
}

/// One frame of a stack: a function (or an inlined function) at one address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Demangled function name; `module+0xoffset` or `[unknown]` when nothing names the address.
    pub name: Arc<str>,
    /// The module: a file's base name, `[kernel.kallsyms]`, `[e1000]`, `[vdso]`, `[jit]`, `[unknown]`.
    pub module: Arc<str>,
    /// Where the code lives.
    pub kind: FrameKind,
    /// True when this function was inlined into the next frame of the same address.
    pub inlined: bool,
    /// Source file, when debug information gives it.
    pub file: Option<Arc<str>>,
    /// Source line, when debug information gives it.
    pub line: Option<u32>,
}

impl Frame {
    /// A frame with only a name, a module and a kind.
    pub fn new(name: impl Into<Arc<str>>, module: impl Into<Arc<str>>, kind: FrameKind) -> Frame {
        Frame { name: name.into(), module: module.into(), kind, inlined: false, file: None, line: None }
    }
}

/// Errors of this crate; the [`Symbolizer`] turns them into counted warnings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file under /proc or a module file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A module file is not an ELF file this crate can read.
    #[error("parsing ELF {path}: {reason}")]
    Elf {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
}
