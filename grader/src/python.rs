//! Finding the real Python interpreter once (a pyenv shim costs ~70 ms per start).
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Python {
    pub executable: PathBuf,
    pub version: String,
}

impl Python {
    /// `--python`, else `$GRADE_PYTHON`, else `python3` on PATH, resolved to `sys.executable`.
    pub fn resolve(requested: Option<&Path>) -> Result<Python> {
        let name: PathBuf = requested
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("GRADE_PYTHON").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("python3"));
        let out = Command::new(&name)
            .args(["-I", "-c", "import sys; print(sys.executable); print(sys.version.split()[0])"])
            .output()
            .map_err(|e| {
                Error::Python(format!(
                    "cannot run the Python interpreter `{}`: {e}. Install CPython 3.11 (apt-get install python3) \
                     or pass --python PATH.",
                    name.display()
                ))
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let (Some(exe), Some(version)) = (lines.next(), lines.next()) else {
            return Err(Error::Python(format!(
                "`{}` did not report its version: {}",
                name.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        };
        let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
        if parts.len() < 2 || (parts[0], parts[1]) < (3, 9) {
            return Err(Error::Python(format!(
                "`{}` is Python {version}; the grader needs CPython 3.9 or newer (3.11 is what the course uses)",
                name.display()
            )));
        }
        Ok(Python { executable: PathBuf::from(exe), version: version.to_string() })
    }
}
