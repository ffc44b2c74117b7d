//! The source tree's own rules: files small enough to read whole (at most 400 lines, Rust and Python
//! alike), each named for what it owns.
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;
/// Files still over the limit, each with what splitting it waits for. The list may only shrink.
const NOT_YET_SPLIT: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs" || x == "py") {
            out.push(p);
        }
    }
}

#[test]
fn no_source_file_is_over_400_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "the walk found the sources: {}", files.len());
    let mut over = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        let excused = NOT_YET_SPLIT.iter().any(|(name, _)| *name == rel);
        if lines > MAX_LINES && !excused {
            over.push(format!("{rel}: {lines} lines"));
        }
        if excused && lines <= MAX_LINES {
            over.push(format!("{rel} is {lines} lines now: take it off NOT_YET_SPLIT"));
        }
    }
    assert!(over.is_empty(), "split these (at most {MAX_LINES} lines a file): {over:#?}");
}
