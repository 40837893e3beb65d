//! offcputime: time threads spent blocked off-CPU, summed in the kernel per (process, thread,
//! command, kernel stack, user stack), turned into a [`Profile`] weighted in nanoseconds.
//!
//! Design decision: the kernel sums (one hash entry per distinct stack pair, however many
//! switches), and user space reads the table once at the end, names each distinct address once
//! with plumb-symbolize, and hands the result to plumb-profile, so off-CPU profiles are written,
//! diffed and drawn exactly as CPU profiles are. User stacks come from the kernel's
//! frame-pointer walk: code built without frame pointers gives short user stacks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plumb_bpf::{Drops, Global, Tracer, objects};
use plumb_profile::{FrameKind, Profile, ProfileMeta, WeightUnit};
use plumb_symbolize::{FrameKind as SymKind, Symbolizer, lookup_addresses};

use crate::Error;

/// Size of `struct offcpu_key` in offcputime.bpf.c.
pub const OFFCPU_KEY_LEN: usize = 32;

/// How often the stop flag is checked while tracing.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// One entry of the kernel's table, decoded from `struct offcpu_key` and its `__u64` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffcpuKey {
    /// The process id (tgid).
    pub pid: u32,
    /// The thread id.
    pub tid: u32,
    /// The kernel stack's id in the `stacks` map; negative when it could not be stored.
    pub kernel_stack: i32,
    /// The user stack's id; negative for kernel threads or when it could not be stored.
    pub user_stack: i32,
    /// The thread's command name when it blocked.
    pub comm: String,
}

impl OffcpuKey {
    /// Decodes `struct offcpu_key { u32 pid, tid; s32 kernel_stack, user_stack; char comm[16]; }`.
    pub fn decode(bytes: &[u8; OFFCPU_KEY_LEN]) -> OffcpuKey {
        let word = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            b
        };
        let comm = &bytes[16..];
        let end = comm.iter().position(|b| *b == 0).unwrap_or(comm.len());
        OffcpuKey {
            pid: u32::from_ne_bytes(word(0)),
            tid: u32::from_ne_bytes(word(4)),
            kernel_stack: i32::from_ne_bytes(word(8)),
            user_stack: i32::from_ne_bytes(word(12)),
            comm: String::from_utf8_lossy(&comm[..end]).into_owned(),
        }
    }
}

/// One distinct off-CPU stack with its raw addresses (innermost first) and blocked time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffcpuStack {
    /// Whose stack, as the kernel keyed it.
    pub key: OffcpuKey,
    /// Kernel instruction pointers; `None` when the stack was not stored.
    pub kernel: Option<Vec<u64>>,
    /// User instruction pointers; `None` for kernel threads or when the stack was not stored.
    pub user: Option<Vec<u64>>,
    /// Nanoseconds blocked.
    pub blocked_ns: u64,
}

/// Stacks that bpf_get_stackid could not store (`stack_lost` in offcputime.bpf.c), one count per
/// blocking switch: the stack map was full (-ENOMEM), its hash slot held another stack
/// (-EEXIST), or the stack could not be read (-EFAULT). A thread without an address space (a
/// kernel thread, or one exiting) has no user stack, and its missing one is not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StacksLost {
    /// Kernel stacks not stored.
    pub kernel: u64,
    /// User stacks of user threads not stored.
    pub user: u64,
}

impl StacksLost {
    /// Kernel and user stacks lost.
    pub fn total(&self) -> u64 {
        self.kernel.saturating_add(self.user)
    }
}

/// The loaded and attached offcputime program.
#[derive(Debug)]
pub struct Offcputime {
    tracer: Tracer,
    started: Instant,
}

/// Starts offcputime: a `tp_btf` program on sched_switch. `pid` (a process id, all its
/// threads) filters in the kernel.
pub fn offcputime(pid: Option<u32>) -> Result<Offcputime, Error> {
    let tracer = plumb_bpf::load(&objects::OFFCPUTIME, &[("targ_tgid", Global::U32(pid.unwrap_or(0)))])?;
    Ok(Offcputime { tracer, started: Instant::now() })
}

