//! Ctrl-C and SIGTERM: every run's process tree is killed and every workspace removed before exiting.
//! Runs live in their own sessions, so the terminal's SIGINT never reaches them: the grader must.
use super::procs::{self, Tree};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

static ROOTS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
/// Held from just before a run's root is spawned until it is registered, and by the orphan sweep, so
/// that a sweep in one grading never mistakes another grading's newborn root for an orphan.
static SPAWNING: Mutex<()> = Mutex::new(());

pub fn spawning() -> std::sync::MutexGuard<'static, ()> {
    SPAWNING.lock().unwrap_or_else(|p| p.into_inner())
}
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the grader is being stopped (Ctrl-C, SIGTERM, SIGHUP): what dies now dies of the clean-up.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

pub fn add_root(pid: i32) {
    ROOTS.lock().unwrap_or_else(|p| p.into_inner()).insert(pid);
}

pub fn remove_root(pid: i32) {
    ROOTS.lock().unwrap_or_else(|p| p.into_inner()).remove(&pid);
}

pub fn add_dir(dir: PathBuf) {
    DIRS.lock().unwrap_or_else(|p| p.into_inner()).push(dir);
}

pub fn remove_dir(dir: &std::path::Path) {
    DIRS.lock().unwrap_or_else(|p| p.into_inner()).retain(|d| d != dir);
}

fn signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

/// Blocks the signals in the calling thread (call first, so every later thread inherits the mask)
/// and waits for them on a thread of its own. Children get an empty mask back before exec.
pub fn install() {
    let set = signals();
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
            cleanup();
            std::process::exit(128 + sig as i32);
        }
    });
}

/// Kills and reaps the grader's adopted orphans (it is the child subreaper): processes of finished runs
/// that escaped their run's tree. Roots of runs still going are left alone.
pub fn sweep_orphans() {
    let _no_spawn = spawning();
    let me = std::process::id() as i32;
    let roots: BTreeSet<i32> = ROOTS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for p in procs::scan() {
        if p.ppid == me && !roots.contains(&p.pid) {
            let mut tree = Tree::new(p.pid);
            tree.kill_all(Duration::from_millis(0));
            let _ = nix::sys::wait::waitpid(Pid::from_raw(p.pid), Some(nix::sys::wait::WaitPidFlag::WNOHANG));
        }
    }
}

/// Kills every live run's tree and every orphan adopted by the grader; removes the workspaces.
pub fn cleanup() {
    let roots: Vec<i32> = ROOTS.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
    for root in roots {
        Tree::new(root).kill_all(Duration::from_millis(50));
    }
    let me = std::process::id() as i32;
    for p in procs::scan() {
        if p.ppid == me {
            let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
        }
    }
    for dir in DIRS.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}
