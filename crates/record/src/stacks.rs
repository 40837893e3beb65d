//! Samples to stacks: the table that aggregates raw address stacks and names each distinct
//! address once, into frames interned in the profile.
//!
//! Design decision: names are looked up when an address is first seen (the mappings of that
//! moment apply) and kept per (process, image generation, address); an exec starts a new
//! generation, so a process that replaces its image does not have its old addresses named with
//! the new image's symbols.

use std::collections::HashMap;

use plumb_profile::{FrameId, FrameKind, Profile, TaskRoots, task_root_frames};
use plumb_symbolize::{FrameKind as SymKind, Symbolizer, lookup_addresses};

/// One distinct stack as sampled: whose, and the raw addresses, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RawStack {
    pid: u32,
    generation: u32,
    /// Root frames (process, thread) already interned; empty without `--per-process`/`--per-thread`.
    roots: Box<[FrameId]>,
    kernel: Box<[u64]>,
    /// The user chain as looked up: the ip, then return addresses minus one.
    user: Box<[u64]>,
}

/// What the table counted about the stacks it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackCounts {
    /// Samples added.
    pub samples: u64,
    /// Samples whose user stack was unwound from a stack copy (DWARF CFI or frame pointers).
    pub unwound: u64,
    /// Samples whose user stack came from the kernel's frame-pointer callchain instead.
    pub callchain_only: u64,
    /// Distinct stacks.
    pub distinct: u64,
    /// Samples of the profiler's own process, shown as one frame and not unwound.
    pub own: u64,
}

/// The aggregation of a session's samples.
pub struct StackTable {
    symbolizer: Symbolizer,
    profile: Profile,
    roots: TaskRoots,
    generations: HashMap<u32, u32>,
    user_names: HashMap<(u32, u32, u64), Box<[FrameId]>>,
    kernel_names: HashMap<u64, Box<[FrameId]>>,
    task_names: HashMap<u32, String>,
    root_ids: HashMap<(u32, u32), Box<[FrameId]>>,
    counts: HashMap<RawStack, u64>,
    stats: StackCounts,
    own_pid: u32,
}

/// The one frame the profiler's own samples get: naming its own 60 MB binary with DWARF would
/// cost more CPU than the samples are worth, and its cost stays visible as this frame.
pub const OWN_FRAME: &str = "[plumb profile itself]";

/// A sample's stack as the session hands it over.
pub struct SampleStack<'a> {
    pub pid: u32,
    pub tid: u32,
    pub kernel_ips: &'a [u64],
    pub user_ips: &'a [u64],
    /// ip, sp, bp and the stack copy, when the sample has them.
    pub user_copy: Option<(u64, u64, u64, &'a [u8])>,
}

impl StackTable {
    /// An empty table adding to `profile`.
    pub fn new(symbolizer: Symbolizer, profile: Profile, roots: TaskRoots) -> StackTable {
        StackTable {
            symbolizer,
            profile,
            roots,
            generations: HashMap::new(),
            user_names: HashMap::new(),
            kernel_names: HashMap::new(),
            task_names: HashMap::new(),
            root_ids: HashMap::new(),
            counts: HashMap::new(),
            stats: StackCounts::default(),
            own_pid: std::process::id(),
        }
    }

    /// The symbolizer, for mapping, fork, exec and exit notices.
    pub fn symbolizer(&mut self) -> &mut Symbolizer {
        &mut self.symbolizer
    }

