//! One grading's private workspace in the temporary directory: the harness, a fresh copy of the
//! submission per run, the judges; removed with the grading (and by the next batch when its grader was
//! killed outright).
use crate::error::{Error, Result};
use crate::harness;
use crate::submission;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One grading's private workspace: the harness and a fresh copy of the submission per run.
pub(crate) struct Workspace {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) harness: PathBuf,
    counter: AtomicUsize,
    /// The judges of the split checks, started when first needed, stopped with the workspace.
    pub judges: crate::judge::Judges,
}

impl Workspace {
    pub(crate) fn new(lab: &str) -> Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("grade-{lab}-"))
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let root = dir.path().canonicalize().map_err(|e| Error::io(dir.path(), e))?;
        crate::runner::interrupt::add_dir(root.clone());
        // Who owns it: a grader killed outright leaves it behind, and the next batch removes it. Written
        // whole (a rename), so a batch's sweep never reads it empty and takes a live workspace for stale.
        let _ = crate::write_atomically(&root.join("owner"), &std::process::id().to_string());
        let harness = harness::install(&root.join("harness"))?;
        let judges = crate::judge::Judges::new(harness.parent().unwrap_or(&root));
        Ok(Workspace { _dir: dir, root, harness, counter: AtomicUsize::new(0), judges })
    }

    /// A new run directory holding a copy of `files` from `from`; returns the copy's path.
    pub(crate) fn copy_for_run(&self, name: &str, from: &Path, files: &[PathBuf]) -> Result<PathBuf> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let sub = self.root.join("runs").join(format!("{n:03}-{name}")).join("sub");
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(&sub, e))?;
        submission::copy(from, files, &sub)?;
        Ok(sub)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        crate::runner::interrupt::remove_dir(&self.root);
    }
}

/// Removes the workspaces of graders that were killed outright (their owner process is gone).
pub fn sweep_stale_workspaces() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in rd.flatten() {
        let dir = e.path();
        if !e.file_name().to_string_lossy().starts_with("grade-") {
            continue;
        }
        let Ok(pid) = std::fs::read_to_string(dir.join("owner")).map(|s| s.trim().parse::<i32>().unwrap_or(0)) else { continue };
        // A zombie is dead too: a batch's worker killed with its batch waits for init to reap it.
        let alive = pid > 0 && crate::runner::procs::read_stat(pid).is_some_and(|p| p.state != 'Z' && p.state != 'X');
        if !alive {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
