//! Loading an embedded object, attaching its tracepoints, and reading its ring buffer and loss
//! counters.
//!
//! Design decision: every object follows one convention, so one [`Tracer`] serves every tool:
//! records arrive on a ring buffer map named `events`, and losses are counted in a per-CPU array
//! named `drops` (slot 0: ring buffer full, slot 1: in-flight table full), which
//! [`Tracer::drops`] sums over CPUs. Settings are `const volatile` globals written before load,
//! so the verifier prunes the branches a setting turns off.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use aya::maps::{HashMap, MapData, PerCpuArray, RingBuf, StackTraceMap};
use aya::programs::{Program, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};

use crate::objects::Object;
use crate::{Error, sys, tracefs};

/// Where the kernel describes its own types; CO-RE relocations are resolved against it.
pub const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// A value for one of an object's `const volatile` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    /// A `__u32` setting.
    U32(u32),
    /// A `__u8` setting.
    U8(u8),
}

/// Events lost before user space saw them, by cause; each counter is summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// Records the BPF program could not put in the ring buffer because it was full.
    pub ring_full: u64,
    /// Events whose start could not be remembered because the in-flight table was full.
    pub table_full: u64,
}

impl Drops {
    /// All lost events.
    pub fn total(&self) -> u64 {
        self.ring_full.saturating_add(self.table_full)
    }
}

/// One hash map entry as raw key and value bytes.
pub type RawEntry<const K: usize, const V: usize> = ([u8; K], [u8; V]);

/// A loaded object with its tracepoints attached; detaches and unloads when dropped.
pub struct Tracer {
    object: &'static str,
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    skipped: Vec<&'static str>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("object", &self.object).field("skipped", &self.skipped).finish_non_exhaustive()
    }
}

/// Loads `object` with its settings, attaches its tracepoints, and opens its ring buffer.
///
/// Mounts tracefs at /sys/kernel/tracing when it is not mounted anywhere (aya reads
/// tracepoint ids from it). Optional tracepoints this kernel lacks are skipped (see
/// [`Tracer::skipped`]); a missing required one is [`Error::TracepointMissing`].
pub fn load(object: &Object, globals: &[(&str, Global)]) -> Result<Tracer, Error> {
    if !Path::new(KERNEL_BTF).exists() {
        return Err(Error::NoKernelBtf);
    }
    tracefs::ensure_mounted()?;
    let mut loader = EbpfLoader::new();
    for (name, value) in globals {
        match value {
            Global::U32(v) => loader.override_global(name, v, true),
            Global::U8(v) => loader.override_global(name, v, true),
        };
    }
    let mut ebpf = loader.load(object.bytes).map_err(|e| Error::from_aya(object.name, e))?;
    let mut skipped = Vec::new();
    let mut kernel_btf: Option<Btf> = None;
    for tp in object.tracepoints {
        if !tracefs::tracepoint_exists(tp.category, tp.event) {
            if tp.required {
                return Err(Error::TracepointMissing { tool: object.name, category: tp.category, event: tp.event });
            }
            skipped.push(tp.event);
            continue;
        }
        let program = ebpf.program_mut(tp.program).ok_or_else(|| Error::Load {
            object: object.name,
            source: format!("the object has no program {}", tp.program).into(),
        })?;
        if let Program::BtfTracePoint(program) = program {
            // A `tp_btf/…` program: typed arguments, attached by BTF id from the kernel's BTF.
            let btf = match &kernel_btf {
                Some(btf) => btf,
                None => kernel_btf.insert(Btf::from_sys_fs().map_err(|e| Error::from_aya(object.name, e))?),
            };
            program.load(tp.event, btf).map_err(|e| Error::from_aya(object.name, e))?;
            program.attach().map_err(|e| Error::from_aya(object.name, e))?;
            continue;
        }
        let program: &mut TracePoint = program.try_into().map_err(|e| Error::from_aya(object.name, e))?;
        program.load().map_err(|e| Error::from_aya(object.name, e))?;
        program.attach(tp.category, tp.event).map_err(|e| Error::from_aya(object.name, e))?;
    }
    let map = ebpf.take_map("events").ok_or_else(|| map_error(object.name, "events", "missing".to_string()))?;
    let ring = RingBuf::try_from(map).map_err(|e| map_error(object.name, "events", e.to_string()))?;
    Ok(Tracer { object: object.name, ebpf, ring, skipped })
}

