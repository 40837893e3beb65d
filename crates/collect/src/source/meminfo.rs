//! /proc/meminfo (to be written).

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot};

use super::Source;

/// What this source emits.
pub const METRICS: &[MetricDef] = &[];

/// Reads /proc/meminfo each cycle.
#[derive(Default)]
pub struct MeminfoSource {
    buf: String,
}

impl Source for MeminfoSource {
    fn name(&self) -> &'static str {
        "meminfo"
    }

    fn collect(&mut self, _root: &FsRoot, _secs: Option<f64>, _out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let _ = &self.buf;
        Ok(())
    }
}
