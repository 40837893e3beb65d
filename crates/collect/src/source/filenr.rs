//! `/proc/sys/fs/file-nr`: open file handles and their limit.
//!
//! Hand-parsed: procfs-core has no type for this three-number file.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot};

use super::Source;

const SRC: &str = "/proc/sys/fs/file-nr";

/// What this source emits.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "fd.used", unit: Unit::Count, tags: &[], source: SRC, help: "File handles in use: allocated minus free (sar -v file-nr)." },
    MetricDef { name: "fd.max", unit: Unit::Count, tags: &[], source: SRC, help: "Most file handles the kernel will allocate, fs.file-max (no sar column)." },
];

/// The parsed contents of /proc/sys/fs/file-nr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileNr {
    /// File handles allocated.
    pub allocated: u64,
    /// Allocated handles not in use (always 0 since Linux 2.6).
    pub free: u64,
    /// The limit, fs.file-max.
    pub max: u64,
}

impl FileNr {
    /// Handles in use: allocated minus free, never negative.
    pub fn used(&self) -> u64 {
        self.allocated.saturating_sub(self.free)
    }
}

/// Parses /proc/sys/fs/file-nr, e.g. `206\t0\t2466174`.
pub fn parse(text: &str) -> Result<FileNr, CollectError> {
    let mut fields = text.split_ascii_whitespace();
    let mut next = |what: &str| -> Result<u64, CollectError> {
        let f = fields.next().ok_or_else(|| CollectError::parse(SRC, 1, format!("missing {what}")))?;
        f.parse().map_err(|_| CollectError::parse(SRC, 1, format!("{what} {f:?} is not a number")))
    };
    let nr = FileNr { allocated: next("allocated count")?, free: next("free count")?, max: next("maximum")? };
    if fields.next().is_some() {
        return Err(CollectError::parse(SRC, 1, "more than three fields"));
    }
    Ok(nr)
}

/// Reads /proc/sys/fs/file-nr each cycle.
#[derive(Default)]
pub struct FileNrSource {
    buf: String,
}

impl Source for FileNrSource {
    fn name(&self) -> &'static str {
        "file-nr"
    }

    fn collect(&mut self, root: &FsRoot, _secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("sys/fs/file-nr", &mut self.buf)?;
        let nr = parse(&self.buf)?;
        out.push(Sample::new("fd.used", nr.used() as f64));
        out.push(Sample::new("fd.max", nr.max as f64));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/filenr").join(rel)
    }

    #[test]
    fn parses_a_captured_file() {
        // t0 holds `285\t0\t2466174`.
        let nr = parse(include_str!("../../test_data/filenr/t0/proc/sys/fs/file-nr")).unwrap();
        assert_eq!(nr, FileNr { allocated: 285, free: 0, max: 2466174 });
        assert_eq!(nr.used(), 285);
    }

    #[test]
    fn used_subtracts_free_and_never_goes_negative() {
        assert_eq!(parse("1000 40 9223372036854775807\n").unwrap().used(), 960);
        assert_eq!(parse("10 40 100\n").unwrap().used(), 0);
        assert_eq!(parse("10 40 9223372036854775807").unwrap().max, i64::MAX as u64);
    }

    #[test]
    fn missing_fields_and_garbage_are_errors_on_line_1() {
        for bad in ["", "1 2\n", "1 x 3\n", "1 2 3 4\n", "-1 0 5\n"] {
            let e = parse(bad).unwrap_err();
            assert!(e.to_string().contains("line 1"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn source_reads_two_captured_trees() {
        let mut src = FileNrSource::default();
        // t0: 285 allocated, 0 free; t1: 461 allocated, 0 free; both with file-max 2466174.
        for (tree, secs, used) in [("t0", None, 285.0 - 0.0), ("t1", Some(2.0), 461.0 - 0.0)] {
            let mut out = Vec::new();
            src.collect(&FsRoot::under(data(tree)), secs, &mut out).unwrap();
            let get = |n: &str| out.iter().find(|s| s.name == n).map(|s| s.value);
            assert_eq!(get("fd.used"), Some(used), "{tree}");
            assert_eq!(get("fd.max"), Some(2466174.0), "{tree}");
            assert_eq!(out.len(), METRICS.len());
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
