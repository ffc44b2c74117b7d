//! What a lost worker leaves behind: its workspaces (they name their owner's pid) and any process of its
//! runs still living in them, such as a student's process that forked itself out of its run's reach. The
//! coordinator is not a child subreaper (so a student walking up its parents ends at init, not at the
//! batch), so such processes are found by where they live, killed, and their workspaces removed.
use crate::runner::procs;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The workspaces whose `owner` file names `pid`.
fn workspaces_of(pid: i32) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return Vec::new() };
    rd.flatten()
        .map(|e| e.path())
        .filter(|d| d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("grade-")))
        .filter(|d| std::fs::read_to_string(d.join("owner")).is_ok_and(|s| s.trim() == pid.to_string()))
        .collect()
}

/// Whether process `p` runs from inside `dir` (its working directory or its command line).
fn lives_in(p: i32, dir: &Path) -> bool {
    let cwd = std::fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c.starts_with(dir));
    cwd || procs::cmdline(p).contains(&*dir.to_string_lossy())
}

/// Kills what is left of the lost worker `pid`'s runs and removes its workspaces.
pub fn sweep(pid: i32) {
    let dirs = workspaces_of(pid);
    let me = std::process::id() as i32;
    // A few rounds: a process may fork while the first round kills its parent.
    for _ in 0..5 {
        let found: Vec<i32> =
            procs::scan().iter().map(|p| p.pid).filter(|&p| p != me && dirs.iter().any(|d| lives_in(p, d))).collect();
        if found.is_empty() {
            break;
        }
        for p in found {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
