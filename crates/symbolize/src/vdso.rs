//! The vDSO: the kernel's small ELF image mapped into every process as `[vdso]`.
//!
//! It has no file, so it is read once from this process's own memory (`/proc/self/mem` at the
//! `[vdso]` range of `/proc/self/maps`) and parsed with `object`: its dynamic symbols name frames
//! such as `__vdso_clock_gettime`, its `.eh_frame` lets the unwinder step out of it. Design
//! decision: one image serves every 64-bit process, since the kernel maps the same vDSO into all of
//! them; reading our own copy needs no access to the sampled process.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use object::{Object, ObjectSymbol, SymbolKind};

use crate::Error;
use crate::maps::{Backing, parse_proc_maps};
use crate::unwind::UnwindSections;

/// The parsed vDSO image.
#[derive(Debug, Default)]
pub struct Vdso {
    /// Function symbols by stated address (SVMA): start, size, name; sorted by start.
    symbols: Vec<(u64, u64, Arc<str>)>,
    /// Unwind sections and load segments.
    pub unwind: Arc<UnwindSections>,
}

impl Vdso {
    /// Reads this process's vDSO.
    pub fn read_own() -> Result<Vdso, Error> {
        let maps = std::fs::read_to_string("/proc/self/maps")
            .map_err(|source| Error::Io { path: "/proc/self/maps".into(), source })?;
        let (mappings, _) = parse_proc_maps(&maps);
        let mapping = mappings.iter().find(|m| m.backing == Backing::Vdso).ok_or_else(|| Error::Elf {
            path: "[vdso]".into(),
            reason: "no [vdso] mapping in /proc/self/maps".into(),
        })?;
        let len = usize::try_from(mapping.end - mapping.start).unwrap_or(0);
        let mut bytes = vec![0u8; len];
        let mem = std::fs::File::open("/proc/self/mem")
            .map_err(|source| Error::Io { path: "/proc/self/mem".into(), source })?;
        mem.read_exact_at(&mut bytes, mapping.start)
            .map_err(|source| Error::Io { path: "/proc/self/mem".into(), source })?;
        Self::parse(&bytes)
    }

    /// Parses a vDSO image.
    pub fn parse(bytes: &[u8]) -> Result<Vdso, Error> {
        let object =
            object::File::parse(bytes).map_err(|e| Error::Elf { path: "[vdso]".into(), reason: e.to_string() })?;
        let mut symbols: Vec<(u64, u64, Arc<str>)> = object
            .dynamic_symbols()
            .chain(object.symbols())
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), Arc::from(s.name().ok()?))))
            .collect();
        symbols.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.len().cmp(&b.2.len())));
        // Aliases share an address (clock_gettime, __vdso_clock_gettime): keep the shortest name.
        symbols.dedup_by_key(|s| s.0);
        Ok(Vdso { symbols, unwind: Arc::new(UnwindSections::parse(bytes, "[vdso]")?) })
    }

    /// The function containing `addr` of a `[vdso]` mapping at `start`.
    pub fn lookup(&self, start: u64, addr: u64) -> Option<Arc<str>> {
        let bias = self.unwind.bias(start, 0)?;
        let svma = addr.wrapping_sub(bias);
        let index = self.symbols.partition_point(|s| s.0 <= svma).checked_sub(1)?;
        let (sym_start, size, name) = self.symbols.get(index)?;
        (svma - sym_start < (*size).max(1)).then(|| name.clone())
    }

    /// How many function symbols the image has.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when the image has no function symbols.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_vdso_names_clock_gettime() {
        let vdso = Vdso::read_own().unwrap();
        assert!(!vdso.is_empty());
        let (addr, _, _) = vdso.symbols.iter().find(|s| s.2.contains("clock_gettime")).unwrap().clone();
        let start = 0x7fff_0000_0000;
        let bias = vdso.unwind.bias(start, 0).unwrap();
        let name = vdso.lookup(start, bias + addr + 1).unwrap();
        assert!(name.contains("clock_gettime"), "{name}");
        assert!(vdso.unwind.eh_frame.is_some());
    }
}
