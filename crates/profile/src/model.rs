//! The profile model: interned frames, stacks (root first) with weights, and what the recording
//! knew about itself.
//!
//! Design decision: identical stacks are aggregated on insertion into an ordered map keyed by
//! their frame ids, so a profile of a million samples holds one entry per distinct stack, every
//! output walks the stacks in the same order (the bytes a format writes are reproducible), and
//! adding an already-seen stack allocates nothing.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// What kind of code a frame stands for. Outputs colour or annotate frames by kind (folded stacks
/// carry inferno's `_[k]`, `_[j]`, `_[i]` suffixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum FrameKind {
    /// Native user-space code (an ELF function, or `module+0xoffset` when unresolved).
    #[default]
    User,
    /// Kernel code.
    Kernel,
    /// JIT-compiled code, named through `/tmp/perf-PID.map`.
    Jit,
    /// A function inlined into the frame below it (its caller, closer to the root).
    Inlined,
    /// Code whose kind could not be determined.
    Unknown,
    /// A synthetic root frame naming a process (`--per-process`).
    Process,
    /// A synthetic frame naming a thread (`--per-thread`), below its process frame.
    Thread,
}

impl FrameKind {
    /// All kinds, in declaration order.
    pub const ALL: [FrameKind; 7] = [
        FrameKind::User,
        FrameKind::Kernel,
        FrameKind::Jit,
        FrameKind::Inlined,
        FrameKind::Unknown,
        FrameKind::Process,
        FrameKind::Thread,
    ];

    /// A lower-case word for the kind (`user`, `kernel`, `jit`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FrameKind::User => "user",
            FrameKind::Kernel => "kernel",
            FrameKind::Jit => "jit",
            FrameKind::Inlined => "inlined",
            FrameKind::Unknown => "unknown",
            FrameKind::Process => "process",
            FrameKind::Thread => "thread",
        }
    }

    /// The pseudo-module name that carries a non-user kind in formats without kinds (pprof
    /// mappings, speedscope frame files), spelled as perf spells such modules:
    /// `[kernel.kallsyms]`, `[jit]`, `[inlined]`, `[unknown]`, `[process]`, `[thread]`.
    pub fn pseudo_module(self) -> Option<&'static str> {
        match self {
            FrameKind::User => None,
            FrameKind::Kernel => Some("[kernel.kallsyms]"),
            FrameKind::Jit => Some("[jit]"),
            FrameKind::Inlined => Some("[inlined]"),
            FrameKind::Unknown => Some("[unknown]"),
            FrameKind::Process => Some("[process]"),
            FrameKind::Thread => Some("[thread]"),
        }
    }

    /// The kind a module name stands for: [`FrameKind::pseudo_module`]'s names and any
    /// `[kernel...]` module; anything else (real binaries, `[vdso]`) is user code.
    pub fn from_module(module: &str) -> FrameKind {
        if module.starts_with("[kernel") {
            return FrameKind::Kernel;
        }
        FrameKind::ALL.into_iter().find(|kind| kind.pseudo_module() == Some(module)).unwrap_or(FrameKind::User)
    }

    /// The kind named by [`FrameKind::as_str`].
    pub fn from_word(word: &str) -> Option<FrameKind> {
        FrameKind::ALL.into_iter().find(|kind| kind.as_str() == word)
    }
}

/// One frame of a stack: a function (or module+offset) name and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// The demangled function name, `module+0xoffset`, or `[unknown]`.
    pub name: String,
    /// What kind of code it is.
    pub kind: FrameKind,
}

impl Frame {
    /// A frame of the given name and kind.
    pub fn new(name: impl Into<String>, kind: FrameKind) -> Frame {
        Frame { name: name.into(), kind }
    }

    /// A user-space frame.
    pub fn user(name: impl Into<String>) -> Frame {
        Frame::new(name, FrameKind::User)
    }

    /// A kernel frame.
    pub fn kernel(name: impl Into<String>) -> Frame {
        Frame::new(name, FrameKind::Kernel)
    }
}

/// The index of an interned frame in its [`Profile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameId(pub u32);

/// What a stack's weight counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightUnit {
    /// Samples (each sample stands for one period of the event).
    #[default]
    Samples,
    /// Nanoseconds (off-CPU time).
    Nanoseconds,
}

