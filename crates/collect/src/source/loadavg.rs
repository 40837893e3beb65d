//! /proc/loadavg (to be written).

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot};

use super::Source;

/// What this source emits.
pub const METRICS: &[MetricDef] = &[];

/// Reads /proc/loadavg each cycle.
#[derive(Default)]
pub struct LoadavgSource {
    buf: String,
}

impl Source for LoadavgSource {
    fn name(&self) -> &'static str {
        "loadavg"
    }

    fn collect(&mut self, _root: &FsRoot, _secs: Option<f64>, _out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let _ = &self.buf;
        Ok(())
    }
}
