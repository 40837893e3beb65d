//! plumb-profile: the profile model and every format it is read from or written to.
//!
//! A [`Profile`] is a set of stacks (root first) of interned [`Frame`]s (a name and a
//! [`FrameKind`]: user, kernel, JIT, inlined, ...), each with a weight, plus [`ProfileMeta`]
//! (host, event, unit, sampling, start, duration, samples, lost samples, command). Formats, one
//! module each: [`folded`] stacks (read and write, inferno's `_[k]`/`_[j]`/`_[i]` annotations),
//! [`svg`] flame graphs, icicles and differential flame graphs (inferno), [`pprof`] (gzip
//! profile.proto, read and write), [`speedscope`] JSON (read and write), [`collapse`] of
//! `perf script` text (inferno), and [`detect`], which sniffs an input's format and reads any of
//! them.
//!
//! Design decision: the crate does no I/O. Everything takes bytes or a reader and returns bytes or
//! writes to a writer, so the recording session, the CLI and the agent's HTTP endpoint share one
//! implementation and tests need no files beyond `test_data/`. The model knows nothing of perf
//! or of symbolization: the session converts their frames into ours.

pub mod collapse;
pub mod detect;
mod error;
pub mod folded;
pub mod model;
pub mod pprof;
pub mod render;
pub mod speedscope;
pub mod svg;

pub use detect::{Format, ReadProfile, detect, read_any};
pub use error::{Error, Result};
pub use model::{
    Frame, FrameId, FrameKind, FunctionSummary, Profile, ProfileMeta, Sampling, TaskRoots, WeightUnit, task_root_frames,
};
pub use render::{OutputFormat, render};
