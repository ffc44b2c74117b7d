//! The student kit (`grade kit`): what a class receives holds no reference file and no quiz key, builds on
//! its own, and grades a solution from inside it: every automatic item passes except the quiz, which waits
//! for the course's grading (`pending`); the speed is estimated from the recorded baseline.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn course() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[test]
fn the_kit_holds_no_answer_builds_and_grades_a_solution() {
    let tmp = tempfile::tempdir().unwrap();
    let kit = tmp.path().join("kit");
    let out = Command::new(assert_cmd::cargo::cargo_bin("grade")).current_dir(course()).args(["kit", "--out"]).arg(&kit).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // No answer: no folder of them, no spec with a key, no file of a reference solution, no key's text.
    for folder in ["solutions", "fixtures", "keys", "bench", ".ci"] {
        assert!(!kit.join(folder).exists(), "{folder}/ is in the kit");
    }
    let mut reference = Vec::new();
    files(&course().join("solutions"), &mut reference);
    let reference: Vec<Vec<u8>> = reference.iter().map(|p| std::fs::read(p).unwrap()).filter(|b| b.len() > 200).collect();
    let mut all = Vec::new();
    files(&kit, &mut all);
    assert!(all.len() > 100, "{} files", all.len());
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        assert!(!reference.contains(&bytes), "{} is a reference solution's file", f.display());
        let text = String::from_utf8_lossy(&bytes);
        if f.extension().is_some_and(|e| e == "yaml") && f.starts_with(kit.join("specs")) {
            assert!(!text.lines().any(|l| l.trim_start().starts_with("answer:")), "{} has a quiz key", f.display());
        }
    }
    let readme = std::fs::read_to_string(kit.join("README.md")).unwrap();
    assert!(readme.contains("cargo install --path grader") && readme.contains("grade lab-2.4"), "{readme}");
    assert!(kit.join(".devcontainer/devcontainer.json").is_file());

    // It builds on its own (the course's target folder keeps the dependencies already built).
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target");
    let build = Command::new(env!("CARGO")).current_dir(&kit).args(["build", "--release", "--offline", "--quiet"]).env("CARGO_TARGET_DIR", &target).output().unwrap();
    assert!(build.status.success(), "the kit does not build: {}", String::from_utf8_lossy(&build.stderr));

    // And from inside it, a solution gets every automatic item but the quiz; its speed is an estimate
    // against the reference's recorded baseline (or unsure, should the machine be busy now).
    assert!(kit.join("baselines/lab-2.1.json").is_file(), "the kit carries the performance baselines");
    let solution = course().join("solutions/lab-2.1");
    let graded = Command::new(target.join("release/grade"))
        .current_dir(&kit)
        .env("NO_COLOR", "1")
        .args(["lab-2.1", "--format", "json", "--submission"])
        .arg(&solution)
        .output()
        .unwrap();
    assert!(graded.status.success(), "{}", String::from_utf8_lossy(&graded.stderr));
    let r: Value = serde_json::from_slice(&graded.stdout).unwrap();
    for t in r["tests"].as_array().unwrap() {
        let want = match t["kind"].as_str().unwrap() {
            "quiz" | "design" | "manual" => "pending",
            _ => "passed",
        };
        if t["kind"] == "throughput" && t["status"] == "inconclusive" {
            continue; // the machine was busy: no verdict, which is right
        }
        assert_eq!(t["status"], want, "{t}");
        if t["kind"] == "throughput" {
            assert_eq!(t["measurement"]["estimated"], true, "{t}");
            assert!(t["message"].as_str().unwrap().contains("estimated"), "{t}");
        }
    }
    let quiz = r["tests"].as_array().unwrap().iter().find(|t| t["kind"] == "quiz").unwrap();
    assert!(quiz["message"].as_str().unwrap().contains("6 of 6 questions answered"), "{quiz}");
}