fn map_error(object: &'static str, map: &'static str, reason: String) -> Error {
    Error::Map { object, map, reason }
}

impl Tracer {
    /// Hands every record waiting in the ring buffer to `on_record`; if none is waiting, waits
    /// up to `timeout` for one first. Returns how many records were handed over.
    pub fn poll(&mut self, timeout: Duration, mut on_record: impl FnMut(&[u8])) -> Result<usize, Error> {
        let mut count = self.drain(&mut on_record);
        if count == 0 && sys::poll_readable(self.ring.as_fd(), timeout).map_err(Error::Ring)? {
            count = self.drain(&mut on_record);
        }
        Ok(count)
    }

    fn drain(&mut self, on_record: &mut impl FnMut(&[u8])) -> usize {
        let mut count = 0;
        while let Some(item) = self.ring.next() {
            on_record(&item);
            count += 1;
        }
        count
    }

    /// The loss counters, summed over CPUs.
    pub fn drops(&self) -> Result<Drops, Error> {
        let map = self.ebpf.map("drops").ok_or_else(|| map_error(self.object, "drops", "missing".to_string()))?;
        let array: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(map).map_err(|e| map_error(self.object, "drops", e.to_string()))?;
        let slot = |index: u32| -> Result<u64, Error> {
            let values = array.get(&index, 0).map_err(|e| map_error(self.object, "drops", e.to_string()))?;
            Ok(values.iter().fold(0u64, |sum, v| sum.saturating_add(*v)))
        };
        Ok(Drops { ring_full: slot(0)?, table_full: slot(1)? })
    }

    /// Every slot of the per-CPU `__u64` array `map`, each summed over CPUs (in-kernel
    /// histograms and totals).
    pub fn percpu_array_sums(&self, map: &'static str) -> Result<Vec<u64>, Error> {
        let data = self.ebpf.map(map).ok_or_else(|| map_error(self.object, map, "missing".to_string()))?;
        let array: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(data).map_err(|e| map_error(self.object, map, e.to_string()))?;
        (0..array.len())
            .map(|index| {
                let values = array.get(&index, 0).map_err(|e| map_error(self.object, map, e.to_string()))?;
                Ok(values.iter().fold(0u64, |sum, v| sum.saturating_add(*v)))
            })
            .collect()
    }

    /// Every entry of the hash map `map` as raw key and value bytes (`K` and `V` must be the C
    /// types' sizes); the caller decodes them by offset. Entries removed while iterating are
    /// skipped.
    pub fn hash_entries<const K: usize, const V: usize>(
        &self,
        map: &'static str,
    ) -> Result<Vec<RawEntry<K, V>>, Error> {
        let data = self.ebpf.map(map).ok_or_else(|| map_error(self.object, map, "missing".to_string()))?;
        let hash: HashMap<&MapData, [u8; K], [u8; V]> =
            HashMap::try_from(data).map_err(|e| map_error(self.object, map, e.to_string()))?;
        Ok(hash.iter().filter_map(Result::ok).collect())
    }

    /// The instruction pointers of stack `id` in the stack-trace map `map`, innermost first;
    /// `None` when the id is not (or no longer) in the map.
    pub fn stack_trace(&self, map: &'static str, id: u32) -> Result<Option<Vec<u64>>, Error> {
        let data = self.ebpf.map(map).ok_or_else(|| map_error(self.object, map, "missing".to_string()))?;
        let stacks = StackTraceMap::try_from(data).map_err(|e| map_error(self.object, map, e.to_string()))?;
        match stacks.get(&id, 0) {
            Ok(trace) => Ok(Some(trace.frames().iter().map(|f| f.ip).collect())),
            Err(aya::maps::MapError::KeyNotFound) => Ok(None),
            Err(e) => Err(map_error(self.object, map, e.to_string())),
        }
    }

    /// The optional tracepoints this kernel lacks, which were not attached.
    pub fn skipped(&self) -> &[&'static str] {
        &self.skipped
    }
}
