//! Hostile submissions of the course's own labs, graded as a class would meet them: what they try must
//! earn nothing, reach nothing outside their run, and leave nothing behind. (Their verdicts are in each
//! fixture's expect.yaml and checked by the labs test; this file checks what a verdict cannot show.)
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn course() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One grading at a time: the leftover checks look at every grading's workspace of a lab.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn grade_json(lab: &str, fixture: &str, env: &[(&str, &str)]) -> (Value, String) {
    let mut cmd = Command::cargo_bin("grade").expect("the grade binary");
    cmd.current_dir(course()).env("NO_COLOR", "1").envs(env.iter().copied());
    let dir = course().join("fixtures").join(lab).join(fixture);
    let out = cmd.args([lab, "--format", "json", "--submission"]).arg(&dir).output().expect("grade runs");
    assert_eq!(out.status.code(), Some(0), "{fixture}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (serde_json::from_str(&text).expect("a JSON report"), text)
}

/// Live processes whose working directory is (or was) in one of a grading's workspaces.
fn processes_in_workspaces(lab: &str) -> Vec<(String, String)> {
    let prefix = std::env::temp_dir().join(format!("grade-{lab}-"));
    let prefix = prefix.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'));
        if let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) {
            if cwd.to_string_lossy().starts_with(&prefix) || zombie && stat.contains("python") {
                found.push((name, cwd.display().to_string()));
            }
        }
    }
    found
}

fn shm_entries() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm").map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

#[test]
fn hostile_fixtures_leave_no_process_or_shared_memory_behind() {
    let _one = serial();
    for (lab, fixture) in [
        ("lab-2.1", "hostile-pid-hopping"),
        ("lab-2.1", "hostile-kills-grader"),
        ("lab-2.1", "hostile-shm-litter"),
        ("lab-5.3", "hostile-kills-grader"),
    ] {
        let started = std::time::Instant::now();
        let (r, _) = grade_json(lab, fixture, &[]);
        assert!(r["score"].as_f64().unwrap() <= 40.0, "{lab} {fixture}: {}", r["score"]);
        assert!(started.elapsed().as_secs() < 60, "{lab} {fixture} took {:?}", started.elapsed());
        let left = processes_in_workspaces(lab);
        assert!(left.is_empty(), "{lab} {fixture} left processes: {left:?}");
        let litter: Vec<String> = shm_entries().into_iter().filter(|n| n.starts_with("litter-") || n.starts_with("plain-")).collect();
        assert!(litter.is_empty(), "{lab} {fixture} left /dev/shm entries: {litter:?}");
    }
}

#[test]
fn nothing_from_outside_the_run_reaches_the_report() {
    let _one = serial();
    let marker = format!("grader-secret-{}", std::process::id());
    for (lab, fixture, reference_text) in [
        ("lab-2.1", "hostile-reads-course", "Both locks are taken in one global order"),
        ("lab-5.3", "hostile-reads-course", "the sentinel: one per consumer"),
    ] {
        let (r, text) = grade_json(lab, fixture, &[("GRADE_TEST_SECRET", marker.as_str())]);
        let sandbox = r["grader"]["sandbox"].as_str().unwrap();
        assert!(sandbox.contains("pid-namespace") && sandbox.contains("landlock-files"), "{sandbox}");
        assert!(text.contains("LOOT"), "{lab}: the fixture reported what it found: {text:.2000}");
        // The spec's text (its quiz keys), the reference, the grader's environment and its cache listing.
        for secret in [marker.as_str(), reference_text, "answers_file:", "env-py3"] {
            assert!(!text.contains(secret), "{lab}: the report carries {secret:?} from outside the run");
        }
        assert!(r["score"].as_f64().unwrap() <= 40.0, "{lab}: {}", r["score"]);
    }
}

/// Every output format of a submission that prints and raises escape sequences and workflow commands.
#[test]
fn no_student_text_reaches_a_terminal_or_the_ci_log_raw() {
    let _one = serial();
    let dir = course().join("fixtures/lab-2.1/hostile-escapes");
    for format in ["human", "json", "junit", "gradescope"] {
        let mut cmd = Command::cargo_bin("grade").expect("the grade binary");
        cmd.current_dir(course()).env("NO_COLOR", "1").env("GITHUB_ACTIONS", "true");
        let out = cmd.args(["lab-2.1", "--verbose", "--format", format, "--submission"]).arg(&dir).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            for line in text.lines() {
                let grader_annotation = line.starts_with("::error file=") || line.starts_with("::warning file=")
                    || line.starts_with("::error title=") || line.starts_with("::warning title=");
                assert!(!line.trim_start().starts_with("::") || grader_annotation, "{format} {stream}: {line:?}");
                assert!(!line.chars().any(|c| c.is_control() && c != '\t'), "{format} {stream}: {line:?}");
            }
            assert!(!text.contains("\n::add-mask::") && !text.contains("\n::stop-commands::"), "{format} {stream}");
        }
    }
}

/// A submission that connects out: to a service on the machine's loopback (here a listener of this test's,
/// standing for a classmate's fixture server or the grader's ports), the package registry and public
/// resolvers. Its run's network namespace has only its own loopback: nothing arrives, it says it reached
/// nothing, and the report names the layer.
#[test]
fn a_run_reaches_no_network_but_its_own() {
    let _one = serial();
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let fixture = course().join("fixtures/lab-2.1/hostile-network");
    for f in ["counter.py", "bank.py"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("target.py"), format!("PORT = {port}\n")).unwrap();
    let mut cmd = Command::cargo_bin("grade").expect("the grade binary");
    cmd.current_dir(course()).env("NO_COLOR", "1");
    let out = cmd.args(["lab-2.1", "--format", "json", "--submission"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["grader"]["sandbox"].as_str().unwrap().contains("network-namespace"), "{}", r["grader"]["sandbox"]);
    let basic = r["tests"].as_array().unwrap().iter().find(|t| t["id"] == "counter-basic").unwrap();
    let msg = basic["message"].as_str().unwrap();
    assert!(msg.contains("NET connected to nothing") && msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a connection from the confined run arrived: {other:?}"),
    }
    assert!(r["score"].as_f64().unwrap() <= 40.0);
}
