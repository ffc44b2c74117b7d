//! The course's managed Python environment: one virtual environment per lock file and interpreter, with the
//! pinned packages of `python/requirements.lock` (compiled into the grader), built on first need and reused.
use crate::error::{Error, Result};
use crate::python::Python;
use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub const LOCK: &str = include_str!("../../python/requirements.lock");

/// The packages the lock pins, by normalised name (`beautifulsoup4`, `typing-extensions`).
pub fn pinned() -> Vec<(String, String)> {
    LOCK.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| (normalise(n), v.trim().to_string()))
        .collect()
}

pub fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Where environments live: `$GRADE_CACHE`, else `$XDG_CACHE_HOME/grade`, else `~/.cache/grade`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GRADE_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("grade");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache/grade"),
        None => std::env::temp_dir().join(format!("grade-cache-{}", nix::unistd::getuid())),
    }
}

/// The environment for `base`: its directory and its interpreter.
pub struct Env {
    pub dir: PathBuf,
    pub python: PathBuf,
}

fn env_dir(base: &Python) -> PathBuf {
    let mut h = Sha256::new();
    h.update(LOCK.as_bytes());
    h.update(base.executable.as_os_str().as_encoded_bytes());
    h.update(base.version.as_bytes());
    let key: String = h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
    cache_dir().join(format!("env-py{}-{key}", base.version))
}

/// Builds the environment unless a complete one is there (or `rebuild`); safe against graders building at once.
pub fn ensure(base: &Python, rebuild: bool) -> Result<Env> {
    let dir = env_dir(base);
    let env = Env { python: dir.join("bin/python"), dir: dir.clone() };
    let ready = dir.join(".grade-ready");
    if ready.is_file() && !rebuild {
        return Ok(env);
    }
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).map_err(|e| Error::io(&cache, e))?;
    let lock_path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    let _lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::io(&lock_path, std::io::Error::from(e)))?;
    if ready.is_file() && !rebuild {
        return Ok(env); // another grader built it while this one waited
    }
    build(base, &dir)?;
    Ok(env)
}

fn build(base: &Python, dir: &Path) -> Result<()> {
    let started = Instant::now();
    let count = pinned().len();
    eprintln!(
        "grade: building the course's Python environment ({count} pinned packages, once; about 15-60 s)\n       in {}",
        dir.display()
    );
    let building = dir.with_extension(format!("build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let out = Command::new(&base.executable)
        .args(["-m", "venv"])
        .arg(&building)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Python(format!("cannot run {}: {e}", base.executable.display())))?;
    if !out.status.success() {
        return Err(Error::Python(format!(
            "cannot create a virtual environment with {}: {}\nOn Debian or Ubuntu: apt-get install python3-venv",
            base.executable.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let lock_file = building.join("requirements.lock");
    std::fs::write(&lock_file, LOCK).map_err(|e| Error::io(&lock_file, e))?;
    let log_path = building.join("pip.log");
    let log = std::fs::File::create(&log_path).map_err(|e| Error::io(&log_path, e))?;
    let status = Command::new(building.join("bin/python"))
        .args(["-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--no-input", "-r"])
        .arg(&lock_file)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| Error::io(&log_path, e))?)
        .stderr(log)
        .status()
        .map_err(|e| Error::Python(format!("cannot run pip: {e}")))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(Error::Python(format!(
            "installing the course's pinned packages failed ({status}); pip said:\n{}\n\
             The first grade of a lab that needs packages downloads them from PyPI (or PIP_INDEX_URL): \
             check the network, then run `grade env`. Full log: {}",
            tail.join("\n"),
            log_path.display()
        )));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&building, dir).map_err(|e| Error::io(dir, e))?;
    let ready = dir.join(".grade-ready");
    std::fs::write(&ready, LOCK).map_err(|e| Error::io(&ready, e))?;
    eprintln!("grade: Python environment ready in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_pins_every_package_labs_may_import() {
        let names: Vec<String> = pinned().into_iter().map(|(n, _)| n).collect();
        for want in ["requests", "aiohttp", "aiofiles", "httpx", "beautifulsoup4", "ruff"] {
            assert!(names.contains(&want.to_string()), "{want} not in the lock");
        }
        assert!(pinned().iter().all(|(_, v)| !v.is_empty()));
    }

    #[test]
    fn names_normalise_like_pip() {
        assert_eq!(normalise("typing_extensions"), "typing-extensions");
        assert_eq!(normalise("Zope.Interface"), "zope-interface");
    }
}
