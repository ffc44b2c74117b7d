//! What several test files share: running the embedded harness's modules on a student's files.
use std::path::Path;
use std::process::Command;

/// Installs the harness in a temporary directory, writes `files` (name, text) into a student folder
/// beside it, runs `driver` with `python -c DRIVER HARNESS ROOT` from `/`, and parses the JSON it prints.
pub fn run_driver(files: &[(&str, &str)], driver: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let harness = dir.path().join("harness");
    grade::harness::install(&harness).unwrap();
    let root = dir.path().join("sub");
    std::fs::create_dir_all(&root).unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    let python = grade::python::Python::resolve(None).unwrap();
    let out = Command::new(&python.executable).arg("-c").arg(driver).arg(&harness).arg(&root).current_dir(Path::new("/")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
