//! The Python harness, embedded in the binary and written out once per grading.
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

// FILES: every `src/harness/py/*.py`, listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/harness_files.rs"));

/// Writes the harness into `dir`; returns the entry script.
pub fn install(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text).map_err(|e| Error::io(dir.join(name), e))?;
    }
    Ok(dir.join("grade_harness.py"))
}
