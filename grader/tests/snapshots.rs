//! Snapshots of the reports as users read them: human and JSON, with durations, paths, seeds and
//! machine-dependent figures redacted.
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn run(dir: &Path, format: &str) -> String {
    let out = Command::cargo_bin("grade")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["lab-0.1", "--seed", "7", "--format", format, "--specs"])
        .arg(data().join("course/specs"))
        .arg("--submission")
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

fn redact_json(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["duration_ms"] = "[ms]".into();
    v["submission"]["path"] = "[path]".into();
    v["grader"]["python"] = "[python]".into();
    v["grader"]["version"] = "[version]".into();
    for key in ["cores", "cpu", "os", "sandbox"] {
        v["grader"][key] = format!("[{key}]").into();
    }
    v["spec"]["path"] = "[path]".into();
    v["spec"]["sha256"] = "[sha256]".into();
    for t in v["tests"].as_array_mut().unwrap() {
        t["duration_ms"] = "[ms]".into();
        if !t["timing"].is_null() {
            t["timing"] = "[timing]".into();
        }
        if !t["peak_rss_kb"].is_null() {
            t["peak_rss_kb"] = "[kb]".into();
        }
    }
    v
}

fn human_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"submission \S+  \(sha256 ([0-9a-f]{12}), seed (\d+), [0-9.]+ s\)", "submission [path]  (sha256 $1, seed $2, [time])");
    s.add_filter(r"thread 0x[0-9a-f]+", "thread [id]");
    s
}

#[test]
fn solution_json() {
    insta::assert_json_snapshot!(redact_json(&run(&data().join("course/solutions/lab-0.1"), "json")));
}

#[test]
fn solution_human() {
    human_settings().bind(|| insta::assert_snapshot!(run(&data().join("course/solutions/lab-0.1"), "human")));
}

#[test]
fn syntax_error_human() {
    human_settings().bind(|| insta::assert_snapshot!(run(&data().join("submissions/syntax-error"), "human")));
}

#[test]
fn deadlock_human() {
    human_settings().bind(|| insta::assert_snapshot!(run(&data().join("submissions/self-deadlock"), "human")));
}

#[test]
fn deadlock_json() {
    insta::assert_json_snapshot!(redact_json(&run(&data().join("submissions/self-deadlock"), "json")));
}
