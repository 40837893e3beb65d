//! Module files: each ELF a process maps, opened once and kept open, deduplicated by device+inode.
//!
//! Design decision: a module file is opened when its mapping is first learned (while the process is
//! still alive) and the open descriptor is kept; every later reader (blazesym, the unwinder) reaches
//! it through `/proc/self/fd/N`. That one handle stays valid after the process exits, after the file
//! is deleted or replaced (" (deleted)" mappings), and for files that exist only inside another
//! mount namespace (containers), and two processes mapping the same file share one parse. The
//! candidate paths are tried in order: `/proc/PID/map_files/START-END` (the exact mapped file,
//! needs CAP_SYS_ADMIN), `/proc/PID/root/PATH` (the process's own mount namespace), then the host
//! `PATH` only if its inode matches the one /proc/PID/maps reported (or none was reported). The cost
//! is one descriptor per distinct module file.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::maps::{Backing, Mapping};
use crate::unwind::UnwindSections;

/// Index of an opened module file in [`ModuleFiles`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One opened module file.
#[derive(Debug)]
pub struct ModuleFile {
    /// Keeps the descriptor behind `fd_path` open.
    file: File,
    /// `/proc/self/fd/N`: a path to this exact file for readers that want a path.
    pub fd_path: PathBuf,
    /// The path as the first process that mapped it named it.
    pub path: Arc<str>,
    /// Device and inode of the opened file.
    pub dev_inode: (u64, u64),
    /// Unwind sections, parsed on first use (`None` inside when the file has none or fails to parse).
    pub unwind: OnceCell<Option<Arc<UnwindSections>>>,
}

impl ModuleFile {
    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// Why a mapping's file could not be opened, for the warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFailure {
    /// The path the process names.
    pub path: Arc<str>,
    /// Why each candidate failed, joined.
    pub reason: String,
}

/// All module files opened so far.
#[derive(Debug, Default)]
pub struct ModuleFiles {
    files: Vec<ModuleFile>,
    by_dev_inode: HashMap<(u64, u64), FileId>,
}

impl ModuleFiles {
    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&ModuleFile> {
        self.files.get(id.0 as usize)
    }

    /// How many distinct files are open.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file has been opened.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Opens (or finds, by device+inode) the file behind a file-backed mapping of `pid`.
    /// Returns `Ok(None)` for mappings that are not file-backed.
    pub fn open_for(&mut self, proc_root: &Path, pid: u32, mapping: &Mapping) -> Result<Option<FileId>, OpenFailure> {
        let Backing::File { path, deleted, dev_inode } = &mapping.backing else { return Ok(None) };
        let mut reasons = Vec::new();
        let candidates = [
            (proc_root.join(format!("{pid}/map_files/{:x}-{:x}", mapping.start, mapping.end)), false),
            (proc_root.join(format!("{pid}/root")).join(path.trim_start_matches('/')), false),
            (PathBuf::from(path.as_ref()), true),
        ];
        for (candidate, is_host_path) in candidates {
            if is_host_path && *deleted && dev_inode.is_none() {
                reasons.push(format!("{}: deleted and no inode to check the host file against", candidate.display()));
                continue;
            }
            let meta = match std::fs::metadata(&candidate) {
                Ok(meta) => meta,
                Err(e) => {
                    reasons.push(format!("{}: {e}", candidate.display()));
                    continue;
                }
            };
            if is_host_path
                && let Some((_, inode)) = dev_inode
                && meta.ino() != *inode
            {
                reasons.push(format!(
                    "{}: inode {} differs from the mapped inode {inode}",
                    candidate.display(),
                    meta.ino()
                ));
                continue;
            }
            let key = (meta.dev(), meta.ino());
            if let Some(&id) = self.by_dev_inode.get(&key) {
                return Ok(Some(id));
            }
            match File::open(&candidate) {
                Ok(file) => return Ok(Some(self.add(file, path.clone(), key))),
                Err(e) => reasons.push(format!("{}: {e}", candidate.display())),
            }
        }
        Err(OpenFailure { path: path.clone(), reason: reasons.join("; ") })
    }

    /// Registers an already opened file (tests and callers with their own descriptors).
    pub fn add(&mut self, file: File, path: Arc<str>, dev_inode: (u64, u64)) -> FileId {
        if let Some(&id) = self.by_dev_inode.get(&dev_inode) {
            return id;
        }
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        self.files.push(ModuleFile { file, fd_path, path, dev_inode, unwind: OnceCell::new() });
        self.by_dev_inode.insert(dev_inode, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::backing_for_path;

    fn mapping(path: &str, dev_inode: Option<(u64, u64)>) -> Mapping {
        Mapping { start: 0x1000, end: 0x2000, pgoff: 0, backing: backing_for_path(path, dev_inode), file: None }
    }

    #[test]
    fn host_path_fallback_checks_the_inode_and_deduplicates() {
        let exe = std::env::current_exe().unwrap();
        let exe_str = exe.to_str().unwrap();
        let ino = std::fs::metadata(&exe).unwrap().ino();
        let fake_proc = Path::new("/nonexistent-proc");
        let mut files = ModuleFiles::default();
        let first = files.open_for(fake_proc, 1, &mapping(exe_str, Some((0, ino)))).unwrap().unwrap();
        let second = files.open_for(fake_proc, 2, &mapping(exe_str, None)).unwrap().unwrap();
        assert_eq!(first, second);
        assert_eq!(files.len(), 1);
        let file = files.get(first).unwrap();
        assert_eq!(std::fs::metadata(&file.fd_path).unwrap().ino(), ino);

        let wrong = files.open_for(fake_proc, 3, &mapping(exe_str, Some((0, ino + 1)))).unwrap_err();
        assert!(wrong.reason.contains("differs from the mapped inode"), "{}", wrong.reason);
        let deleted = files.open_for(fake_proc, 4, &mapping(&format!("{exe_str} (deleted)"), None)).unwrap_err();
        assert!(deleted.reason.contains("deleted"), "{}", deleted.reason);
        assert_eq!(files.open_for(fake_proc, 5, &mapping("[vdso]", None)), Ok(None));
    }
}
