//! plumb-pmc: the hardware-counter tools `plumb pmc` (cycles, instructions, IPC, stalled cycles,
//! cache misses), `plumb showboost` (real MHz from APERF/MPERF) and `plumb cputemp` (TjMax minus
//! the thermal margin), after Brendan Gregg's pmc-cloud-tools and msr-cloud-tools, read through
//! perf PMUs with plumb-perf's counting mode.
//!
//! Main types: [`CoreReport`] (the counters and [`Ratios`] of one interval), [`Boost`] and
//! [`BoostLine`] (per-CPU clock rates), [`Thermal`] and [`CpuTemp`]; [`Error`] says what the
//! machine lacks.
//!
//! Design decision: honesty over coverage. Each tool first asks the kernel's PMU description
//! (`/sys/bus/event_source/devices`) for exactly the PMU and events it needs, and where one is
//! absent (a virtual machine usually hides them all) it fails with one sentence naming the
//! missing directory, event file or refused perf_event_open: nothing is estimated from other
//! sources. The arithmetic lives in pure functions over counter values (`counters`, `boost`,
//! `thermal`), tested on recorded values under `test_data/`.

mod boost;
mod counters;
mod error;
mod probe;
mod thermal;

#[cfg(test)]
mod data_tests;

pub use boost::table_row as boost_table_row;
pub use boost::{BOOST_EVENTS, Boost, BoostLine, MsrCounts, TABLE_HEADER as BOOST_TABLE_HEADER, interval_lines};
pub use counters::{CORE_COUNTERS, CoreReport, CounterLine, Ratios, group_thousands, measure};
pub use error::{Error, chain};
pub use probe::{core_pmu_check, msr_counters};
pub use thermal::{
    CpuTemp, IA32_TEMPERATURE_TARGET, IA32_THERM_STATUS, MARGIN_EVENT, Thermal, margin_from_perf_count,
    margin_from_therm_status, read_msr, table_header as temp_table_header, table_row as temp_table_row, temperature_c,
    tjmax_from_temperature_target,
};
