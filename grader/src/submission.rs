//! A submission: copied (never touched in place), hashed, and its Python files listed.
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const SKIP_DIRS: &[&str] = &["__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache"];
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Relative paths of the regular files of a submission, sorted; symbolic links are left out.
pub fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut total = 0u64;
    walk(root, root, &mut out, &mut total)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, total: &mut u64) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let path = entry.path();
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&entry.file_name().to_str().unwrap_or_default()) {
                walk(root, &path, out, total)?;
            }
        } else if ft.is_file() {
            *total += entry.metadata().map(|m| m.len()).unwrap_or(0);
            if *total > MAX_BYTES {
                return Err(Error::Usage(format!(
                    "{}: the submission is larger than {} MiB; leave out data and virtual environments",
                    root.display(),
                    MAX_BYTES >> 20
                )));
            }
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// sha256 over the files sorted by path: each contributes its path, a NUL, its length and its bytes.
pub fn sha256(root: &Path, files: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for rel in files {
        let bytes = std::fs::read(root.join(rel)).map_err(|e| Error::io(root.join(rel), e))?;
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Copies the listed files of `from` into `to` (created).
pub fn copy(from: &Path, files: &[PathBuf], to: &Path) -> Result<()> {
    for rel in files {
        let dst = to.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(from.join(rel), &dst).map_err(|e| Error::io(from.join(rel), e))?;
    }
    Ok(())
}

pub fn python_files(files: &[PathBuf]) -> Vec<String> {
    files.iter().filter(|f| f.extension().is_some_and(|x| x == "py")).map(|f| f.to_string_lossy().into_owned()).collect()
}
