//! Timed measurements never run beside other grading work on this machine.
//!
//! Every correctness run holds a shared lock; a timed measurement holds it exclusively. A second lock,
//! the gate, gives the measurement priority: a waiting measurement holds the gate, and new runs must pass
//! through it, so a stream of short runs cannot starve a measurement. The locks are `flock`s on files in
//! the temporary directory, so they hold across every grader process of the user (batch, tests, students).
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

pub struct Guard {
    _main: Option<Flock<File>>,
    _gate: Option<Flock<File>>,
    exclusive: bool,
}

thread_local! {
    /// Whether this thread holds the exclusive lock: its own runs then need no shared one.
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.exclusive {
            ALONE.with(|a| a.set(false));
        }
    }
}

fn lock_file(name: &str) -> Option<File> {
    // A fixed place, whatever TMPDIR says, so every grader of this user on the machine meets here.
    let base = if Path::new("/tmp").is_dir() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
    let dir = base.join(format!("grade-locks-{}", nix::unistd::getuid()));
    std::fs::create_dir_all(&dir).ok()?;
    OpenOptions::new().create(true).truncate(false).read(true).write(true).open(dir.join(name)).ok()
}

fn flock(name: &str, arg: FlockArg) -> Option<Flock<File>> {
    let file = lock_file(name)?;
    Flock::lock(file, arg).ok()
}

/// Held by every untimed run. (Without a usable temp directory, locking is skipped, never fatal.)
pub fn shared() -> Guard {
    if ALONE.with(|a| a.get()) {
        return Guard { _main: None, _gate: None, exclusive: false };
    }
    let gate = flock("gate", FlockArg::LockShared);
    let main = flock("main", FlockArg::LockShared);
    drop(gate);
    Guard { _main: main, _gate: None, exclusive: false }
}

/// Held for the whole of a timed measurement (throughput, memory); the thread's own runs go ahead.
pub fn exclusive() -> Guard {
    let gate = flock("gate", FlockArg::LockExclusive);
    let main = flock("main", FlockArg::LockExclusive);
    ALONE.with(|a| a.set(true));
    Guard { _main: main, _gate: gate, exclusive: true }
}
