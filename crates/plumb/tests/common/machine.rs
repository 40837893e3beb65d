//! The machine under test: a lock so whole-machine measurements do not overlap, known loads
//! (a spinning child, a scratch directory), and the block device behind a path.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

static MACHINE: Mutex<()> = Mutex::new(());

/// Serialises tests that measure the whole machine; a failed test does not poison the others.
pub fn lock() -> MutexGuard<'static, ()> {
    MACHINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A child that spins on one CPU in user space (`sh -c 'while :; do :; done'`), killed on drop.
pub struct Spinner(Child);

impl Spinner {
    pub fn start() -> Spinner {
        let child = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start a busy sh: {e}"));
        Spinner(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch directory under cargo's target tmp dir (on the build's disk, never a tmpfs),
/// removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The kernel name (as in /proc/diskstats) of the block device holding `path`: from the file
/// system's device number through /sys/dev/block, or else the mount's source in
/// /proc/self/mountinfo (btrfs and the like report an anonymous device number).
pub fn block_device_of(path: &Path) -> String {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
    let (major, minor) = split_dev(meta.dev());
    if let Some(name) = sys_block_name(major, minor) {
        return name;
    }
    if let Some(name) = mount_source(path) {
        return name;
    }
    panic!("{} is not on a block device ({major}:{minor}); the disk test needs one", path.display())
}

/// glibc's encoding of dev_t.
fn split_dev(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

fn sys_block_name(major: u64, minor: u64) -> Option<String> {
    let link = std::fs::read_link(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// The device of the longest mount point that contains `path`, when it is a /dev node.
fn mount_source(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let mount_point = *fields.get(4)?;
        let sep = fields.iter().position(|f| *f == "-")?;
        let source = *fields.get(sep + 2)?;
        if path.starts_with(mount_point) && best.as_ref().is_none_or(|(len, _)| mount_point.len() > *len) {
            best = Some((mount_point.len(), source.to_string()));
        }
    }
    let (_, source) = best?;
    if !source.starts_with("/dev/") {
        return None;
    }
    let dev = std::fs::canonicalize(&source).ok()?;
    Some(dev.file_name()?.to_string_lossy().into_owned())
}

/// The counter `name` of the `Tcp:` lines of /proc/net/snmp (e.g. `ActiveOpens`).
pub fn snmp_tcp(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_else(|e| panic!("cannot read /proc/net/snmp: {e}"));
    let mut tcp = text.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(keys), Some(values)) = (tcp.next(), tcp.next()) else {
        panic!("no Tcp lines in /proc/net/snmp:\n{text}")
    };
    keys.split_ascii_whitespace()
        .zip(values.split_ascii_whitespace())
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no Tcp {name} in /proc/net/snmp:\n{text}"))
}

/// The number of CPUs the kernel accounts for in /proc/stat (`cpuN` lines).
pub fn cpus_in_proc_stat() -> usize {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_else(|e| panic!("cannot read /proc/stat: {e}"));
    text.lines().filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit)).count()
}
