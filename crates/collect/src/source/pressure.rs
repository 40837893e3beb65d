//! /proc/pressure/cpu (to be written).

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot};

use super::Source;

/// What this source emits.
pub const METRICS: &[MetricDef] = &[];

/// Reads /proc/pressure/cpu each cycle.
#[derive(Default)]
pub struct PressureSource {
    buf: String,
}

impl Source for PressureSource {
    fn name(&self) -> &'static str {
        "pressure"
    }

    fn collect(&mut self, _root: &FsRoot, _secs: Option<f64>, _out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let _ = &self.buf;
        Ok(())
    }
}
