//! User-space symbols of ELF module files through blazesym: symtab, DWARF (with inlined frames and
//! source lines), demangled Rust and C++ names.
//!
//! Design decision: addresses are looked up by file offset in a module file (blazesym's
//! `Source::Elf` with `Input::FileOffset`), never by process, so a sample symbolizes the same way
//! while its process runs, after it exited, or inside a container; the process only contributes
//! its module map. Results are cached per (file, offset) because profiles repeat a small set of
//! addresses many times; blazesym's own reload check is off since our module files are open
//! descriptors that cannot change under us.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use blazesym::symbolize::source::{Elf, Source};
use blazesym::symbolize::{CodeInfo, Input, Symbolized, Symbolizer as BlazeSymbolizer};

use crate::files::FileId;
use crate::{Frame, FrameKind};

/// How a user address was symbolized by its module file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfLookup {
    /// One or more frames, innermost (inlined callee) first, the containing function last.
    Found(Arc<[Frame]>),
    /// The file has no symbol for the offset (stripped, or not code).
    NotFound,
}

/// Symbolizes file offsets within module files, with a per-(file, offset) cache.
pub struct ElfSymbols {
    blaze: BlazeSymbolizer,
    cache: HashMap<(FileId, u64), ElfLookup>,
}

impl Default for ElfSymbols {
    fn default() -> Self {
        Self::new(true)
    }
}

impl ElfSymbols {
    /// A symbolizer; `inlined` turns on DWARF inlined frames and source lines.
    pub fn new(inlined: bool) -> Self {
        let blaze = BlazeSymbolizer::builder()
            .enable_auto_reload(false)
            .enable_code_info(inlined)
            .enable_inlined_fns(inlined)
            .enable_demangling(true)
            .build();
        ElfSymbols { blaze, cache: HashMap::new() }
    }

    /// Symbolizes `offset` in the file `id`, readable at `path`; `module` names the frames.
    /// An `Err` is a failure to read the file (the caller falls back to module+offset).
    pub fn lookup(&mut self, id: FileId, path: &Path, module: &Arc<str>, offset: u64) -> Result<ElfLookup, String> {
        if let Some(hit) = self.cache.get(&(id, offset)) {
            return Ok(hit.clone());
        }
        let source = Source::Elf(Elf::new(path));
        let result = self.blaze.symbolize_single(&source, Input::FileOffset(offset)).map_err(|e| format!("{e:#}"))?;
        let lookup = match result {
            Symbolized::Sym(sym) => {
                let mut frames = Vec::with_capacity(sym.inlined.len() + 1);
                for inlined in sym.inlined.iter().rev() {
                    frames.push(user_frame(&inlined.name, module, true, inlined.code_info.as_ref()));
                }
                frames.push(user_frame(&sym.name, module, false, sym.code_info.as_deref()));
                ElfLookup::Found(Arc::from(frames))
            }
            Symbolized::Unknown(_) => ElfLookup::NotFound,
        };
        self.cache.insert((id, offset), lookup.clone());
        Ok(lookup)
    }
}

fn user_frame(name: &str, module: &Arc<str>, inlined: bool, code: Option<&CodeInfo<'_>>) -> Frame {
    Frame {
        name: Arc::from(name),
        module: module.clone(),
        kind: FrameKind::User,
        inlined,
        file: code.map(|c| Arc::from(c.to_path().to_string_lossy().as_ref())),
        line: code.and_then(|c| c.line),
    }
}
