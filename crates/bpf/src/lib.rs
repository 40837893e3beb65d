//! plumb-bpf: plumb's BPF programs and the loader that runs them.
//!
//! The programs are C (`src/bpf/*.bpf.c`, CO-RE against the running kernel's BTF), compiled
//! ahead by `build-bpf.sh` into `objects/*.o`, which are committed and embedded with
//! `include_bytes!`, so building plumb needs no clang, libbpf or kernel headers; the test
//! `tests/drift.rs` rebuilds them and fails when the committed bytes no longer match the sources.
//! [`objects`] lists them with their tracepoints; [`load`] loads one through aya (pure Rust),
//! attaches it and returns a [`Tracer`] that reads its ring buffer and its loss counters
//! ([`Drops`]). [`MonotonicClock`] turns the programs' timestamps into wall-clock time.
//!
//! Design decision: only tracepoints (`tracepoint/…`, and `tp_btf/…` for typed arguments such as
//! sched_switch's task_structs), no kprobes or fentry,
//! because those are the mechanisms every target kernel offers, including ones built without
//! kprobes. Losses are never silent: every object counts what it could not deliver.

mod clock;
mod error;
mod loader;
pub mod objects;
mod sys;
pub mod tracefs;

pub use clock::MonotonicClock;
pub use error::Error;
pub use loader::{Drops, Global, KERNEL_BTF, RawEntry, Tracer, load};
pub use objects::{Object, Tracepoint};