    /// A thread's new name (COMM); an exec also starts a new image generation for the process.
    pub fn note_comm(&mut self, pid: u32, tid: u32, name: &str, exec: bool) {
        self.task_names.insert(tid, name.to_string());
        self.root_ids.retain(|&(p, t), _| t != tid && !(exec && p == pid));
        if exec {
            *self.generations.entry(pid).or_default() += 1;
            self.symbolizer.note_exec(pid);
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, sample: SampleStack<'_>) {
        self.stats.samples += 1;
        if sample.pid == self.own_pid {
            self.stats.own += 1;
            let roots = self.roots_of(sample.pid, sample.tid);
            let key = RawStack { pid: sample.pid, generation: 0, roots, kernel: Box::default(), user: Box::default() };
            *self.counts.entry(key).or_default() += 1;
            return;
        }
        let user = self.user_chain(&sample);
        let generation = self.generations.get(&sample.pid).copied().unwrap_or(0);
        let roots = self.roots_of(sample.pid, sample.tid);
        let key = RawStack {
            pid: sample.pid,
            generation,
            roots,
            kernel: sample.kernel_ips.into(),
            user: lookup_addresses(&user).into(),
        };
        if let Some(n) = self.counts.get_mut(&key) {
            *n += 1;
            return;
        }
        self.name_user(key.pid, key.generation, &key.user);
        self.name_kernel(&key.kernel);
        self.stats.distinct += 1;
        self.counts.insert(key, 1);
    }

    fn user_chain(&mut self, sample: &SampleStack<'_>) -> Vec<u64> {
        if let Some((ip, sp, bp, stack)) = sample.user_copy
            && !stack.is_empty()
        {
            let unwound = self.symbolizer.unwind_user(sample.pid, ip, sp, bp, stack);
            if unwound.len() > 1 || sample.user_ips.len() <= 1 {
                self.stats.unwound += 1;
                return unwound;
            }
        }
        if !sample.user_ips.is_empty() {
            self.stats.callchain_only += 1;
        }
        sample.user_ips.to_vec()
    }

    fn roots_of(&mut self, pid: u32, tid: u32) -> Box<[FrameId]> {
        if self.roots == TaskRoots::None {
            return Box::default();
        }
        if let Some(ids) = self.root_ids.get(&(pid, tid)) {
            return ids.clone();
        }
        let process = self.task_name(pid, pid);
        let thread = self.task_name(pid, tid);
        let frames = task_root_frames(self.roots, (&process, pid), (&thread, tid));
        let ids: Box<[FrameId]> = frames.iter().map(|f| self.profile.intern(&f.name, f.kind)).collect();
        self.root_ids.insert((pid, tid), ids.clone());
        ids
    }

    fn task_name(&mut self, pid: u32, tid: u32) -> String {
        if let Some(name) = self.task_names.get(&tid) {
            return name.clone();
        }
        let name = if pid == 0 {
            "swapper".to_string()
        } else {
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                .map(|s| s.trim_end().to_string())
                .unwrap_or_else(|_| "[unknown]".to_string())
        };
        self.task_names.insert(tid, name.clone());
        name
    }

    fn name_user(&mut self, pid: u32, generation: u32, addrs: &[u64]) {
        let missing: Vec<u64> =
            addrs.iter().copied().filter(|&a| !self.user_names.contains_key(&(pid, generation, a))).collect();
        if missing.is_empty() {
            return;
        }
        let named = self.symbolizer.symbolize_user(pid, &missing);
        for (addr, frames) in missing.into_iter().zip(named) {
            let ids = frames.iter().map(|f| self.profile.intern(&f.name, kind_of(f))).collect();
            self.user_names.insert((pid, generation, addr), ids);
        }
    }

    fn name_kernel(&mut self, addrs: &[u64]) {
        let missing: Vec<u64> = addrs.iter().copied().filter(|a| !self.kernel_names.contains_key(a)).collect();
        if missing.is_empty() {
            return;
        }
        let named = self.symbolizer.symbolize_kernel(&missing);
        for (addr, frames) in missing.into_iter().zip(named) {
            let ids = frames.iter().map(|f| self.profile.intern(&f.name, kind_of(f))).collect();
            self.kernel_names.insert(addr, ids);
        }
    }

    /// What the table counted.
    pub fn counts(&self) -> StackCounts {
        self.stats
    }

    /// The profile with every stack added, root first: root frames, the user frames from the
    /// outermost caller in, then the kernel frames down to the sampled one.
    pub fn finish(mut self) -> (Profile, Symbolizer) {
        let unknown = self.profile.intern("[unknown]", FrameKind::Unknown);
        let own = self.profile.intern(OWN_FRAME, FrameKind::User);
        let mut ids = Vec::new();
        for (key, count) in std::mem::take(&mut self.counts) {
            ids.clear();
            ids.extend_from_slice(&key.roots);
            if key.pid == self.own_pid {
                ids.push(own);
                self.profile.add_stack_ids(&ids, count);
                continue;
            }
            let names = |list: Option<&Box<[FrameId]>>| list.map(|l| l.to_vec()).unwrap_or_else(|| vec![unknown]);
            for addr in key.user.iter().rev() {
                ids.extend(names(self.user_names.get(&(key.pid, key.generation, *addr))).into_iter().rev());
            }
            for addr in key.kernel.iter().rev() {
                ids.extend(names(self.kernel_names.get(addr)).into_iter().rev());
            }
            self.profile.add_stack_ids(&ids, count);
        }
        (self.profile, self.symbolizer)
    }
}

/// Our frame kind for a symbolizer frame.
fn kind_of(frame: &plumb_symbolize::Frame) -> FrameKind {
    match frame.kind {
        SymKind::Kernel => FrameKind::Kernel,
        SymKind::Jit => FrameKind::Jit,
        SymKind::User if frame.inlined => FrameKind::Inlined,
        SymKind::User => FrameKind::User,
        SymKind::Unknown => FrameKind::Unknown,
    }
}
