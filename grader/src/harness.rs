//! The Python harness, embedded in the binary and written out once per grading.
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const FILES: &[(&str, &str)] = &[
    ("grade_harness.py", include_str!("harness/py/grade_harness.py")),
    ("grade_http.py", include_str!("harness/py/grade_http.py")),
    ("grade_async.py", include_str!("harness/py/grade_async.py")),
    ("grade_check.py", include_str!("harness/py/grade_check.py")),
    ("grade_compile.py", include_str!("harness/py/grade_compile.py")),
    ("grade_instrument.py", include_str!("harness/py/grade_instrument.py")),
    ("grade_names.py", include_str!("harness/py/grade_names.py")),
    ("grade_waits.py", include_str!("harness/py/grade_waits.py")),
    ("grade_lint.py", include_str!("harness/py/grade_lint.py")),
    ("grade_oracles.py", include_str!("harness/py/grade_oracles.py")),
    ("grade_sched.py", include_str!("harness/py/grade_sched.py")),
    ("grade_procs.py", include_str!("harness/py/grade_procs.py")),
    ("grade_tamper.py", include_str!("harness/py/grade_tamper.py")),
    ("grade_resources.py", include_str!("harness/py/grade_resources.py")),
];

/// Writes the harness into `dir`; returns the entry script.
pub fn install(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text).map_err(|e| Error::io(dir.join(name), e))?;
    }
    Ok(dir.join("grade_harness.py"))
}