impl WeightUnit {
    /// The unit's name in outputs: `samples` or `nanoseconds`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightUnit::Samples => "samples",
            WeightUnit::Nanoseconds => "nanoseconds",
        }
    }
}

/// How samples were taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// A sample about every 1/HZ seconds (`-F`).
    FrequencyHz(u64),
    /// A sample every N events (for cpu-clock, N nanoseconds).
    Period(u64),
}

/// What the recording knew about itself. Every field is optional information; outputs show
/// what is present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileMeta {
    /// The host the profile was recorded on. Default is `None`.
    pub host: Option<String>,
    /// The sampled event: `cpu-clock`, `page-faults`, `context-switches`, `off-cpu`. Default is
    /// `None` (unknown, e.g. read from folded stacks).
    pub event: Option<String>,
    /// What weights count. Default is samples.
    pub unit: WeightUnit,
    /// Sampling frequency or period. Default is `None`.
    pub sampling: Option<Sampling>,
    /// When recording started, in nanoseconds since the Unix epoch. Default is `None`.
    pub start_unix_nanos: Option<i64>,
    /// How long recording lasted. Default is `None`.
    pub duration: Option<Duration>,
    /// How many samples were taken, when weights are not sample counts (off-CPU) or when some
    /// samples could not be added. Default is `None`: [`Profile::sample_count`] then sums weights.
    pub sample_count: Option<u64>,
    /// Samples the kernel reported lost. Default is 0.
    pub lost_samples: u64,
    /// The command line that was profiled (`plumb profile -- CMD ARGS`). Default is `None`.
    pub command_line: Option<String>,
}

/// One function's share of a profile, for summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSummary {
    /// The frame.
    pub frame: Frame,
    /// Weight of the stacks where it is the leaf.
    pub self_weight: u64,
    /// Weight of the stacks where it appears anywhere (once per stack, even when recursive).
    pub total_weight: u64,
}

/// Which synthetic root frames [`task_root_frames`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskRoots {
    /// None: stacks start at the outermost function. The default.
    #[default]
    None,
    /// One frame naming the process (`--per-process`).
    PerProcess,
    /// A process frame, then a thread frame (`--per-thread`).
    PerThread,
}

/// The root frames to prepend to a sample's stack for `--per-process` / `--per-thread`: the
/// process as `comm [pid]` ([`FrameKind::Process`]) and the thread as `name [tid]`
/// ([`FrameKind::Thread`]).
pub fn task_root_frames(roots: TaskRoots, process: (&str, u32), thread: (&str, u32)) -> Vec<Frame> {
    let process_frame = || Frame::new(format!("{} [{}]", process.0, process.1), FrameKind::Process);
    match roots {
        TaskRoots::None => Vec::new(),
        TaskRoots::PerProcess => vec![process_frame()],
        TaskRoots::PerThread => {
            vec![process_frame(), Frame::new(format!("{} [{}]", thread.0, thread.1), FrameKind::Thread)]
        }
    }
}

/// A profile: interned frames, stacks (root first) each with a weight, and metadata.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// What the recording knew about itself.
    pub meta: ProfileMeta,
    frames: Vec<Frame>,
    /// Frame name to the ids of the frames of that name, one per kind seen.
    frame_index: HashMap<String, Vec<(FrameKind, FrameId)>>,
    stacks: BTreeMap<Box<[FrameId]>, u64>,
}

impl Profile {
    /// An empty profile with the given metadata.
    pub fn new(meta: ProfileMeta) -> Profile {
        Profile { meta, ..Profile::default() }
    }

    /// The id of the frame `(name, kind)`, interning it if new. Allocates only for a new frame.
    pub fn intern(&mut self, name: &str, kind: FrameKind) -> FrameId {
        if let Some(ids) = self.frame_index.get(name)
            && let Some(&(_, id)) = ids.iter().find(|(k, _)| *k == kind)
        {
            return id;
        }
        let id = FrameId(u32::try_from(self.frames.len()).unwrap_or(u32::MAX));
        self.frames.push(Frame::new(name, kind));
        self.frame_index.entry(name.to_owned()).or_default().push((kind, id));
        id
    }

