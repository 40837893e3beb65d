//! Block devices as the block tracepoints name them: the kernel's internal `dev_t`
//! (`major << 20 | minor`, not the user-space encoding), resolved from a device name through
//! `/sys/class/block/NAME/dev` and back to a name for printing.
//!
//! Design decision: names are resolved once, when a tool starts (`-d vda` becomes a number the
//! BPF program compares), and the reverse table is read once too; a device that appears later
//! prints as `major,minor`, as perf-tools' iosnoop does for every device.

use std::collections::BTreeMap;
use std::path::Path;

/// Where the kernel lists every block device and partition, each with a `dev` file `MAJOR:MINOR`.
pub const SYS_CLASS_BLOCK: &str = "/sys/class/block";

/// Why a device name could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The name has no entry under /sys/class/block (or it cannot be read).
    #[error("no block device named {name} (read {path}: {cause})")]
    Unknown {
        /// The name given.
        name: String,
        /// The file that was read.
        path: String,
        /// Why reading it failed.
        cause: std::io::Error,
    },
    /// The device's `dev` file does not hold `MAJOR:MINOR`.
    #[error("{path} holds {text:?}, not MAJOR:MINOR")]
    Malformed {
        /// The file that was read.
        path: String,
        /// What it held.
        text: String,
    },
}

/// A block device number as the block tracepoints carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockDev {
    /// The major number.
    pub major: u32,
    /// The minor number (20 bits in the kernel's encoding).
    pub minor: u32,
}

const MINOR_BITS: u32 = 20;
const MINOR_MASK: u32 = (1 << MINOR_BITS) - 1;

impl BlockDev {
    /// Decodes the kernel's `dev_t` (`major << 20 | minor`).
    pub fn from_kernel(dev: u32) -> BlockDev {
        BlockDev { major: dev >> MINOR_BITS, minor: dev & MINOR_MASK }
    }

    /// The kernel's `dev_t`, as a BPF program compares it.
    pub fn to_kernel(self) -> u32 {
        (self.major << MINOR_BITS) | (self.minor & MINOR_MASK)
    }

    /// Parses `MAJOR:MINOR` (the `dev` files of sysfs and /proc/self/mountinfo's third field).
    pub fn parse(text: &str) -> Option<BlockDev> {
        let (major, minor) = text.trim().split_once(':')?;
        let (major, minor) = (major.parse().ok()?, minor.parse().ok()?);
        (major < (1 << 12) && minor <= MINOR_MASK).then_some(BlockDev { major, minor })
    }

    /// Resolves a device name (`vda`, `nvme0n1p2`; a leading `/dev/` is ignored).
    pub fn resolve(name: &str) -> Result<BlockDev, DeviceError> {
        BlockDev::resolve_in(Path::new(SYS_CLASS_BLOCK), name)
    }

    /// [`BlockDev::resolve`] against another sysfs root (tests).
    pub fn resolve_in(root: &Path, name: &str) -> Result<BlockDev, DeviceError> {
        let name = name.strip_prefix("/dev/").unwrap_or(name);
        let path = root.join(name).join("dev");
        let shown = path.display().to_string();
        if name.is_empty() || name.contains('/') {
            let cause = std::io::Error::from(std::io::ErrorKind::NotFound);
            return Err(DeviceError::Unknown { name: name.to_string(), path: shown, cause });
        }
        let text = std::fs::read_to_string(&path).map_err(|cause| DeviceError::Unknown {
            name: name.to_string(),
            path: shown.clone(),
            cause,
        })?;
        BlockDev::parse(&text).ok_or(DeviceError::Malformed { path: shown, text })
    }
}

impl std::fmt::Display for BlockDev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{}", self.major, self.minor)
    }
}

/// The names of the block devices present now, by number; unreadable entries are left out.
pub fn device_names() -> BTreeMap<BlockDev, String> {
    device_names_in(Path::new(SYS_CLASS_BLOCK))
}

/// [`device_names`] against another sysfs root (tests).
pub fn device_names_in(root: &Path) -> BTreeMap<BlockDev, String> {
    let Ok(entries) = std::fs::read_dir(root) else { return BTreeMap::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let dev = BlockDev::parse(&std::fs::read_to_string(entry.path().join("dev")).ok()?)?;
            Some((dev, name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_kernel_encoding_puts_the_major_above_20_bits() {
        let vda = BlockDev { major: 254, minor: 0 };
        assert_eq!(vda.to_kernel(), 254 << 20);
        assert_eq!(BlockDev::from_kernel(0x0800_0001), BlockDev { major: 128, minor: 1 });
        assert_eq!(BlockDev::parse("8:1\n"), Some(BlockDev { major: 8, minor: 1 }));
        assert_eq!(BlockDev::parse("8"), None);
        assert_eq!(BlockDev::parse("8:x"), None);
        assert_eq!(BlockDev::parse("4096:0"), None);
        assert_eq!(vda.to_string(), "254,0");
    }

    #[test]
    fn names_resolve_through_a_sysfs_tree() {
        let root = std::env::temp_dir().join(format!("plumb-block-{}", std::process::id()));
        std::fs::create_dir_all(root.join("vda")).unwrap();
        std::fs::create_dir_all(root.join("bad")).unwrap();
        std::fs::write(root.join("vda/dev"), "254:0\n").unwrap();
        std::fs::write(root.join("bad/dev"), "nonsense\n").unwrap();
        assert_eq!(BlockDev::resolve_in(&root, "/dev/vda").unwrap(), BlockDev { major: 254, minor: 0 });
        assert!(matches!(BlockDev::resolve_in(&root, "sdz"), Err(DeviceError::Unknown { .. })));
        assert!(matches!(BlockDev::resolve_in(&root, "../vda"), Err(DeviceError::Unknown { .. })));
        assert!(matches!(BlockDev::resolve_in(&root, "bad"), Err(DeviceError::Malformed { .. })));
        let names = device_names_in(&root);
        assert_eq!(names.get(&BlockDev { major: 254, minor: 0 }).map(String::as_str), Some("vda"));
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }

    proptest! {
        #[test]
        fn kernel_numbers_round_trip(major in 0u32..4096, minor in 0u32..(1 << 20)) {
            let dev = BlockDev { major, minor };
            prop_assert_eq!(BlockDev::from_kernel(dev.to_kernel()), dev);
            prop_assert_eq!(BlockDev::parse(&format!("{major}:{minor}")), Some(dev));
        }

        #[test]
        fn parse_never_panics(text in ".{0,20}") {
            let _ = BlockDev::parse(&text);
        }
    }
}