impl Offcputime {
    /// Waits until `duration` has passed since the start or `stop` is set (with no duration,
    /// only `stop` ends the wait).
    pub fn wait(&self, duration: Option<Duration>, stop: &AtomicBool) {
        let deadline = duration.map(|d| self.started + d);
        while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
            let left = deadline.map_or(STOP_CHECK, |d| d.saturating_duration_since(Instant::now()));
            std::thread::sleep(left.min(STOP_CHECK));
        }
    }

    /// Every distinct stack the kernel summed so far, with its addresses.
    pub fn stacks(&self) -> Result<Vec<OffcpuStack>, Error> {
        let entries = self.tracer.hash_entries::<OFFCPU_KEY_LEN, 8>("offcpu")?;
        let mut stacks = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key = OffcpuKey::decode(&key);
            let read = |id: i32| -> Result<Option<Vec<u64>>, Error> {
                match u32::try_from(id) {
                    Ok(id) => Ok(self.tracer.stack_trace("stacks", id)?),
                    Err(_) => Ok(None),
                }
            };
            let kernel = read(key.kernel_stack)?;
            let user = read(key.user_stack)?;
            stacks.push(OffcpuStack { key, kernel, user, blocked_ns: u64::from_ne_bytes(value) });
        }
        Ok(stacks)
    }

    /// Losses so far (a full start or sum table).
    pub fn drops(&self) -> Result<Drops, Error> {
        Ok(self.tracer.drops()?)
    }

    /// Stacks the kernel could not store so far (stack map full, hash slot taken, or unreadable),
    /// counted per blocking switch; such switches still count, under a missing stack.
    pub fn stacks_lost(&self) -> Result<StacksLost, Error> {
        let counts = self.tracer.percpu_array_sums("stack_lost")?;
        Ok(StacksLost { kernel: counts.first().copied().unwrap_or(0), user: counts.get(1).copied().unwrap_or(0) })
    }

    /// How long tracing has run.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Builds the off-CPU profile: each stack root first (user frames from the outermost caller,
/// then kernel frames down to the switch), weighted by its blocked nanoseconds; event
/// `off-cpu`, unit nanoseconds. A stack whose kernel half was not stored gets a
/// `[missing kernel stack]` frame. Returns the profile and the symbolizer's warnings.
pub fn offcpu_profile(stacks: &[OffcpuStack], meta: ProfileMeta) -> (Profile, Vec<String>) {
    let mut symbolizer = Symbolizer::default();
    let profile = build_profile(stacks, &mut symbolizer, meta);
    (profile, symbolizer.take_warnings())
}

fn build_profile(stacks: &[OffcpuStack], symbolizer: &mut Symbolizer, mut meta: ProfileMeta) -> Profile {
    meta.event = Some("off-cpu".to_string());
    meta.unit = WeightUnit::Nanoseconds;
    meta.sample_count = Some(stacks.len() as u64);
    let mut profile = Profile::new(meta);
    let mut user_names: HashMap<(u32, u64), Vec<plumb_profile::Frame>> = HashMap::new();
    let mut kernel_names: HashMap<u64, Vec<plumb_profile::Frame>> = HashMap::new();
    for stack in stacks {
        let mut frames: Vec<plumb_profile::Frame> = Vec::new();
        if let Some(user) = &stack.user {
            let addrs = lookup_addresses(user);
            let pid = stack.key.pid;
            let missing: Vec<u64> = addrs.iter().copied().filter(|a| !user_names.contains_key(&(pid, *a))).collect();
            if !missing.is_empty() {
                for (addr, named) in missing.iter().zip(symbolizer.symbolize_user(pid, &missing)) {
                    user_names.insert((pid, *addr), named.iter().map(profile_frame).collect());
                }
            }
            for addr in addrs.iter().rev() {
                frames.extend(user_names.get(&(pid, *addr)).into_iter().flatten().rev().cloned());
            }
        }
        match &stack.kernel {
            Some(kernel) => {
                let addrs = lookup_addresses(kernel);
                let missing: Vec<u64> = addrs.iter().copied().filter(|a| !kernel_names.contains_key(a)).collect();
                if !missing.is_empty() {
                    for (addr, named) in missing.iter().zip(symbolizer.symbolize_kernel(&missing)) {
                        kernel_names.insert(*addr, named.iter().map(profile_frame).collect());
                    }
                }
                for addr in addrs.iter().rev() {
                    frames.extend(kernel_names.get(addr).into_iter().flatten().rev().cloned());
                }
                while frames.last().is_some_and(|f| f.kind == FrameKind::Kernel && is_tracing_frame(&f.name)) {
                    frames.pop();
                }
            }
            None => frames.push(plumb_profile::Frame::new("[missing kernel stack]", FrameKind::Unknown)),
        }
        profile.add_stack(&frames, stack.blocked_ns);
    }
    profile
}

