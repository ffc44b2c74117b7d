//! A run may write only beneath its own run directory, /dev (null, shm, ...) and /proc: a Landlock ruleset, made
//! in the grader before the fork and enforced in the child before exec. The student's code runs as the
//! grader's user, so without it a submission could rewrite the harness, the course's checks, the
//! student's own original files or other students' reports. Where the kernel has no Landlock, runs go
//! unconfined (best effort): `available()` says which.
use landlock::{AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, ABI};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// The write rights the ruleset takes away (Landlock ABI 3: files, directories, links, truncation).
fn rights() -> landlock::BitFlags<AccessFs> {
    AccessFs::from_write(ABI::V3)
}

/// A ruleset allowing writes beneath `run_dir`, /dev and /proc only; `None` where Landlock is not
/// available. (/proc: the harness resets its peak RSS through /proc/self/clear_refs. Landlock also scopes
/// ptrace, so a confined process still cannot write another process's /proc/PID/mem.)
pub fn ruleset(run_dir: &Path) -> Option<OwnedFd> {
    let created = Ruleset::default().handle_access(rights()).ok()?.create().ok()?;
    let mut created = created;
    for dir in [run_dir, Path::new("/dev"), Path::new("/proc")] {
        let fd = PathFd::new(dir).ok()?;
        created = created.add_rule(PathBeneath::new(fd, rights())).ok()?;
    }
    created.into()
}

/// In the child between fork and exec: only async-signal-safe system calls.
pub fn enforce(fd: &Option<OwnedFd>) -> std::io::Result<()> {
    let Some(fd) = fd else { return Ok(()) };
    // SAFETY: plain system calls on an fd we own; no allocation.
    unsafe {
        if nix::libc::prctl(nix::libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if nix::libc::syscall(nix::libc::SYS_landlock_restrict_self, fd.as_raw_fd(), 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether this kernel confines runs.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| ruleset(&std::env::temp_dir()).is_some())
}
