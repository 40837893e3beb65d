//! The facade the recording session uses: process events in, unwound stacks and frames out.
//!
//! Design decision: partial failure is normal here (processes exit mid-read, files vanish, a
//! binary is stripped), so no method returns an error: every address yields at least one frame,
//! and each failure bumps a counter in [`Stats`] and leaves a warning (the first
//! [`MAX_WARNINGS`] distinct ones are kept). A process is read from `/proc/PID/maps` the first
//! time it is seen and then follows the events; exited processes stay symbolizable because their
//! module files are held open.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framehop::x86_64::CacheX86_64;

use crate::files::{FileId, ModuleFiles};
use crate::kallsyms::{KERNEL_MODULE, Kallsyms};
use crate::maps::{Backing, Mapping, ProcessMaps, backing_for_path, parse_proc_maps};
use crate::perfmap::PerfMap;
use crate::symbols::{ElfLookup, ElfSymbols};
use crate::unwind::{ProcessUnwinder, UnwindSections};
use crate::vdso::Vdso;
use crate::{Frame, FrameKind};

/// How many distinct warnings are kept; later ones are only counted.
pub const MAX_WARNINGS: usize = 64;

/// How often a perf map that missed a lookup is checked for growth.
const PERF_MAP_RECHECK: Duration = Duration::from_millis(200);

/// Where the symbolizer looks for things.
#[derive(Clone, Debug)]
pub struct Options {
    /// The procfs mount. Default is `/proc`.
    pub proc_root: PathBuf,
    /// The kernel symbol table. Default is `/proc/kallsyms`.
    pub kallsyms: PathBuf,
    /// The directory JIT runtimes write `perf-PID.map` into, as the process sees it. Default is `/tmp`.
    pub perf_map_dir: PathBuf,
    /// Report inlined functions and source lines from DWARF. Default is true.
    pub inlined: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            proc_root: PathBuf::from("/proc"),
            kallsyms: PathBuf::from("/proc/kallsyms"),
            perf_map_dir: PathBuf::from("/tmp"),
            inlined: true,
        }
    }
}

/// Counters of what could not be done; none of them stops symbolization.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Addresses no source could name (they became `module+0xoffset` or `[unknown]` frames).
    pub unresolved: u64,
    /// Failures: unreadable maps, module files that could not be opened or parsed, kallsyms.
    pub errors: u64,
    /// Unwinds that stopped with an error before reaching a root frame (often a short stack copy).
    pub unwind_incomplete: u64,
    /// Processes seen.
    pub processes: u64,
    /// Distinct module files open.
    pub module_files: u64,
}

/// The perf map of one process and when it was last read.
#[derive(Default)]
struct PerfMapState {
    map: Option<PerfMap>,
    path: Option<PathBuf>,
    checked: Option<Instant>,
}

/// What is known about one process.
#[derive(Default)]
struct Process {
    maps: ProcessMaps,
    unwinder: Option<ProcessUnwinder>,
    perf_map: PerfMapState,
    exited: bool,
}

/// Turns addresses and copied stacks into frames; see the crate documentation.
///
/// Not `Send`: blazesym's caches are single-threaded, so create it on the thread that uses it.
pub struct Symbolizer {
    options: Options,
    processes: HashMap<u32, Process>,
    files: ModuleFiles,
    elf: ElfSymbols,
    kallsyms: Option<Kallsyms>,
    vdso: Option<Option<Vdso>>,
    unwind_cache: CacheX86_64,
    stats: Stats,
    warnings: Vec<String>,
    warned: HashSet<String>,
}

impl Default for Symbolizer {
    fn default() -> Self {
        Self::new(Options::default())
    }
}

/// The addresses to look up for a callchain: the first entry (the sampled instruction pointer) as
/// is, every later one (a return address) minus one so it falls inside the call instruction, which
/// names the right function and inlined frame when a call is a function's last instruction.
pub fn lookup_addresses(chain: &[u64]) -> Vec<u64> {
    chain.iter().enumerate().map(|(i, &a)| if i == 0 { a } else { a.saturating_sub(1) }).collect()
}