    /// Adds `weight` to the stack of `frames` (root first). A zero weight or an empty stack adds
    /// nothing.
    pub fn add_stack(&mut self, frames: &[Frame], weight: u64) {
        let ids: Vec<FrameId> = frames.iter().map(|f| self.intern(&f.name, f.kind)).collect();
        self.add_stack_ids(&ids, weight);
    }

    /// Adds `weight` to the stack of interned frame ids (root first), as [`Profile::add_stack`].
    /// Ids not from this profile's [`Profile::intern`] make a stack that outputs skip.
    pub fn add_stack_ids(&mut self, ids: &[FrameId], weight: u64) {
        if weight == 0 || ids.is_empty() {
            return;
        }
        match self.stacks.get_mut(ids) {
            Some(total) => *total = total.saturating_add(weight),
            None => {
                self.stacks.insert(ids.into(), weight);
            }
        }
    }

    /// The frame of an id, if it is this profile's.
    pub fn frame(&self, id: FrameId) -> Option<&Frame> {
        self.frames.get(id.0 as usize)
    }

    /// All interned frames; a frame's [`FrameId`] is its index.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The distinct stacks (root first) and their weights, in a stable order.
    pub fn stacks(&self) -> impl Iterator<Item = (&[FrameId], u64)> {
        self.stacks.iter().map(|(ids, &weight)| (&**ids, weight))
    }

    /// The stacks resolved to frames, skipping any with a foreign id.
    pub fn resolved_stacks(&self) -> impl Iterator<Item = (Vec<&Frame>, u64)> {
        self.stacks().filter_map(|(ids, weight)| {
            let frames: Option<Vec<&Frame>> = ids.iter().map(|&id| self.frame(id)).collect();
            frames.map(|frames| (frames, weight))
        })
    }

    /// The stacks keyed by their frames: equal for two profiles with the same content however
    /// their frames were interned.
    pub fn to_named_stacks(&self) -> BTreeMap<Vec<Frame>, u64> {
        let mut named = BTreeMap::new();
        for (frames, weight) in self.resolved_stacks() {
            let key: Vec<Frame> = frames.into_iter().cloned().collect();
            *named.entry(key).or_insert(0) += weight;
        }
        named
    }

    /// The number of distinct stacks.
    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    /// Whether the profile holds no stack.
    pub fn is_empty(&self) -> bool {
        self.stacks.is_empty()
    }

    /// The sum of all weights.
    pub fn total(&self) -> u64 {
        self.stacks.values().fold(0u64, |sum, &w| sum.saturating_add(w))
    }

    /// The number of samples taken: [`ProfileMeta::sample_count`] when set, else the total weight
    /// when weights count samples, else `None`.
    pub fn sample_count(&self) -> Option<u64> {
        match (self.meta.sample_count, self.meta.unit) {
            (Some(count), _) => Some(count),
            (None, WeightUnit::Samples) => Some(self.total()),
            (None, WeightUnit::Nanoseconds) => None,
        }
    }

    /// Adds every stack of `other` to this profile. Metadata stays this profile's, except that
    /// lost samples and explicit sample counts add up.
    pub fn merge(&mut self, other: &Profile) {
        for (frames, weight) in other.resolved_stacks() {
            let ids: Vec<FrameId> = frames.iter().map(|f| self.intern(&f.name, f.kind)).collect();
            self.add_stack_ids(&ids, weight);
        }
        self.meta.lost_samples = self.meta.lost_samples.saturating_add(other.meta.lost_samples);
        if let (Some(mine), Some(theirs)) = (self.meta.sample_count, other.meta.sample_count) {
            self.meta.sample_count = Some(mine.saturating_add(theirs));
        }
    }

