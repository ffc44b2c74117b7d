//! The student's screen from the command line (issue 16): hints per failure, the report fitted to the
//! terminal's width, root causes in the JSON, and `--watch`. Uses the small course in tests/data.
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn grade() -> Command {
    let mut cmd = Command::cargo_bin("grade").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("COLUMNS");
    cmd
}

/// The test course with lab-0.1's spec rewritten by `edit`.
fn course(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let specs = data().join("course/specs");
    let to = dir.path().join("specs");
    std::fs::create_dir_all(to.join("lab-0.1")).unwrap();
    let text = std::fs::read_to_string(specs.join("lab-0.1.yaml")).unwrap();
    std::fs::write(to.join("lab-0.1.yaml"), edit(&text)).unwrap();
    std::fs::copy(specs.join("lab-0.1/checks.py"), to.join("lab-0.1/checks.py")).unwrap();
    dir
}

const RUN_ITEM: &str = "    check: call_main\n";

fn with_hints(hints: &str) -> impl Fn(&str) -> String + '_ {
    move |t: &str| t.replacen(RUN_ITEM, &format!("{RUN_ITEM}    hints:\n{hints}"), 1)
}

fn json(specs: &Path, submission: &str) -> Value {
    let out = grade()
        .args(["lab-0.1", "--format", "json", "--seed", "7", "--specs"])
        .arg(specs)
        .arg("--submission")
        .arg(data().join("submissions").join(submission))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["tests"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()
}

#[test]
fn an_unknown_failure_in_hints_is_named_with_file_line_and_key() {
    let dir = course(with_hints("      deadlock: take them in order\n      deadlocks: typo\n"));
    let text = std::fs::read_to_string(dir.path().join("specs/lab-0.1.yaml")).unwrap();
    let line = text.lines().position(|l| l.contains("deadlocks: typo")).unwrap() + 1;
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("lab-0.1.yaml:{line}:")).and(predicate::str::contains("key `deadlocks`")));
    // An item that runs no check cannot fail these ways.
    let dir = course(|t| t.replacen("    kind: quiz\n", "    kind: quiz\n    hints: {crash: no}\n", 1));
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key `hints`").and(predicate::str::contains("only to items that run a check")));
}

#[test]
fn the_hint_for_how_the_item_failed_is_the_one_shown() {
    let dir = course(with_hints("      deadlock: the item's own word on deadlocks\n      crash: not this one\n"));
    let r = json(&dir.path().join("specs"), "self-deadlock");
    assert_eq!(item(&r, "run")["hint"], "the item's own word on deadlocks");
    // The stress item has no hints: the verdict's own hint stays.
    assert!(item(&r, "stress")["hint"].as_str().unwrap().contains("global order"), "{}", item(&r, "stress"));
    // A hint for another failure is not used.
    let dir = course(with_hints("      wrong_result: not for a deadlock\n"));
    let r = json(&dir.path().join("specs"), "self-deadlock");
    assert!(item(&r, "run")["hint"].as_str().unwrap().contains("global order"), "{}", item(&r, "run"));
}

#[test]
fn one_root_cause_groups_the_items_that_failed_for_it() {
    let r = json(&data().join("course/specs"), "self-deadlock");
    let (run, stress) = (item(&r, "run"), item(&r, "stress"));
    assert!(run["root_cause"].as_str().unwrap().starts_with("deadlock-"), "{run}");
    assert_eq!(run["root_cause"], stress["root_cause"]);
    assert!(!run["diagnosis"]["threads"].as_array().unwrap().is_empty() && !stress["diagnosis"]["threads"].as_array().unwrap().is_empty());
    assert!(item(&r, "compiles-a").get("root_cause").is_none(), "a passed item has no root cause");
}

#[test]
fn the_report_fits_the_columns_it_is_given_and_verbose_shows_it_all() {
    let human = |columns: &str, verbose: bool| {
        let mut cmd = grade();
        cmd.env("COLUMNS", columns).args(["lab-0.1", "--format", "human", "--seed", "7", "--specs"]).arg(data().join("course/specs"));
        cmd.arg("--submission").arg(data().join("submissions/self-deadlock"));
        if verbose {
            cmd.arg("--verbose");
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let narrow = human("60", false);
    assert!(narrow.lines().all(|l| l.chars().count() <= 60), "{narrow}");
    assert!(narrow.contains("same deadlock as `run`"), "{narrow}");
    assert!(!narrow.contains("held by MainThread"), "the full cycle is for --verbose:\n{narrow}");
    let full = human("60", true);
    assert!(full.contains("held by MainThread") && full.lines().all(|l| l.chars().count() <= 60), "{full}");
    // Without a terminal or COLUMNS: 80.
    let out = grade()
        .args(["lab-0.1", "--format", "human", "--specs"])
        .arg(data().join("course/specs"))
        .arg("--submission")
        .arg(data().join("submissions/self-deadlock"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().all(|l| l.chars().count() <= 80) && text.lines().any(|l| l.chars().count() > 60), "{text}");
}

#[test]
fn a_report_written_before_root_causes_still_renders() {
    let mut r = json(&data().join("course/specs"), "self-deadlock");
    for t in r["tests"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("root_cause");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, r.to_string()).unwrap();
    grade().args(["render", "--format", "human"]).arg(&path).assert().success().stdout(predicate::str::contains("DEADLOCK"));
    let again = grade().args(["render", "--format", "json"]).arg(&path).output().unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(again["tests"].as_array().unwrap().iter().all(|t| t.get("root_cause").is_none()));
}

/// Waits up to `within` for `grade --watch` to say it is watching again (after a grading).
fn graded_again(lines: &std::sync::mpsc::Receiver<String>, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(l) if l.starts_with("watching ") => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn watch_grades_again_when_a_file_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    for e in std::fs::read_dir(data().join("course/solutions/lab-0.1")).unwrap().flatten() {
        std::fs::copy(e.path(), sub.join(e.file_name())).unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("grade"))
        .args(["lab-0.1", "--watch", "--format", "json", "--specs"])
        .arg(data().join("course/specs"))
        .arg("--submission")
        .arg(&sub)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
    let stdout = child.stdout.take().unwrap();
    let reports = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    assert!(graded_again(&lines, Duration::from_secs(60)), "the first grading");
    // Grading reads and opens the files: that is no save, so nothing happens until one is saved.
    assert!(!graded_again(&lines, Duration::from_secs(8)), "graded again with no file saved");
    let student = sub.join("student.py");
    let text = std::fs::read_to_string(&student).unwrap();
    std::fs::write(&student, format!("{text}\n# saved\n")).unwrap();
    assert!(graded_again(&lines, Duration::from_secs(60)), "no grading after a save");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait();
    let out = reports.join().unwrap();
    assert_eq!(out.matches("\"schema\"").count(), 2, "one report per grading:\n{out}");
}
