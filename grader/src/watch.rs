//! `grade LAB --watch`: grades, then grades again each time a file of the submission is saved, clearing a
//! terminal's screen between gradings. File events come from the system's watcher (`notify`: inotify on
//! Linux); only writes, creations, removals and renames count (grading opens and reads the files itself),
//! and a burst of them (an editor's save) is one. Ctrl-C ends it; the interrupt handler kills the runs and
//! removes the workspaces as it does for any grading.
use crate::error::{Error, Result};
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How long writes to one file must pause before they count as one save.
const SETTLE: Duration = Duration::from_millis(300);

/// Whether a changed path is one of the submission's files (not an editor's swap file, a hidden file or
/// Python's byte-code cache).
pub fn is_submission_file(dir: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(dir) else { return false };
    let hidden = rel.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c.starts_with('.') || c == "__pycache__"
    });
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let scratch = name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".swx") || name.ends_with(".pyc") || name.starts_with("#");
    !rel.as_os_str().is_empty() && !hidden && !scratch
}

/// Whether an event changed a file's contents or the set of files (not a read, an open or a new mtime).
fn is_save(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

fn saved(dir: &Path, event: &notify::Result<Event>) -> bool {
    matches!(event, Ok(e) if is_save(&e.kind) && e.paths.iter().any(|p| is_submission_file(dir, p)))
}

/// Runs `grade` now and after every save under `dir`, until interrupted. A grading that fails (a spec
/// being edited, say) is reported and the watch goes on.
pub fn watch(dir: &Path, mut grade: impl FnMut() -> Result<()>) -> Result<i32> {
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let (tx, rx) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(tx).map_err(|e| Error::Usage(format!("--watch: cannot watch files: {e}")))?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(|e| Error::Usage(format!("--watch: cannot watch {}: {e}", dir.display())))?;
    let terminal = crate::commands::output::get().stdout_tty;
    loop {
        if terminal {
            // Clear the screen and put the cursor home.
            print!("\x1b[2J\x1b[H");
            let _ = std::io::stdout().flush();
        }
        if let Err(e) = grade() {
            eprintln!("grade: error: {}", crate::report::text::safe(&e.to_string()));
        }
        eprintln!("watching {} for saved files (Ctrl-C to stop)", crate::report::text::safe(&dir.display().to_string()));
        // What the grading itself caused (it opens the files) is not a save; a save during it is.
        loop {
            match rx.recv() {
                Ok(event) if saved(&dir, &event) => break,
                Ok(Err(e)) => return Err(Error::Usage(format!("--watch: the file watcher failed: {e}"))),
                Ok(_) => continue,
                Err(_) => return Ok(0),
            }
        }
        // The rest of the save's burst: until the files are quiet for a moment.
        while rx.recv_timeout(SETTLE).is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_submissions_own_files_count() {
        let dir = Path::new("/s");
        assert!(is_submission_file(dir, Path::new("/s/counter.py")));
        assert!(is_submission_file(dir, Path::new("/s/pkg/quiz.yaml")));
        for other in ["/s/.counter.py.swp", "/s/counter.py~", "/s/__pycache__/counter.cpython-311.pyc", "/s/.git/index", "/elsewhere/a.py", "/s"] {
            assert!(!is_submission_file(dir, Path::new(other)), "{other}");
        }
    }
}