    /// Every function's self and total weight, heaviest self first (then heaviest total, then by
    /// name), at most `limit` of them.
    pub fn top_functions(&self, limit: usize) -> Vec<FunctionSummary> {
        let mut self_weights: HashMap<FrameId, u64> = HashMap::new();
        let mut total_weights: HashMap<FrameId, u64> = HashMap::new();
        let mut seen: Vec<FrameId> = Vec::new();
        for (ids, weight) in self.stacks() {
            if let Some(&leaf) = ids.last() {
                *self_weights.entry(leaf).or_insert(0) += weight;
            }
            seen.clear();
            for &id in ids {
                if !seen.contains(&id) {
                    seen.push(id);
                    *total_weights.entry(id).or_insert(0) += weight;
                }
            }
        }
        let mut summaries: Vec<FunctionSummary> = total_weights
            .into_iter()
            .filter_map(|(id, total_weight)| {
                let frame = self.frame(id)?.clone();
                let self_weight = self_weights.get(&id).copied().unwrap_or(0);
                Some(FunctionSummary { frame, self_weight, total_weight })
            })
            .collect();
        summaries.sort_by(|a, b| {
            b.self_weight.cmp(&a.self_weight).then(b.total_weight.cmp(&a.total_weight)).then(a.frame.cmp(&b.frame))
        });
        summaries.truncate(limit);
        summaries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(names: &str) -> Vec<Frame> {
        names.split(';').map(Frame::user).collect()
    }

    #[test]
    fn identical_stacks_aggregate_and_frames_intern_once() {
        let mut profile = Profile::default();
        profile.add_stack(&frames("main;work;leaf"), 3);
        profile.add_stack(&frames("main;work;leaf"), 4);
        profile.add_stack(&frames("main;other"), 2);
        profile.add_stack(&frames("main"), 0);
        assert_eq!(profile.stack_count(), 2);
        assert_eq!(profile.total(), 9);
        assert_eq!(profile.frames().len(), 4);
        assert_eq!(profile.to_named_stacks().get(&frames("main;work;leaf")), Some(&7));
    }

    #[test]
    fn same_name_different_kind_are_different_frames() {
        let mut profile = Profile::default();
        let user = profile.intern("read", FrameKind::User);
        let kernel = profile.intern("read", FrameKind::Kernel);
        assert_ne!(user, kernel);
        assert_eq!(profile.intern("read", FrameKind::Kernel), kernel);
        assert_eq!(profile.frame(kernel), Some(&Frame::kernel("read")));
    }

    #[test]
    fn top_functions_count_self_at_leaf_and_total_once_per_stack() {
        let mut profile = Profile::default();
        profile.add_stack(&frames("main;fib;fib;fib"), 6);
        profile.add_stack(&frames("main;fib;add"), 3);
        profile.add_stack(&frames("main;idle"), 1);
        let top = profile.top_functions(10);
        let row = |name: &str| top.iter().find(|s| s.frame.name == name).map(|s| (s.self_weight, s.total_weight));
        assert_eq!(top.first().map(|s| s.frame.name.as_str()), Some("fib"));
        assert_eq!(row("fib"), Some((6, 9)));
        assert_eq!(row("add"), Some((3, 3)));
        assert_eq!(row("main"), Some((0, 10)));
        assert_eq!(profile.top_functions(2).len(), 2);
    }

    #[test]
    fn merge_adds_weights_and_lost_samples() {
        let mut a = Profile::default();
        a.add_stack(&frames("main;a"), 2);
        a.meta.lost_samples = 1;
        let mut b = Profile::default();
        b.add_stack(&frames("main;b"), 5);
        b.add_stack(&frames("main;a"), 1);
        b.meta.lost_samples = 2;
        a.merge(&b);
        assert_eq!(a.total(), 8);
        assert_eq!(a.to_named_stacks().get(&frames("main;a")), Some(&3));
        assert_eq!(a.meta.lost_samples, 3);
    }

    #[test]
    fn task_roots_name_process_then_thread() {
        let roots = task_root_frames(TaskRoots::PerThread, ("nginx", 10), ("worker", 12));
        assert_eq!(
            roots,
            vec![Frame::new("nginx [10]", FrameKind::Process), Frame::new("worker [12]", FrameKind::Thread)]
        );
        assert_eq!(task_root_frames(TaskRoots::PerProcess, ("a", 1), ("b", 2)).len(), 1);
        assert!(task_root_frames(TaskRoots::None, ("a", 1), ("b", 2)).is_empty());
    }

    #[test]
    fn sample_count_prefers_meta_then_sums_samples() {
        let mut profile = Profile::default();
        profile.add_stack(&frames("main"), 4);
        assert_eq!(profile.sample_count(), Some(4));
        profile.meta.unit = WeightUnit::Nanoseconds;
        assert_eq!(profile.sample_count(), None);
        profile.meta.sample_count = Some(2);
        assert_eq!(profile.sample_count(), Some(2));
    }
}
