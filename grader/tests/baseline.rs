//! Performance without the reference solution (the student kit): `grade baseline` records the reference's
//! figures with the calibration workload's time beside them, and a grading that has no reference scores
//! its throughput and memory items against them, marked estimated, the category provisional.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A private copy of the test course (its baselines are written into it).
fn course() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["specs", "solutions", "starter"] {
        copy(&data().join("course").join(d), &tmp.path().join(d));
    }
    tmp
}

fn grade(course: &Path, sub: &Path, extra: &[&str]) -> Value {
    let out = Command::new(assert_cmd::cargo::cargo_bin("grade"))
        .args(["lab-0.6", "--format", "json", "--specs"])
        .arg(course.join("specs"))
        .arg("--submission")
        .arg(sub)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["tests"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()
}

/// One grading at a time: the tests here time code, and must not be each other's load.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Records lab-0.6's baseline; whether its speed could be measured (a machine busy throughout leaves it
/// out, says so and exits 1: the memory is recorded all the same).
fn record(course: &Path) -> bool {
    let out = Command::new(assert_cmd::cargo::cargo_bin("grade"))
        .args(["baseline", "lab-0.6", "--quiet-wait", "20", "--specs"])
        .arg(course.join("specs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return true;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not recorded: speed: inconclusive") && !stderr.contains("memory:"), "{stderr}");
    false
}

#[test]
fn a_recorded_baseline_scores_performance_where_the_reference_is_absent() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = course();
    let timed = record(tmp.path());
    let b: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("baselines/lab-0.6.json")).unwrap()).unwrap();
    let speed = &b["items"]["speed"];
    if timed {
        assert_eq!(speed["kind"], "throughput", "{b}");
        assert_eq!(speed["workload"], "single", "one process: {b}");
        assert!(speed["best"].as_f64().unwrap() > 0.0 && speed["calibration"].as_f64().unwrap() > 0.0, "{b}");
    } else {
        assert!(speed.is_null(), "an item measured invalidly is left out: {b}");
    }
    assert!(b["items"]["memory"]["mib"].as_f64().unwrap() > 1.0, "{b}");

    // The kit: the reference is gone, its figures stay.
    let reference = tmp.path().join("reference");
    std::fs::rename(tmp.path().join("solutions/lab-0.6"), &reference).unwrap();
    let r = grade(tmp.path(), &reference, &[]);
    let memory = item(&r, "memory");
    assert_eq!(memory["status"], "passed", "{memory}");
    assert_eq!(memory["measurement"]["estimated"], true, "{memory}");
    let speed = item(&r, "speed");
    if !timed {
        assert_eq!(speed["status"], "pending", "no record, no reference: {speed}");
    } else if speed["status"] != "inconclusive" {
        assert_eq!(speed["status"], "passed", "the reference against its own record: {speed}");
        assert_eq!(speed["measurement"]["estimated"], true, "{speed}");
        assert!(speed["measurement"]["calibration"].as_f64().unwrap() > 0.0, "{speed}");
        assert!(speed["message"].as_str().unwrap().contains("estimated"), "{speed}");
    }
    let perf = r["categories"].as_array().unwrap().iter().find(|c| c["id"] == "performance").unwrap();
    assert_eq!(perf["provisional"], true, "an estimate is provisional: {perf}");

    // Slow, memory-hungry code is told so from the estimate as well.
    let r = grade(tmp.path(), &data().join("submissions/mem-copies"), &[]);
    let memory = item(&r, "memory");
    assert_eq!(memory["status"], "failed", "{memory}");
    assert_eq!(memory["measurement"]["estimated"], true, "{memory}");
    let speed = item(&r, "speed");
    let want: &[&str] = if timed { &["failed", "inconclusive"] } else { &["pending"] };
    assert!(want.contains(&speed["status"].as_str().unwrap()), "{speed}");
    if speed["status"] == "failed" {
        // An estimate short of full marks is measured in a second process before it counts.
        assert!(speed["message"].as_str().unwrap().contains("the better of two processes"), "{speed}");
    }
}

