//! Gathering a group's samples into rows.

use plumb_collect::Group;
use plumb_collect::source::catalogue;
use plumb_model::{MetricDef, Snapshot};

/// One row of a group: its per-series tag values (empty for single-row groups) and its values
/// by metric name, in collector order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    pub tags: Vec<(&'static str, &'a str)>,
    pub values: Vec<(&'static str, f64)>,
}

impl Row<'_> {
    /// The value of `metric` in this row.
    pub fn get(&self, metric: &str) -> Option<f64> {
        self.values.iter().find(|(n, _)| *n == metric).map(|(_, v)| *v)
    }

    /// The value of tag `key` in this row.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// The metric declarations of `group`.
pub fn group_metrics(group: Group) -> Vec<&'static MetricDef> {
    catalogue().into_iter().filter(|(g, _)| *g == group.as_str()).flat_map(|(_, defs)| defs.iter()).collect()
}

/// Whether `group` has one row per tag combination (disk, net, percpu, proc) rather than one.
pub fn is_multi_row(group: Group) -> bool {
    group_metrics(group).iter().any(|d| !d.tags.is_empty())
}

/// The rows of `group` in `snap`, in order of first appearance.
pub fn group_rows(snap: &Snapshot, group: Group) -> Vec<Row<'_>> {
    let defs = group_metrics(group);
    let mut rows: Vec<Row<'_>> = Vec::new();
    for s in &snap.samples {
        if !defs.iter().any(|d| d.name == s.name) {
            continue;
        }
        let tags: Vec<(&'static str, &str)> = s.tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match rows.iter_mut().find(|r| r.tags == tags) {
            Some(row) => row.values.push((s.name, s.value)),
            None => rows.push(Row { tags, values: vec![(s.name, s.value)] }),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Sample;

    #[test]
    fn samples_gather_by_tags() {
        let snap = Snapshot {
            samples: vec![
                Sample::tagged("percpu.user", "cpu", "0", 1.0),
                Sample::tagged("percpu.user", "cpu", "1", 2.0),
                Sample::tagged("percpu.idle", "cpu", "0", 3.0),
                Sample::new("cpu.user", 9.0),
            ],
            ..Default::default()
        };
        let rows = group_rows(&snap, Group::Percpu);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].tag("cpu"), Some("0"));
        assert_eq!(rows[0].get("percpu.idle"), Some(3.0));
        assert_eq!(rows[1].get("percpu.user"), Some(2.0));
        let cpu = group_rows(&snap, Group::Cpu);
        assert_eq!(cpu.len(), 1);
        assert!(cpu[0].tags.is_empty());
        assert!(is_multi_row(Group::Percpu));
        assert!(!is_multi_row(Group::Cpu));
    }
}
