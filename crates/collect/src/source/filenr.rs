//! /proc/sys/fs/file-nr (to be written).

use plumb_model::{MetricDef, Sample};

use crate::{CollectError, FsRoot};

use super::Source;

/// What this source emits.
pub const METRICS: &[MetricDef] = &[];

/// Reads /proc/sys/fs/file-nr each cycle.
#[derive(Default)]
pub struct FileNrSource {
    buf: String,
}

impl Source for FileNrSource {
    fn name(&self) -> &'static str {
        "file-nr"
    }

    fn collect(&mut self, _root: &FsRoot, _secs: Option<f64>, _out: &mut Vec<Sample>) -> Result<(), CollectError> {
        let _ = &self.buf;
        Ok(())
    }
}