#[test]
fn estimate_scores_against_the_record_even_beside_the_reference() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = course();
    record(tmp.path());
    let r = grade(tmp.path(), &tmp.path().join("solutions/lab-0.6"), &["--only", "memory", "--estimate"]);
    assert_eq!(item(&r, "memory")["measurement"]["estimated"], true, "{r}");
    let r = grade(tmp.path(), &tmp.path().join("solutions/lab-0.6"), &["--only", "memory"]);
    assert!(item(&r, "memory")["measurement"]["estimated"].is_null(), "measured against the reference itself: {r}");
}

#[test]
fn without_reference_or_baseline_performance_waits_for_the_course() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = course();
    let reference = tmp.path().join("reference");
    std::fs::rename(tmp.path().join("solutions/lab-0.6"), &reference).unwrap();
    let r = grade(tmp.path(), &reference, &["--only", "speed,memory"]);
    for id in ["speed", "memory"] {
        assert_eq!(item(&r, id)["status"], "pending", "{r}");
    }
}

#[test]
fn a_malformed_baseline_is_named_with_its_file_and_line() {
    let tmp = course();
    std::fs::create_dir_all(tmp.path().join("baselines")).unwrap();
    std::fs::write(tmp.path().join("baselines/lab-0.6.json"), "{\n  \"lab\": \"lab-0.6\",\n  \"cpus\": 2\n}\n").unwrap();
    std::fs::remove_dir_all(tmp.path().join("solutions/lab-0.6")).unwrap();
    let r = grade(tmp.path(), &data().join("course/solutions/lab-0.6"), &["--only", "memory"]);
    let m = item(&r, "memory");
    assert_eq!(m["status"], "error", "{m}");
    let msg = m["message"].as_str().unwrap();
    assert!(msg.contains("baselines/lab-0.6.json: line 3") && msg.contains("grade baseline lab-0.6"), "{msg}");
}

#[test]
fn a_python_version_with_a_baseline_of_its_own_reads_that_one() {
    // A valid default (another version's) and a malformed one for this Python: the error names the
    // version's own file, so that is the one read.
    let tmp = course();
    let r = grade(tmp.path(), &data().join("course/solutions/lab-0.6"), &["--only", "run"]);
    let version = r["grader"]["python"].as_str().unwrap().to_string();
    let minor: Vec<&str> = version.split('.').take(2).collect();
    let own = format!("baselines/py{}/lab-0.6.json", minor.join("."));
    std::fs::create_dir_all(tmp.path().join(&own).parent().unwrap()).unwrap();
    let default = "{\"lab\": \"lab-0.6\", \"python\": \"2.7.18\", \"machine_cores\": 2, \"items\": {\"memory\": {\"kind\": \"memory\", \"mib\": 5.0}}}\n";
    std::fs::write(tmp.path().join("baselines/lab-0.6.json"), default).unwrap();
    std::fs::write(tmp.path().join(&own), "{\n  \"lab\": \"lab-0.6\",\n  \"cpus\": 2\n}\n").unwrap();
    std::fs::remove_dir_all(tmp.path().join("solutions/lab-0.6")).unwrap();
    let r = grade(tmp.path(), &data().join("course/solutions/lab-0.6"), &["--only", "memory"]);
    let msg = item(&r, "memory")["message"].as_str().unwrap().to_string();
    assert!(msg.contains(&format!("{own}: line 3")), "{msg}");
    // Without it, the default is read (another version's memory figure: memory needs no scaling).
    std::fs::remove_file(tmp.path().join(&own)).unwrap();
    let r = grade(tmp.path(), &data().join("course/solutions/lab-0.6"), &["--only", "memory"]);
    assert_eq!(item(&r, "memory")["measurement"]["estimated"], true, "{r}");
}
