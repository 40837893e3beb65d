//! Where the collector finds /proc and /sys.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::CollectError;

/// The `/proc` and `/sys` directories a collector reads; the real ones by default, a captured
/// tree in tests.
#[derive(Debug, Clone)]
pub struct FsRoot {
    /// The procfs mount. Default is `/proc`.
    pub proc: PathBuf,
    /// The sysfs mount. Default is `/sys`.
    pub sys: PathBuf,
}

impl Default for FsRoot {
    fn default() -> Self {
        FsRoot { proc: PathBuf::from("/proc"), sys: PathBuf::from("/sys") }
    }
}

impl FsRoot {
    /// A captured tree with `proc/` and `sys/` under `dir`.
    pub fn under(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        FsRoot { proc: dir.join("proc"), sys: dir.join("sys") }
    }

    /// Reads `rel` under /proc into `buf` (cleared first), reusing its allocation.
    pub fn read_proc(&self, rel: &str, buf: &mut String) -> Result<(), CollectError> {
        read_into(&self.proc.join(rel), buf)
    }

    /// Reads `rel` under /sys into `buf` (cleared first).
    pub fn read_sys(&self, rel: &str, buf: &mut String) -> Result<(), CollectError> {
        read_into(&self.sys.join(rel), buf)
    }
}

/// Reads a whole file into `buf`, mapping "not found" to [`CollectError::Absent`].
pub fn read_into(path: &Path, buf: &mut String) -> Result<(), CollectError> {
    buf.clear();
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    f.read_to_string(buf).map_err(|e| io_error(path, e))?;
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> CollectError {
    if e.kind() == ErrorKind::NotFound {
        CollectError::Absent { path: path.to_path_buf() }
    } else {
        CollectError::Io { path: path.to_path_buf(), source: e }
    }
}
