//! Metric declarations and the catalogue rendered from them.

/// The unit of a metric's value. Rates are per second of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Percent, 0-100 (per-process CPU may exceed 100 on several CPUs, as in pidstat).
    Percent,
    /// Events per second.
    PerSecond,
    /// Kilobytes (1024 bytes) per second, as sysstat reports.
    KilobytesPerSecond,
    /// Bytes.
    Bytes,
    /// Milliseconds.
    Milliseconds,
    /// A count at the instant (tasks, connections, descriptors).
    Count,
    /// A plain number without unit (load average, queue size).
    Number,
}

impl Unit {
    /// How the unit is written in the catalogue.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::PerSecond => "per second",
            Unit::KilobytesPerSecond => "kB/s",
            Unit::Bytes => "bytes",
            Unit::Milliseconds => "ms",
            Unit::Count => "count",
            Unit::Number => "number",
        }
    }
}

/// The declaration of one metric, kept beside the code that computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// The `name` tag, e.g. `disk.reads`.
    pub name: &'static str,
    /// The unit of its values.
    pub unit: Unit,
    /// Per-series tag keys every sample of it carries, e.g. `["dev", "kind"]`.
    pub tags: &'static [&'static str],
    /// Where it is read, e.g. `/proc/diskstats`.
    pub source: &'static str,
    /// One sentence on what it means, naming the equivalent sysstat column where there is one.
    pub help: &'static str,
}

/// Renders the catalogue of `groups` (title, definitions) as the Markdown in docs/metrics.md.
pub fn catalogue_markdown(groups: &[(&str, &[MetricDef])]) -> String {
    let mut out = String::from(
        "# Metric catalogue\n\n\
         Generated from the metric declarations in `crates/collect` by \
         `plumb metrics --markdown`; a test fails when this file drifts from the code.\n\n\
         Every series also carries the fleet tags `nf.app`, `nf.cluster`, `nf.asg`, `nf.node`, \
         `nf.region`, `nf.zone` where configured. Rates are per second over the collection \
         interval; a counter that goes backwards yields 0 for that interval, never a negative \
         rate.\n",
    );
    for (group, defs) in groups {
        out.push_str(&format!("\n## {group}\n\n| name | unit | tags | source | meaning |\n|---|---|---|---|---|\n"));
        for d in *defs {
            let tags = if d.tags.is_empty() { "-".to_string() } else { d.tags.join(", ") };
            out.push_str(&format!(
                "| `{}` | {} | {} | `{}` | {} |\n",
                d.name,
                d.unit.as_str(),
                tags,
                d.source,
                d.help.replace('|', "\\|")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lists_each_metric_once_with_its_unit() {
        const DEFS: &[MetricDef] = &[MetricDef {
            name: "disk.reads",
            unit: Unit::PerSecond,
            tags: &["dev"],
            source: "/proc/diskstats",
            help: "Reads completed (r/s).",
        }];
        let md = catalogue_markdown(&[("disk", DEFS)]);
        assert!(md.contains("## disk"));
        assert!(md.contains("| `disk.reads` | per second | dev | `/proc/diskstats` | Reads completed (r/s). |"));
    }
}
