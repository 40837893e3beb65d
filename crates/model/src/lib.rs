//! plumb-model: the vocabulary every other plumb crate speaks.
//!
//! A measurement is a [`Sample`]: a metric `name`, a few per-series tags (`cpu`, `dev`, `iface`,
//! `pid`, ...) and a float value, Atlas style. Samples taken together at one instant form a
//! [`Snapshot`]. Each metric a collector can emit is declared once as a [`MetricDef`] beside the
//! code that computes it; the metric catalogue in the docs is rendered from those declarations
//! ([`catalogue_markdown`]), never written by hand.
//!
//! Design decision: metric names and tag keys are `&'static str` (they come from code, never from
//! input), so a snapshot of a few thousand samples costs one allocation per tag *value* only. Fleet
//! tags (`nf.app`, `nf.node`, ...) are not repeated on every sample: they are [`CommonTags`], applied
//! once by whatever exports the snapshot.
//!
//! This crate does no I/O.

mod catalogue;
mod tags;

pub use catalogue::{MetricDef, Unit, catalogue_markdown};
pub use tags::{CommonTags, FLEET_TAG_KEYS, TagError, validate_tag};

/// One value of one series at the snapshot's instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name, e.g. `cpu.user`; always one declared by some [`MetricDef`].
    pub name: &'static str,
    /// Per-series tags, e.g. `[("dev", "vda")]`. Keys come from the metric's definition.
    pub tags: Vec<(&'static str, String)>,
    /// The value, in the metric's [`Unit`]. Never NaN: a value that cannot be computed is left out.
    pub value: f64,
}

impl Sample {
    /// A sample without per-series tags.
    pub fn new(name: &'static str, value: f64) -> Self {
        Sample { name, tags: Vec::new(), value }
    }

    /// A sample with one per-series tag.
    pub fn tagged(name: &'static str, key: &'static str, tag: impl Into<String>, value: f64) -> Self {
        Sample { name, tags: vec![(key, tag.into())], value }
    }

    /// The value of the tag `key`, if the sample has it.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// Everything collected in one cycle.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Wall-clock time of the collection, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Seconds since the previous snapshot; `None` for the first, which has no rates.
    pub interval_secs: Option<f64>,
    /// The samples, in collector order.
    pub samples: Vec<Sample>,
}

impl Snapshot {
    /// The first sample named `name` whose tags include every `(key, value)` in `tags`.
    pub fn find(&self, name: &str, tags: &[(&str, &str)]) -> Option<&Sample> {
        self.samples.iter().find(|s| s.name == name && tags.iter().all(|(k, v)| s.tag(k) == Some(*v)))
    }

    /// The value of [`Snapshot::find`].
    pub fn value(&self, name: &str, tags: &[(&str, &str)]) -> Option<f64> {
        self.find(name, tags).map(|s| s.value)
    }
}
