//! plumb-use: Brendan Gregg's USE method as a checklist over plumb's collectors.
//!
//! For every resource (all CPUs and each CPU, memory capacity, swap, each disk, each network
//! interface, TCP, file handles, and the pressure stall signals) the [`checklist`] says where its
//! Utilization, Saturation and Errors come from and which threshold flags a problem;
//! [`evaluate`] answers it from one [`Snapshot`] whose rates cover the measuring interval, and
//! [`table`] and [`json`] render the [`Report`]. `plumb use` drives a `plumb_collect::Collector`
//! over the [`GROUPS`] this needs and hands each second snapshot here.
//!
//! Design decision: the checklist is data (`const` [`Check`]s, each with its metric, threshold and
//! reason), so the `--help` text, the JSON thresholds and the evaluation all read the same
//! constants. A question that cannot be answered from /proc and /sys is kept in the checklist and
//! shown as n/a with its reason, never left out.
//!
//! This crate does no I/O: callers hand it snapshots and write the strings it returns.
//!
//! [`Snapshot`]: plumb_model::Snapshot

pub mod checklist;
mod evaluate;
pub mod format;
pub mod json;
pub mod table;

pub use checklist::{CHECKS, Check, How, Kind, Limit, Op, ResourceType, Threshold, checklist_help};
pub use evaluate::{Cell, Report, Row, evaluate};

use plumb_collect::Group;

/// The collector groups the checklist reads (everything but per-process figures).
pub const GROUPS: [Group; 9] = [
    Group::Cpu,
    Group::Percpu,
    Group::Load,
    Group::Psi,
    Group::Mem,
    Group::Paging,
    Group::Disk,
    Group::Net,
    Group::Tcp,
];
