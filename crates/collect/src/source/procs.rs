//! /proc/PID/stat (to be written).

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot};

use super::Source;

/// What this source emits.
pub const METRICS: &[MetricDef] = &[];

/// Reads /proc/PID/stat each cycle.
#[derive(Default)]
pub struct ProcsSource {
    buf: String,
}

impl Source for ProcsSource {
    fn name(&self) -> &'static str {
        "procs"
    }

    fn collect(&mut self, _root: &FsRoot, _secs: Option<f64>, _out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let _ = &self.buf;
        Ok(())
    }
}

impl ProcsSource {
    /// Keeps the `top` busiest processes.
    pub fn new(top: usize) -> Self {
        let _ = top;
        Self::default()
    }
}