/// True for the frames the tracing itself adds on top of `__schedule` (the BPF program and
/// the tracepoint's trampoline), which say nothing about why the thread blocked.
fn is_tracing_frame(name: &str) -> bool {
    name.starts_with("bpf_prog_") || name.starts_with("bpf_trace_run") || name.starts_with("__bpf_trace_")
}

/// A profile frame for a symbolizer frame.
fn profile_frame(frame: &plumb_symbolize::Frame) -> plumb_profile::Frame {
    let kind = match frame.kind {
        SymKind::Kernel => FrameKind::Kernel,
        SymKind::Jit => FrameKind::Jit,
        SymKind::User if frame.inlined => FrameKind::Inlined,
        SymKind::User => FrameKind::User,
        SymKind::Unknown => FrameKind::Unknown,
    };
    plumb_profile::Frame::new(frame.name.to_string(), kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(pid: u32, tid: u32, kernel: i32, user: i32, comm: &[u8]) -> [u8; OFFCPU_KEY_LEN] {
        let mut bytes = [0u8; OFFCPU_KEY_LEN];
        bytes[0..4].copy_from_slice(&pid.to_ne_bytes());
        bytes[4..8].copy_from_slice(&tid.to_ne_bytes());
        bytes[8..12].copy_from_slice(&kernel.to_ne_bytes());
        bytes[12..16].copy_from_slice(&user.to_ne_bytes());
        bytes[16..16 + comm.len()].copy_from_slice(comm);
        bytes
    }

    #[test]
    fn decodes_the_c_key_layout() {
        let key = OffcpuKey::decode(&encode(10, 11, 5, -14, b"sleepy"));
        assert_eq!(key, OffcpuKey { pid: 10, tid: 11, kernel_stack: 5, user_stack: -14, comm: "sleepy".to_string() });
        // A full 16-byte comm has no terminator.
        assert_eq!(OffcpuKey::decode(&encode(1, 1, 0, 0, b"0123456789abcdef")).comm, "0123456789abcdef");
    }

    proptest::proptest! {
        #[test]
        fn decoding_round_trips(pid: u32, tid: u32, kernel: i32, user: i32, comm in "[a-z]{0,15}") {
            let key = OffcpuKey::decode(&encode(pid, tid, kernel, user, comm.as_bytes()));
            proptest::prop_assert_eq!(key, OffcpuKey { pid, tid, kernel_stack: kernel, user_stack: user, comm });
        }
    }

    #[test]
    fn a_stack_without_frames_is_named_by_its_command_and_weights_are_nanoseconds() {
        let key = OffcpuKey { pid: 1, tid: 1, kernel_stack: -17, user_stack: -14, comm: "kworker".to_string() };
        let stacks = [OffcpuStack { key, kernel: None, user: None, blocked_ns: 1234 }];
        let (profile, _) = offcpu_profile(&stacks, ProfileMeta::default());
        assert_eq!(profile.meta.unit, WeightUnit::Nanoseconds);
        assert_eq!(profile.meta.event.as_deref(), Some("off-cpu"));
        assert_eq!(profile.total(), 1234);
        let named: Vec<_> = profile.to_named_stacks().into_iter().collect();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, vec![plumb_profile::Frame::new("[missing kernel stack]", FrameKind::Unknown)]);
    }
}
