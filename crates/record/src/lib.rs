//! plumb-record: a live profiling session. It opens perf events ([`plumb_perf`]), follows the
//! processes' mappings, unwinds and names each sample's stack ([`plumb_symbolize`]) and adds it
//! to a [`plumb_profile::Profile`], until a duration passes, the caller says stop (Ctrl-C), or
//! the profiled command exits. `plumb profile` and the agent's `POST /api/v1/profile` both run
//! [`record`].
//!
//! Main types: [`RecordOptions`] (what to sample and for how long), [`Target`] (all CPUs, some
//! processes, or a command to run), [`Recording`] (the profile plus what the session counted),
//! [`Progress`] (for a live status line) and [`RecordError`].
//!
//! Design decision: a sample's stack is kept as raw addresses, aggregated by (process image,
//! addresses), and each distinct address is symbolized once, when first seen, into frames
//! interned in the profile. So a busy 30-second profile names each address once rather than once
//! per sample, and an address is named with the mappings of the moment it was sampled (a later
//! exec or unmapping cannot rename it).

mod child;
mod error;
mod options;
mod session;
mod stacks;

pub use child::StoppedChild;
pub use error::RecordError;
pub use options::{RecordOptions, Target};
pub use session::{Progress, Recording, RecordingStats, record};
