//! `grade kit --out DIR`: the student kit, what a class receives. The grader's sources (without its own
//! tests, which need the answers), the specs and checks (the quiz keys live in `keys/`, left out), the
//! performance baselines (`grade baseline`: the reference's recorded figures, which carry no code),
//! starters, the docs and the pinned Python lock, a README with the two commands a student needs, and a
//! dev container for macOS. Never `solutions/`, `fixtures/`, `keys/` or a private overlay: the kit is
//! checked for them before it is declared written.
use crate::course::Course;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Top-level folders of the course that go into the kit as they are.
const FOLDERS: &[&str] = &["specs", "starter", "docs", "python", "baselines"];

/// What the kit must never hold: the course's answers.
const ANSWERS: &[&str] = &["solutions", "fixtures", "keys"];

pub struct Written {
    pub files: usize,
    pub dir: PathBuf,
}

fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool, files: &mut usize) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let mut entries: Vec<_> = std::fs::read_dir(from).map_err(|e| Error::io(from, e))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if skip(&path) || n == "__pycache__" || n == "target" || n.starts_with(".#") {
            continue;
        }
        let kind = e.file_type().map_err(|err| Error::io(&path, err))?;
        if kind.is_dir() {
            copy_tree(&path, &to.join(&name), skip, files)?;
        } else if kind.is_file() {
            std::fs::copy(&path, to.join(&name)).map_err(|err| Error::io(&path, err))?;
            *files += 1;
        }
    }
    Ok(())
}

/// The grader's manifest without its `[[test]]` targets (their files stay behind).
fn manifest_without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            skipping = line.trim() == "[[test]]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn write(course: &Course, out: &Path) -> Result<Written> {
    if out.exists() && std::fs::read_dir(out).map_err(|e| Error::io(out, e))?.next().is_some() {
        return Err(Error::Usage(format!("--out {}: not empty (the kit is written into a new folder)", out.display())));
    }
    let root = &course.root;
    let mut files = 0;
    let none = |_: &Path| false;
    for folder in FOLDERS {
        let from = root.join(folder);
        if from.is_dir() {
            // The kit's own README and dev container come from docs/kit; the rest of docs is copied as is.
            copy_tree(&from, &out.join(folder), &none, &mut files)?;
        }
    }
    let grader = root.join("grader");
    copy_tree(&grader.join("src"), &out.join("grader/src"), &none, &mut files)?;
    let manifest = std::fs::read_to_string(grader.join("Cargo.toml")).map_err(|e| Error::io(grader.join("Cargo.toml"), e))?;
    write_file(&out.join("grader/Cargo.toml"), &manifest_without_tests(&manifest), &mut files)?;
    for f in ["Cargo.toml", "Cargo.lock"] {
        if root.join(f).is_file() {
            std::fs::copy(root.join(f), out.join(f)).map_err(|e| Error::io(root.join(f), e))?;
            files += 1;
        }
    }
    let readme = std::fs::read_to_string(root.join("docs/kit/README.md")).map_err(|e| Error::io(root.join("docs/kit/README.md"), e))?;
    write_file(&out.join("README.md"), &readme, &mut files)?;
    let container = root.join("docs/kit/devcontainer.json");
    let text = std::fs::read_to_string(&container).map_err(|e| Error::io(&container, e))?;
    write_file(&out.join(".devcontainer/devcontainer.json"), &text, &mut files)?;
    let leaks = leaks(course, out)?;
    if !leaks.is_empty() {
        return Err(Error::Internal(format!("the kit would hold the course's answers: {}", leaks.join("; "))));
    }
    Ok(Written { files, dir: out.to_path_buf() })
}

fn write_file(path: &Path, text: &str, files: &mut usize) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    *files += 1;
    Ok(())
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => all_files(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// Everything in `kit` that gives an answer away: a folder of answers, a spec with a quiz key, or a file
/// whose bytes are those of a reference solution's file.
pub fn leaks(course: &Course, kit: &Path) -> Result<Vec<String>> {
    let mut found: Vec<String> = ANSWERS.iter().filter(|a| kit.join(a).exists()).map(|a| format!("{a}/")).collect();
    let mut reference = Vec::new();
    all_files(&course.root.join("solutions"), &mut reference);
    let reference: Vec<Vec<u8>> = reference
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "py" || e == "md" || e == "yaml"))
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() > 200) // a tiny file (an empty __init__.py) is no answer
        .collect();
    let mut files = Vec::new();
    all_files(kit, &mut files);
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else { continue };
        let rel = f.strip_prefix(kit).unwrap_or(&f).display().to_string();
        if reference.contains(&bytes) {
            found.push(format!("{rel} is a reference solution's file"));
        }
        if rel.starts_with("specs/") && rel.ends_with(".yaml") && String::from_utf8_lossy(&bytes).lines().any(|l| {
            let t = l.trim_start();
            t.starts_with("answer:") || t.starts_with("answers:")
        }) {
            found.push(format!("{rel} carries a quiz key"));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_loses_its_test_targets_only() {
        let m = "[package]\nname = \"grade\"\n\n[[test]]\nname = \"labs\"\npath = \"tests/labs.rs\"\nharness = false\n\n[dependencies]\nclap = \"4\"\n";
        let out = manifest_without_tests(m);
        assert!(!out.contains("[[test]]") && !out.contains("labs.rs"), "{out}");
        assert!(out.contains("[package]") && out.contains("clap = \"4\""), "{out}");
    }
}
