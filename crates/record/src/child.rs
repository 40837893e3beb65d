//! Starting a command to profile, held stopped until its events are open.
//!
//! Design decision: no fork in this process. The command is started through `/bin/sh -c 'kill
//! -STOP $$ && exec "$@"'`: the shell stops itself, the session opens its events on the shell's
//! pid with `enable_on_exec` (plumb-perf's `Target::ChildExec`), then continues it, and the
//! kernel starts counting at the `exec` of the command. So the command is sampled from its first
//! instruction, and not the shell or plumb's own glue, without any unsafe fork/exec code here.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::error::RecordError;

/// How long the shell may take to stop itself.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A command started and stopped just before its exec.
pub struct StoppedChild {
    child: Child,
    command: String,
}

impl StoppedChild {
    /// Starts `argv` (program first) stopped. The program is looked up in `PATH` first, so a
    /// typo is an error here rather than a shell's exit status 127.
    pub fn spawn(argv: &[OsString]) -> Result<StoppedChild, RecordError> {
        let command = argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
        let Some(program) = argv.first() else {
            return Err(RecordError::Invalid("no command to profile".to_string()));
        };
        if find_program(program).is_none() {
            return Err(RecordError::Spawn {
                command,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such program in PATH"),
            });
        }
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg("kill -STOP $$ && exec \"$@\"")
            .arg("plumb-profile")
            .args(argv)
            .spawn()
            .map_err(|source| RecordError::Spawn { command: command.clone(), source })?;
        let mut stopped = StoppedChild { child, command };
        stopped.wait_until_stopped()?;
        Ok(stopped)
    }

    fn wait_until_stopped(&mut self) -> Result<(), RecordError> {
        let start = Instant::now();
        let stat = PathBuf::from(format!("/proc/{}/stat", self.child.id()));
        loop {
            if let Ok(text) = std::fs::read_to_string(&stat)
                && state_of(&text) == Some('T')
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.start_failure(format!("it exited first ({status})")));
            }
            if start.elapsed() > STOP_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(self.start_failure("it did not stop within 10 s".to_string()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn start_failure(&self, reason: String) -> RecordError {
        RecordError::ChildStart { command: self.command.clone(), reason }
    }

    /// The child's process id (the shell's, which becomes the command's at exec).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The command line, for the profile's metadata.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Lets the child run: it execs the command.
    pub fn resume(&self) -> Result<(), RecordError> {
        sys::continue_process(self.child.id())
            .map_err(|e| self.start_failure(format!("cannot continue process {}: {e}", self.child.id())))
    }

    /// The exit status, if the command has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills the command (SIGKILL also ends a stopped process) and reaps it.
    pub fn kill_and_wait(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the command to end.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait()
    }
}

/// The state letter of a `/proc/PID/stat` line (after the parenthesised name).
fn state_of(stat: &str) -> Option<char> {
    stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next())
}

/// The program `name` would run: itself when it holds a slash, else the first executable match
/// in `PATH`.
fn find_program(name: &OsStr) -> Option<PathBuf> {
    let path = Path::new(name);
    if name.to_string_lossy().contains('/') {
        return is_executable(path).then(|| path.to_path_buf());
    }
    let dirs = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    std::env::split_paths(&dirs).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[allow(unsafe_code)]
mod sys {
    /// Sends SIGCONT to `pid`.
    pub fn continue_process(pid: u32) -> std::io::Result<()> {
        let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: kill(2) takes two integers and touches no memory of this process.
        let r = unsafe { libc::kill(pid, libc::SIGCONT) };
        if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_state() {
        assert_eq!(state_of("123 (sh) T 1 2 3"), Some('T'));
        assert_eq!(state_of("123 (a) b) R 1"), Some('R'));
        assert_eq!(state_of("garbage"), None);
    }

    #[test]
    fn programs_are_found_in_path() {
        assert!(find_program(OsStr::new("sh")).is_some());
        assert!(find_program(OsStr::new("/bin/sh")).is_some());
        assert!(find_program(OsStr::new("no-such-program-plumb")).is_none());
        assert!(find_program(OsStr::new("./no/such")).is_none());
    }

    #[test]
    fn a_stopped_child_runs_when_resumed() {
        let argv = [OsString::from("sh"), OsString::from("-c"), OsString::from("exit 7")];
        let mut child = StoppedChild::spawn(&argv).unwrap();
        assert!(child.try_wait().is_none(), "stopped, so still there");
        child.resume().unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(7));
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let e = StoppedChild::spawn(&[OsString::from("no-such-program-plumb")]).err().unwrap();
        assert!(e.to_string().contains("no-such-program-plumb"), "{e}");
    }
}
