//! The machine's host name, the default `nf.node` tag.

use crate::FsRoot;

/// The host name from `/proc/sys/kernel/hostname`, or `None` if unreadable or empty.
pub fn hostname(root: &FsRoot) -> Option<String> {
    let mut buf = String::new();
    root.read_proc("sys/kernel/hostname", &mut buf).ok()?;
    let name = buf.trim();
    (!name.is_empty()).then(|| name.to_string())
}
