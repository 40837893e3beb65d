//! Finding tracefs, which aya reads to turn a tracepoint's name into its id
//! (`events/CATEGORY/NAME/id`). Design decision: mount it only when no instance is visible at
//! either usual place, and then only at /sys/kernel/tracing; the mount is left in place (it is
//! what a normal system has, and other tools expect it there).

use std::path::Path;

use crate::Error;
use crate::sys;

/// Where tracefs is normally mounted.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// The older place, below debugfs.
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// What [`ensure_mounted`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracefsState {
    /// It was already mounted.
    AlreadyMounted,
    /// It was absent and this call mounted it at [`TRACEFS`].
    MountedNow,
}

/// Makes sure tracefs is mounted where aya looks for it, mounting it at [`TRACEFS`] if neither
/// place has it.
pub fn ensure_mounted() -> Result<TracefsState, Error> {
    if has_events(Path::new(TRACEFS)) || has_events(Path::new(DEBUGFS_TRACING)) {
        return Ok(TracefsState::AlreadyMounted);
    }
    // An unreadable mount point means tracefs is there but this user may not use it.
    if let Err(e) = std::fs::read_dir(TRACEFS)
        && e.kind() == std::io::ErrorKind::PermissionDenied
    {
        return Err(Error::Permission { cause: Box::new(e) });
    }
    sys::mount_tracefs(TRACEFS).map_err(|cause| Error::Tracefs { cause })?;
    Ok(TracefsState::MountedNow)
}

/// True when `dir` holds a tracefs with its `events` directory.
fn has_events(dir: &Path) -> bool {
    dir.join("events").is_dir()
}

/// True when the tracepoint `category:event` exists (its directory is in tracefs).
pub fn tracepoint_exists(category: &str, event: &str) -> bool {
    [TRACEFS, DEBUGFS_TRACING].iter().any(|root| Path::new(root).join("events").join(category).join(event).is_dir())
}