impl Symbolizer {
    /// A symbolizer with these options. Nothing is read until it is used.
    pub fn new(options: Options) -> Self {
        let elf = ElfSymbols::new(options.inlined);
        Symbolizer {
            options,
            processes: HashMap::new(),
            files: ModuleFiles::default(),
            elf,
            kallsyms: None,
            vdso: None,
            unwind_cache: CacheX86_64::new(),
            stats: Stats::default(),
            warnings: Vec::new(),
            warned: HashSet::new(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        Stats { module_files: self.files.len() as u64, processes: self.processes.len() as u64, ..self.stats.clone() }
    }

    /// The distinct warnings so far (at most [`MAX_WARNINGS`]), emptied by the call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn(&mut self, message: String) {
        self.stats.errors += 1;
        if self.warnings.len() < MAX_WARNINGS
            && self.warned.len() < 4 * MAX_WARNINGS
            && self.warned.insert(message.clone())
        {
            self.warnings.push(message);
        }
    }

    /// Makes sure `pid` is known, reading `/proc/PID/maps` at its first sight.
    fn ensure_process(&mut self, pid: u32) {
        if self.processes.contains_key(&pid) {
            return;
        }
        let path = self.options.proc_root.join(format!("{pid}/maps"));
        let mut process = Process::default();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (mappings, malformed) = parse_proc_maps(&text);
                if malformed > 0 {
                    self.warn(format!("{}: {malformed} malformed lines skipped", path.display()));
                }
                for mapping in mappings {
                    let mapping = self.open_mapping_file(pid, mapping);
                    process.maps.insert(mapping);
                }
            }
            Err(e) => {
                process.exited = true;
                self.warn(format!("{}: {e} (process gone before its first sample?)", path.display()));
            }
        }
        self.processes.insert(pid, process);
    }

    /// Opens the module file of a file-backed mapping and records it in the mapping.
    fn open_mapping_file(&mut self, pid: u32, mut mapping: Mapping) -> Mapping {
        match self.files.open_for(&self.options.proc_root, pid, &mapping) {
            Ok(file) => mapping.file = file,
            Err(failure) => self.warn(format!("pid {pid}: cannot open {}: {}", failure.path, failure.reason)),
        }
        mapping
    }

    /// An executable mapping from a perf MMAP2 record (`len` bytes at `start`, file offset `pgoff`)
    /// of process `pid` (the thread group id). Pass only executable mappings (perf's
    /// `Mmap::executable`); the file is opened now, while the process can still be reached.
    pub fn note_mmap(&mut self, pid: u32, start: u64, len: u64, pgoff: u64, path: &str) {
        self.ensure_process(pid);
        let mapping =
            Mapping { start, end: start.saturating_add(len), pgoff, backing: backing_for_path(path, None), file: None };
        let mapping = self.open_mapping_file(pid, mapping);
        if let Some(process) = self.processes.get_mut(&pid) {
            process.maps.insert(mapping);
        }
    }

    /// A new process `child` forked from `parent`: it starts with the parent's mappings.
    /// Thread creation (parent == child) is ignored.
    pub fn note_fork(&mut self, parent: u32, child: u32) {
        if parent == child || self.processes.contains_key(&child) {
            return;
        }
        self.ensure_process(parent);
        let maps = self.processes.get(&parent).map(|p| p.maps.clone()).unwrap_or_default();
        self.processes.insert(child, Process { maps, ..Process::default() });
    }

    /// `pid` called exec: its old mappings are gone. It is read afresh at its next sight.
    pub fn note_exec(&mut self, pid: u32) {
        self.processes.remove(&pid);
    }

    /// `pid` exited. Its mappings are kept (samples may still refer to it); a JIT perf map inside
    /// its mount namespace is read now, while `/proc/PID/root` still leads to it.
    pub fn note_exit(&mut self, pid: u32) {
        let Some(process) = self.processes.get_mut(&pid) else { return };
        process.exited = true;
        let has_anonymous_code = process.maps.iter().any(|m| m.backing == Backing::Anonymous);
        if has_anonymous_code && process.perf_map.map.is_none() {
            self.reload_perf_map(pid);
        }
    }

    /// Drops every exited process, freeing its maps (module files stay open for other processes).
    pub fn forget_exited(&mut self) {
        self.processes.retain(|_, p| !p.exited);
    }

    /// The mapping of `pid` that holds `addr`, for callers that want the module (reads the process
    /// at its first sight).
    pub fn mapping(&mut self, pid: u32, addr: u64) -> Option<Mapping> {
        self.ensure_process(pid);
        self.processes.get(&pid)?.maps.find(addr).cloned()
    }

    fn vdso(&mut self) -> Option<&Vdso> {
        if self.vdso.is_none() {
            let vdso = match Vdso::read_own() {
                Ok(vdso) => Some(vdso),
                Err(e) => {
                    self.warn(format!("vdso: {e}"));
                    None
                }
            };
            self.vdso = Some(vdso);
        }
        self.vdso.as_ref().and_then(Option::as_ref)
    }

    /// Unwinds a copied user stack: `stack` holds the bytes at `sp..sp+stack.len()` and `ip`, `sp`,
    /// `bp` are the user registers of the sample. Returns the instruction pointer followed by the
    /// return addresses, innermost first (pass them through [`lookup_addresses`] to symbolize).
    pub fn unwind_user(&mut self, pid: u32, ip: u64, sp: u64, bp: u64, stack: &[u8]) -> Vec<u64> {
        self.ensure_process(pid);
        let needs_vdso = self.processes.get(&pid).is_some_and(|p| p.maps.iter().any(|m| m.backing == Backing::Vdso));
        let vdso_unwind = if needs_vdso { self.vdso().map(|v| v.unwind.clone()) } else { None };
        let mut failures = Vec::new();
        let Symbolizer { processes, files, unwind_cache, .. } = self;
        let Some(process) = processes.get_mut(&pid) else { return vec![ip] };
        let stale = process.unwinder.as_ref().is_none_or(|u| u.generation != process.maps.generation());
        if stale {
            let sections_of = |files: &ModuleFiles, id: FileId| -> Option<Arc<UnwindSections>> {
                let file = files.get(id)?;
                file.unwind
                    .get_or_init(|| match UnwindSections::load(file.file(), &file.path) {
                        Ok(sections) => Some(Arc::new(sections)),
                        Err(e) => {
                            failures.push(e.to_string());
                            None
                        }
                    })
                    .clone()
            };
            process.unwinder = Some(ProcessUnwinder::build(&process.maps, files, vdso_unwind.as_ref(), sections_of));
        }
        let (addresses, error) = match &process.unwinder {
            Some(unwinder) => unwinder.unwind(unwind_cache, ip, sp, bp, stack),
            None => (vec![ip], None),
        };
        if error.is_some() {
            self.stats.unwind_incomplete += 1;
        }
        for failure in failures {
            self.warn(failure);
        }
        addresses
    }

    /// Names user addresses of `pid`, one list of frames per address (innermost inlined function
    /// first, the containing function last, matching callchain order). Addresses are looked up as
    /// given: for return addresses pass [`lookup_addresses`] of the chain.
    pub fn symbolize_user(&mut self, pid: u32, addrs: &[u64]) -> Vec<Vec<Frame>> {
        self.ensure_process(pid);
        addrs.iter().map(|&addr| self.symbolize_one_user(pid, addr)).collect()
    }

    fn symbolize_one_user(&mut self, pid: u32, addr: u64) -> Vec<Frame> {
        let mapping = self.processes.get(&pid).and_then(|p| p.maps.find(addr)).cloned();
        let Some(mapping) = mapping else {
            return self.jit_or_unknown(pid, addr, None);
        };
        let module = mapping.display_name();
        match &mapping.backing {
            Backing::File { .. } => {
                let offset = mapping.file_offset(addr);
                if let Some(id) = mapping.file
                    && let Some(path) = self.files.get(id).map(|f| f.fd_path.clone())
                {
                    match self.elf.lookup(id, &path, &module, offset) {
                        Ok(ElfLookup::Found(frames)) => return frames.to_vec(),
                        Ok(ElfLookup::NotFound) => {}
                        Err(e) => self.warn(format!("symbolizing {}: {e}", mapping.display_name())),
                    }
                }
                self.unresolved(format!("{module}+{offset:#x}"), module, FrameKind::User)
            }
            Backing::Vdso => {
                let name = self.vdso().and_then(|v| v.lookup(mapping.start, addr));
                match name {
                    Some(name) => vec![Frame::new(name, module, FrameKind::User)],
                    None => {
                        let offset = addr - mapping.start;
                        self.unresolved(format!("[vdso]+{offset:#x}"), module, FrameKind::User)
                    }
                }
            }
            Backing::Anonymous => self.jit_or_unknown(pid, addr, Some(module)),
            Backing::Special(name) => self.unresolved("[unknown]".into(), name.clone(), FrameKind::Unknown),
        }
    }

    fn unresolved(&mut self, name: String, module: Arc<str>, kind: FrameKind) -> Vec<Frame> {
        self.stats.unresolved += 1;
        vec![Frame::new(name, module, kind)]
    }

    /// Looks `addr` up in the process's perf map; anonymous code it does not name is `[unknown]`.
    fn jit_or_unknown(&mut self, pid: u32, addr: u64, anonymous: Option<Arc<str>>) -> Vec<Frame> {
        if let Some(name) = self.perf_map_lookup(pid, addr) {
            return vec![Frame::new(name, "[jit]", FrameKind::Jit)];
        }
        match anonymous {
            Some(module) => self.unresolved("[unknown]".into(), module, FrameKind::Jit),
            None => self.unresolved("[unknown]".into(), Arc::from("[unknown]"), FrameKind::Unknown),
        }
    }

    fn perf_map_lookup(&mut self, pid: u32, addr: u64) -> Option<Arc<str>> {
        let state = &self.processes.get(&pid)?.perf_map;
        if let Some(symbol) = state.map.as_ref().and_then(|m| m.lookup(addr)) {
            return Some(symbol.name.clone());
        }
        if state.checked.is_some_and(|t| t.elapsed() < PERF_MAP_RECHECK) {
            return None;
        }
        self.reload_perf_map(pid);
        let state = &self.processes.get(&pid)?.perf_map;
        state.map.as_ref()?.lookup(addr).map(|s| s.name.clone())
    }

    /// The perf map paths of `pid`: inside its mount namespace under its namespace pid, then the host's.
    fn perf_map_candidates(&self, pid: u32) -> Vec<PathBuf> {
        let proc_pid = self.options.proc_root.join(pid.to_string());
        let ns_pid = std::fs::read_to_string(proc_pid.join("status"))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
                line.split_whitespace().last()?.parse::<u32>().ok()
            })
            .unwrap_or(pid);
        let dir = &self.options.perf_map_dir;
        let inside =
            proc_pid.join("root").join(dir.strip_prefix("/").unwrap_or(dir)).join(format!("perf-{ns_pid}.map"));
        vec![inside, dir.join(format!("perf-{pid}.map"))]
    }

    /// Re-reads the perf map of `pid` if it grew (or was never read).
    fn reload_perf_map(&mut self, pid: u32) {
        let known_path = self.processes.get(&pid).and_then(|p| p.perf_map.path.clone());
        let candidates = match known_path {
            Some(path) => vec![path],
            None => self.perf_map_candidates(pid),
        };
        let parsed_len = self.processes.get(&pid).and_then(|p| p.perf_map.map.as_ref()).map(|m| m.parsed_len);
        let mut loaded = None;
        for path in candidates {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if parsed_len.is_some_and(|len| meta.size() <= len) {
                break;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let (map, malformed) = PerfMap::parse(&text);
                    loaded = Some((path, map, malformed));
                    break;
                }
                Err(e) => self.warn(format!("{}: {e}", path.display())),
            }
        }
        if let Some((path, _, malformed)) = &loaded
            && *malformed > 0
        {
            let message = format!("{}: {malformed} malformed lines skipped", path.display());
            self.warn(message);
        }
        let Some(process) = self.processes.get_mut(&pid) else { return };
        process.perf_map.checked = Some(Instant::now());
        if let Some((path, map, _)) = loaded {
            process.perf_map.path = Some(path);
            process.perf_map.map = Some(map);
        }
    }

    /// Names kernel addresses through kallsyms, one list of frames per address (always one frame).
    /// Addresses are looked up as given (see [`lookup_addresses`]).
    pub fn symbolize_kernel(&mut self, addrs: &[u64]) -> Vec<Vec<Frame>> {
        if self.kallsyms.is_none() {
            let path = self.options.kallsyms.clone();
            // /proc files have no size: start with room for a typical kallsyms (about 5 MiB).
            let mut text = Vec::with_capacity(8 << 20);
            let read = std::fs::File::open(&path).and_then(|mut file| file.read_to_end(&mut text));
            let table = match read {
                Ok(_) => {
                    let (table, _) = Kallsyms::parse(text);
                    if table.hidden() {
                        self.warn(format!(
                            "{}: addresses hidden (kernel.kptr_restrict; run as root or with CAP_SYSLOG)",
                            path.display()
                        ));
                    }
                    table
                }
                Err(e) => {
                    self.warn(format!("{}: {e}", path.display()));
                    Kallsyms::default()
                }
            };
            self.kallsyms = Some(table);
        }
        let mut frames = Vec::with_capacity(addrs.len());
        let mut unresolved = 0;
        for &addr in addrs {
            let found = self.kallsyms.as_ref().and_then(|t| t.lookup(addr));
            frames.push(match found {
                Some((symbol, _)) => vec![Frame::new(symbol.name, symbol.module, FrameKind::Kernel)],
                None => {
                    unresolved += 1;
                    vec![Frame::new("[unknown]", KERNEL_MODULE, FrameKind::Kernel)]
                }
            });
        }
        self.stats.unresolved += unresolved;
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_addresses_keeps_the_ip_and_steps_into_calls() {
        assert_eq!(lookup_addresses(&[0x1000, 0x2005, 0x3000, 0]), vec![0x1000, 0x2004, 0x2fff, 0]);
        assert!(lookup_addresses(&[]).is_empty());
    }

    #[test]
    fn unknown_addresses_become_frames_and_are_counted() {
        let dir = std::env::temp_dir().join(format!("plumb-symbolize-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kallsyms"), "ffffffff81000000 T _stext\nffffffff81000100 T do_work\n").unwrap();
        let mut symbolizer = Symbolizer::new(Options {
            proc_root: dir.join("no-proc"),
            kallsyms: dir.join("kallsyms"),
            perf_map_dir: dir.clone(),
            inlined: true,
        });
        let kernel = symbolizer.symbolize_kernel(&[0xffffffff81000104, 0x10]);
        assert_eq!(kernel[0], vec![Frame::new("do_work", KERNEL_MODULE, FrameKind::Kernel)]);
        assert_eq!(kernel[1], vec![Frame::new("[unknown]", KERNEL_MODULE, FrameKind::Kernel)]);
        let user = symbolizer.symbolize_user(4_000_000_001, &[0x1234]);
        assert_eq!(user, vec![vec![Frame::new("[unknown]", "[unknown]", FrameKind::Unknown)]]);
        let stats = symbolizer.stats();
        assert_eq!((stats.unresolved, stats.processes), (2, 1));
        assert!(stats.errors >= 1, "the unreadable maps are counted");
        let warnings = symbolizer.take_warnings();
        assert!(warnings.iter().any(|w| w.contains("4000000001/maps")), "{warnings:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
