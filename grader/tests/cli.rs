//! The command line as users meet it: exit codes, messages, reports, and what grading leaves behind.
//! Uses the small course in tests/data: a lab whose submissions each misbehave in one way.
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn specs() -> PathBuf {
    data().join("course/specs")
}

fn submission(name: &str) -> PathBuf {
    data().join("submissions").join(name)
}

fn grade() -> Command {
    let mut cmd = Command::cargo_bin("grade").expect("the grade binary");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Grades a submission of lab-0.1 and returns the JSON report (exit status 0 asserted).
fn report(dir: &Path) -> Value {
    let out = grade()
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(dir)
        .output()
        .expect("grade runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn test<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["tests"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap_or_else(|| panic!("no test {id}"))
}

fn status(report: &Value, id: &str) -> String {
    test(report, id)["status"].as_str().unwrap().to_string()
}

#[test]
fn unknown_lab_exits_2_and_lists_the_labs() {
    grade()
        .args(["lab-9.9", "--specs"])
        .arg(specs())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no lab `lab-9.9`").and(predicate::str::contains("lab-0.1")));
}

#[test]
fn list_names_each_lab() {
    grade().arg("list").arg("--specs").arg(specs()).assert().success().stdout(predicate::str::contains("lab-0.1"));
}

#[test]
fn no_lab_is_a_usage_error() {
    grade().args(["--specs"]).arg(specs()).assert().code(2).stderr(predicate::str::contains("name a lab"));
}

#[test]
fn bad_format_is_a_usage_error() {
    grade().args(["lab-0.1", "--format", "xml"]).assert().code(2);
}

/// Copies the test course into a temp dir with the spec rewritten by `edit`.
fn broken_course(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("specs");
    std::fs::create_dir_all(to.join("lab-0.1")).unwrap();
    let text = std::fs::read_to_string(specs_path()).unwrap();
    std::fs::write(to.join("lab-0.1.yaml"), edit(&text)).unwrap();
    std::fs::copy(specs().join("lab-0.1/checks.py"), to.join("lab-0.1/checks.py")).unwrap();
    dir
}

fn specs_path() -> PathBuf {
    specs().join("lab-0.1.yaml")
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in spec") + 1
}

#[test]
fn an_unknown_kind_names_file_line_and_key() {
    let dir = broken_course(|t| t.replacen("kind: stress", "kind: stres", 1));
    let line = line_of(&std::fs::read_to_string(dir.path().join("specs/lab-0.1.yaml")).unwrap(), "kind: stres");
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .arg("--submission")
        .arg(submission("infinite-loop"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("lab-0.1.yaml:{line}:")))
        .stderr(predicate::str::contains("key `kind`"))
        .stderr(predicate::str::contains("unknown variant `stres`"));
}

#[test]
fn an_unknown_key_and_a_missing_check_are_named() {
    let dir = broken_course(|t| t.replacen("    check: call_main\n", "    check: call_main\n    colour: red\n", 1));
    grade().args(["list", "--specs"]).arg(dir.path().join("specs")).assert().success().stdout(
        predicate::str::contains("spec error").and(predicate::str::contains("key `colour`")),
    );
    let dir = broken_course(|t| t.replacen("check: call_main", "check: call_mian", 1));
    let line = line_of(&std::fs::read_to_string(dir.path().join("specs/lab-0.1.yaml")).unwrap(), "call_mian");
    grade()
        .args(["check", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("lab-0.1.yaml:{line}:")).and(predicate::str::contains("no function `def call_mian(ctx)`")));
}

#[test]
fn a_category_without_items_is_an_error() {
    let dir = broken_course(|t| t.replace("category: best_practices", "category: design"));
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key `items`").and(predicate::str::contains("best_practices")));
}

#[test]
fn a_key_of_another_kind_is_an_error() {
    let dir = broken_course(|t| t.replacen("    check: call_main\n", "    check: call_main\n    samples: 3\n", 1));
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key `samples`: does not apply to an item of kind `deterministic`"));
}

#[test]
fn a_budget_out_of_range_is_named() {
    let dir = broken_course(|t| t.replacen("\nitems:\n", "\nbudget_s: 0\nitems:\n", 1));
    let line = line_of(&std::fs::read_to_string(dir.path().join("specs/lab-0.1.yaml")).unwrap(), "budget_s: 0");
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("lab-0.1.yaml:{line}:")))
        .stderr(predicate::str::contains("key `budget_s`: seconds, more than 0 and at most 3600"));
}

#[test]
fn a_missing_submission_directory_exits_2() {
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(specs())
        .args(["--submission", "/nonexistent/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/dir"));
}

#[test]
fn a_syntax_error_is_reported_with_file_and_line_and_code_items_skipped() {
    let r = report(&submission("syntax-error"));
    assert_eq!(r["compile"]["ok"], false);
    let e = &r["compile"]["errors"][0];
    assert_eq!((e["file"].as_str(), e["line"].as_u64()), (Some("student.py"), Some(1)));
    assert!(e["message"].as_str().unwrap().contains("SyntaxError"));
    assert_eq!(status(&r, "run"), "skipped");
    assert!(test(&r, "run")["message"].as_str().unwrap().contains("student.py:1"));
    assert_eq!(status(&r, "lint"), "skipped");
    assert_eq!(status(&r, "quiz"), "failed", "theory items are still graded");
}

#[test]
fn a_missing_entry_file_fails_compile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.py"), "x = 1\n").unwrap();
    let r = report(dir.path());
    assert_eq!(r["compile"]["ok"], false);
    assert!(r["compile"]["errors"][0]["message"].as_str().unwrap().contains("missing file"));
    assert_eq!(status(&r, "run"), "skipped");
}

#[test]
fn the_solution_scores_full_marks_and_the_report_adds_up() {
    let r = report(&data().join("course/solutions/lab-0.1"));
    assert_eq!(r["schema"], "grade-report/1");
    assert_eq!(r["score"], 100.0);
    let cats: f64 = r["categories"].as_array().unwrap().iter().map(|c| c["points"].as_f64().unwrap()).sum();
    let groups: Vec<f64> = r["groups"].as_array().unwrap().iter().map(|g| g["points"].as_f64().unwrap()).collect();
    assert_eq!(cats, 100.0);
    assert_eq!(groups, vec![70.0, 30.0]);
    let weights: Vec<(String, f64)> = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["weight"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        weights,
        [("completion_quality", 40.0), ("performance", 20.0), ("problem_solving", 10.0), ("quizzes", 15.0), ("design", 10.0), ("best_practices", 5.0)]
            .map(|(a, b)| (a.to_string(), b))
    );
    assert_eq!(r["categories"][4]["provisional"], true);
}

#[test]
fn min_score_gates_the_exit_status() {
    grade()
        .args(["lab-0.1", "--format", "json", "--min-score", "90", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(data().join("course/starter/lab-0.1"))
        .assert()
        .code(1);
    grade()
        .args(["lab-0.1", "--format", "json", "--min-score", "90", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(data().join("course/solutions/lab-0.1"))
        .assert()
        .code(0);
}

#[test]
fn out_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    grade()
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(data().join("course/solutions/lab-0.1"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(r["score"], 100.0);
}

#[test]
fn an_infinite_loop_times_out_with_the_line_it_was_on() {
    let r = report(&submission("infinite-loop"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "timeout");
    let threads = t["diagnosis"]["threads"].as_array().unwrap();
    assert!(threads.iter().any(|th| th["file"] == "student.py" && th["function"] == "spin"), "{t}");
}

#[test]
fn a_thread_waiting_on_an_event_nobody_sets_is_a_lost_wakeup() {
    let r = report(&submission("waits-forever"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "deadlock", "{t}");
    assert_eq!(t["diagnosis"]["kind"], "lost_wakeup");
    let th = &t["diagnosis"]["threads"][0];
    assert_eq!(th["name"], "waiter");
    // The Event as the student's code names it: `done = threading.Event()` on line 5.
    assert_eq!(th["waiting_for"], "done (threading.Event, student.py:5)", "{th}");
}

#[test]
fn a_lost_notify_is_named_with_the_wait_and_its_line() {
    let r = report(&submission("lost-wakeup"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "deadlock", "{t}");
    assert_eq!(t["diagnosis"]["kind"], "lost_wakeup");
    let th = &t["diagnosis"]["threads"][0];
    assert_eq!((th["name"].as_str(), th["file"].as_str(), th["line"].as_u64()), (Some("consumer"), Some("student.py"), Some(9)));
    // Named by the student's module-level `cond = threading.Condition()`, through the call that waits.
    assert_eq!(th["waiting_for"], "cond.wait() (threading.Condition, student.py:3)", "{th}");
}

#[test]
fn consumers_hanging_on_an_empty_queue_are_named() {
    let r = report(&submission("queue-hang"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "deadlock", "{t}");
    let names: Vec<&str> = t["diagnosis"]["threads"].as_array().unwrap().iter().map(|th| th["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{t}");
    assert!(t["diagnosis"]["threads"][0]["line"] == 13, "{t}");
}

#[test]
fn a_self_deadlock_is_named_with_the_lock_and_lines() {
    let r = report(&submission("self-deadlock"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "deadlock");
    let th = &t["diagnosis"]["threads"][0];
    assert_eq!((th["file"].as_str(), th["line"].as_u64()), (Some("student.py"), Some(8)));
    assert_eq!(th["waiting_for"], "lock (threading.Lock, student.py:3)");
    assert_eq!(th["holding"][0], "lock (threading.Lock, student.py:3) acquired at student.py:7 in main");
}

#[test]
fn a_fork_bomb_is_stopped() {
    let r = report(&submission("fork-bomb"));
    assert_eq!(status(&r, "run"), "crashed");
    assert_eq!(status(&r, "stress"), "crashed");
}

#[test]
fn a_memory_hog_is_stopped() {
    let r = report(&submission("memory-hog"));
    assert_eq!(status(&r, "run"), "crashed");
    assert!(test(&r, "run")["message"].as_str().unwrap().contains("MiB of memory"));
}

#[test]
fn a_flood_of_output_is_stopped_and_capped() {
    let r = report(&submission("output-flood"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "crashed");
    assert!(t["message"].as_str().unwrap().contains("of output"));
    assert!(t["output"]["stdout"].as_str().unwrap().len() <= 9 * 1024);
    assert_eq!(t["output"]["truncated"], true);
}

#[test]
fn a_run_cannot_write_outside_its_own_directory() {
    let _ = std::fs::remove_file("/tmp/grade-sandbox-probe");
    let r = report(&submission("writes-outside"));
    let sandbox = r["grader"]["sandbox"].as_str().unwrap();
    assert!(sandbox.starts_with("pid-namespace+private-proc-and-shm+landlock-files"), "this machine has them all: {sandbox}");
    // Opening the harness's files for writing is tampering (named, 0 points) even though Landlock refuses it.
    let t = test(&r, "run");
    assert_eq!(t["status"], "tampered", "{t}");
    assert!(t["message"].as_str().unwrap().contains("for writing"), "{t}");
    assert!(!Path::new("/tmp/grade-sandbox-probe").exists(), "/tmp stayed out of reach");
}

#[test]
fn os_exit_and_forged_results_earn_nothing() {
    for name in ["os-exit", "forges-channel"] {
        let r = report(&submission(name));
        for id in ["run", "stress"] {
            let t = test(&r, id);
            assert_eq!(t["status"], "crashed", "{name} {id}: {t}");
            assert_eq!(t["points"], 0.0);
        }
    }
    let r = report(&submission("forges-channel"));
    assert!(test(&r, "run")["message"].as_str().unwrap().contains("not the grader's"));
}

#[test]
fn a_crash_of_the_interpreter_is_named_by_its_signal() {
    // The check process dies of SIGSEGV; its supervisor (the run's process 1, which cannot die of it in
    // turn) says so, and the report names the signal rather than the supervisor's exit status.
    let r = report(&submission("segfault"));
    for id in ["run", "stress"] {
        let t = test(&r, id);
        assert_eq!(t["status"], "crashed", "{id}: {t}");
        assert!(t["message"].as_str().unwrap().contains("(signal SIGSEGV)"), "{id}: {t}");
    }
}

#[test]
fn sys_exit_on_import_fails_with_a_reason() {
    let r = report(&submission("sys-exit-on-import"));
    assert_eq!(status(&r, "run"), "failed");
    assert!(test(&r, "run")["message"].as_str().unwrap().contains("sys.exit()"));
}

#[test]
fn killing_the_parent_does_not_reach_the_grader() {
    // The parent is the harness's supervisor: process 1 of the run's PID namespace, which ignores the
    // signal. Signalling it is tampering, named with the line. (Without a namespace the check process
    // dies with its supervisor, PR_SET_PDEATHSIG, and the run is crashed: never the grader.)
    for _ in 0..3 {
        let r = report(&submission("kills-parent"));
        for id in ["run", "stress"] {
            let t = test(&r, id);
            assert_eq!(t["status"], "tampered", "{id}: {t}");
            assert_eq!(t["location"], "student.py:6", "{id}: {t}");
            assert_eq!(t["points"], 0.0);
        }
    }
}

fn harness_processes() -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains("/harness/grade_harness.py") && cmd.contains("grade-lab-0.1-") {
                out.push(cmd);
            }
        }
    }
    out
}

#[test]
fn an_escaped_process_is_reported_and_nothing_survives_grading() {
    let r = report(&submission("escapes-session"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "failed");
    assert!(t["message"].as_str().unwrap().contains("outlived the check"), "{t}");
    // Every run of this lab has finished: none of its processes may be left.
    let workspace_prefix = "grade-lab-0.1-";
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left: Vec<String> = harness_processes().into_iter().filter(|c| c.contains(workspace_prefix)).collect();
    let ours: Vec<&String> = left.iter().filter(|c| !is_running_elsewhere(c)).collect();
    assert!(ours.is_empty(), "left behind: {ours:?}");
}

/// Other tests of this binary grade lab-0.1 concurrently: a process whose workspace still exists is theirs.
fn is_running_elsewhere(cmd: &str) -> bool {
    cmd.split_whitespace()
        .find(|w| w.contains("/harness/grade_harness.py"))
        .map(|p| Path::new(p).parent().unwrap().parent().unwrap().exists())
        .unwrap_or(false)
}

#[test]
fn grading_leaves_no_workspace_and_never_writes_the_submission() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    for f in ["student.py", "quiz.yaml", "DESIGN.md"] {
        std::fs::copy(data().join("course/solutions/lab-0.1").join(f), sub.join(f)).unwrap();
    }
    let before: Vec<(PathBuf, Vec<u8>)> = snapshot(&sub);
    let own_tmp = tmp.path().join("tmp");
    std::fs::create_dir_all(&own_tmp).unwrap();
    grade()
        .env("TMPDIR", &own_tmp)
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(&sub)
        .assert()
        .success();
    assert_eq!(snapshot(&sub), before, "the submission was modified");
    let left: Vec<_> = std::fs::read_dir(&own_tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("grade-lab"))
        .collect();
    assert!(left.is_empty(), "workspaces left: {left:?}");
    // And after a timeout too.
    grade()
        .env("TMPDIR", &own_tmp)
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission("infinite-loop"))
        .assert()
        .success();
    let left = std::fs::read_dir(&own_tmp).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("grade-lab")).count();
    assert_eq!(left, 0);
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap_or_default()))
        .collect();
    v.sort();
    v
}

#[test]
fn human_output_has_no_colour_when_piped_and_verbose_shows_output() {
    let out = grade()
        .args(["lab-0.1", "--format", "human", "--verbose", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission("os-exit"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "no colour when piped");
    assert!(text.contains("--- stdout ---") && text.contains("PASS run 10/10"), "{text}");
}

#[test]
fn a_process_never_joined_is_a_zombie_and_fails() {
    let r = report(&submission("zombie"));
    let t = test(&r, "run");
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t["message"].as_str().unwrap().contains("never joined (zombies)"), "{t}");
}

fn stress_message(lab: &str, sub: &str, seed: u64) -> Value {
    let out = grade()
        .args([lab, "--format", "json", "--seed", &seed.to_string(), "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission(sub))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    test(&r, "stress").clone()
}

#[test]
fn the_controlled_scheduler_replays_a_race_exactly() {
    // lab-0.2 runs its stress item under the controlled scheduler: the seed decides every switch.
    let a = stress_message("lab-0.2", "racy-counter", 11);
    let b = stress_message("lab-0.2", "racy-counter", 11);
    assert_eq!(a["status"], "failed");
    assert_eq!(a["message"], b["message"], "the same seed gives the same interleaving");
    assert!(a["message"].as_str().unwrap().contains("--seed 11 (exact"), "{a}");
    let others: Vec<Value> = (12..16).map(|s| stress_message("lab-0.2", "racy-counter", s)["message"].clone()).collect();
    assert!(others.iter().any(|m| m != &a["message"]), "other seeds give other interleavings");
}

#[test]
fn the_controlled_scheduler_names_a_certain_hang_at_once() {
    let t = stress_message("lab-0.2", "lost-wakeup", 3);
    assert_eq!(t["status"], "deadlock", "{t}");
    assert_eq!(t["diagnosis"]["kind"], "lost_wakeup");
    assert!(t["message"].as_str().unwrap().contains("controlled schedule"), "{t}");
    let t = stress_message("lab-0.2", "self-deadlock", 3);
    assert_eq!(t["diagnosis"]["kind"], "deadlock", "{t}");
}

#[test]
fn only_the_thread_whose_turn_it_is_hands_the_turn_on() {
    // lab-0.2's `turns` check looks at the scheduler from inside a controlled run: an exited thread's id
    // is forgotten, and a thread outside its turn (a starting thread that sleeps) hands nothing on.
    let out = grade()
        .args(["lab-0.2", "--format", "json", "--only", "turns", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission("racy-counter"))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = test(&r, "turns");
    assert_eq!(t["status"], "passed", "{t}");
}

fn run_item(lab: &str, sub: &str) -> Value {
    let out = grade()
        .args([lab, "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission(sub))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    test(&r, "run").clone()
}

#[test]
fn a_sound_coroutine_passes_the_asyncio_oracles() {
    let t = run_item("lab-0.3", "async-good");
    assert_eq!(t["status"], "passed", "{t}");
}

#[test]
fn an_event_loop_that_can_never_wake_is_a_deadlock_at_once() {
    let t = run_item("lab-0.3", "async-hang");
    assert_eq!(t["status"], "deadlock", "{t}");
    assert_eq!(t["diagnosis"]["kind"], "async_hang");
    let tasks: Vec<&str> = t["diagnosis"]["threads"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert!(tasks.contains(&"task consumer") && tasks.contains(&"task main"), "{t}");
    // Found by the loop's own idleness: a run stopped at the item's timeout would be `timeout`.
    assert!(t["message"].as_str().unwrap().contains("consumer at student.py:5"), "{t}");
}

#[test]
fn asyncio_misuse_fails_with_the_students_line() {
    for (sub, line, words) in [
        ("async-blocking", 7, "event loop was blocked"),
        ("async-never-awaited", 10, "save() was created"),
        ("async-unretrieved", 5, "exception was never retrieved: ValueError: worker failed"),
        ("async-pending", 6, "still pending when the main coroutine returned: heartbeat"),
        ("async-slow", 5, "did not finish within 1.5 s"),
    ] {
        let t = run_item("lab-0.3", sub);
        assert_eq!(t["status"], "failed", "{sub}: {t}");
        assert_eq!(t["location"], format!("student.py:{line}"), "{sub}: {t}");
        assert!(t["message"].as_str().unwrap().contains(words), "{sub}: {t}");
        assert!(t["hint"].is_string(), "{sub}: {t}");
    }
}

#[test]
fn the_fixture_server_measures_concurrency_from_its_side() {
    let t = run_item("lab-0.4", "http-threads");
    assert_eq!(t["status"], "passed", "{t}");
    let t = run_item("lab-0.4", "http-serial");
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t["message"].as_str().unwrap().contains("at most 1 request(s) in flight"), "{t}");
}

#[test]
fn a_bad_route_in_a_spec_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("lab-0.4")).unwrap();
    let text = std::fs::read_to_string(data().join("course/specs/lab-0.4.yaml")).unwrap();
    std::fs::write(specs.join("lab-0.4.yaml"), text.replace("path: /flaky", "path: flaky")).unwrap();
    std::fs::copy(data().join("course/specs/lab-0.4/checks.py"), specs.join("lab-0.4/checks.py")).unwrap();
    grade()
        .args(["lab-0.4", "--specs"])
        .arg(&specs)
        .arg("--submission")
        .arg(submission("http-threads"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lab-0.4.yaml:").and(predicate::str::contains("key `http`")).and(predicate::str::contains("a path starts with `/`")));
}

/// The managed environment the tests share, kept under target/ between test runs.
fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-cache")
}

fn grade_lab_05(sub: &str, cache: &Path) -> (Value, String) {
    let out = grade()
        .env("GRADE_CACHE", cache)
        .args(["lab-0.5", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission(sub))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

#[test]
fn the_managed_environment_is_built_on_first_need_then_reused() {
    let cache = tempfile::tempdir().unwrap();
    let (r, stderr) = grade_lab_05("pkg-requests", cache.path());
    assert!(stderr.contains("building the course's Python environment"), "{stderr}");
    assert_eq!(status(&r, "run"), "passed", "{}", test(&r, "run"));
    let (r, stderr) = grade_lab_05("pkg-requests", cache.path());
    assert!(!stderr.contains("building"), "the second grade reuses it: {stderr}");
    assert_eq!(status(&r, "run"), "passed");
    let out = grade().env("GRADE_CACHE", cache.path()).arg("env").output().unwrap();
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(python.ends_with("bin/python") && Path::new(&python).exists(), "{python}");
}

#[test]
fn ruff_rules_lint_in_the_managed_environment() {
    let (r, _) = grade_lab_05("pkg-async-blocking", &shared_cache());
    let rules: Vec<&str> = test(&r, "lint")["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["ruff:ASYNC251", "ruff:ASYNC210", "ruff:BLE001"], "{}", test(&r, "lint"));
    assert_eq!(test(&r, "lint")["location"], "student.py:9");
    let (r, _) = grade_lab_05("pkg-requests", &shared_cache());
    assert_eq!(status(&r, "lint"), "passed", "{}", test(&r, "lint"));
}

#[test]
fn a_package_not_in_the_lock_is_a_spec_error() {
    let dir = broken_course(|t| t.replacen("files: [student.py]", "files: [student.py]\npackages: [numpyy]", 1));
    grade()
        .args(["lab-0.1", "--specs"])
        .arg(dir.path().join("specs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key `packages`").and(predicate::str::contains("`numpyy` is not in python/requirements.lock")));
}

fn grade_lab(lab: &str, dir: &Path) -> Value {
    let out = grade().args([lab, "--format", "json", "--specs"]).arg(specs()).arg("--submission").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn memory_is_judged_against_the_reference_in_the_same_grading() {
    let r = grade_lab("lab-0.6", &data().join("course/solutions/lab-0.6"));
    let t = test(&r, "memory");
    assert_eq!(t["status"], "passed", "{t}");
    let m = &t["measurement"];
    assert!((m["ratio"].as_f64().unwrap() - 1.0).abs() < 0.1, "the reference against itself: {t}");
    let r = grade_lab("lab-0.6", &submission("mem-copies"));
    let t = test(&r, "memory");
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t["measurement"]["ratio"].as_f64().unwrap() > 2.0, "{t}");
    assert_eq!(t["points"], 0.0);
    assert_eq!(status(&r, "run"), "passed", "the answer is right; only the memory is not");
}

fn grade_format(dir: &Path, format: &str) -> String {
    let out = grade().args(["lab-0.1", "--format", format, "--specs"]).arg(specs()).arg("--submission").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gradescope_results_have_the_documented_fields_and_add_up() {
    let text = grade_format(&submission("racy-counter"), "gradescope");
    let r: Value = serde_json::from_str(&text).unwrap();
    let tests = r["tests"].as_array().unwrap();
    let sum: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
    assert!((sum - r["score"].as_f64().unwrap()).abs() < 0.1, "tests add up to the total: {sum} vs {}", r["score"]);
    let max: f64 = tests.iter().map(|t| t["max_score"].as_f64().unwrap()).sum();
    assert!((max - 100.0).abs() < 0.1, "{max}");
    assert!(r["execution_time"].is_u64() && r["output"].is_string());
    for t in tests {
        for key in ["name", "number", "score", "max_score", "status", "output", "visibility", "tags"] {
            assert!(!t[key].is_null(), "{key} in {t}");
        }
        assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
        assert!(["visible", "hidden", "after_due_date", "after_published"].contains(&t["visibility"].as_str().unwrap()));
    }
    let stress = tests.iter().find(|t| t["name"].as_str().unwrap().ends_with("(stress)")).unwrap();
    assert_eq!(stress["status"], "failed");
    assert!(stress["output"].as_str().unwrap().contains("--seed"), "{stress}");
}

#[test]
fn junit_output_parses_as_junit() {
    let text = grade_format(&submission("racy-counter"), "junit");
    let parsed = quick_junit::Report::deserialize_from_str(&text).expect("valid JUnit XML");
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "lab-0.1");
    let stress = suite.test_cases.iter().find(|c| c.name.as_str() == "stress").unwrap();
    assert!(matches!(stress.status, quick_junit::TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Failure, .. }));
    let passed = grade_format(&data().join("course/solutions/lab-0.1"), "junit");
    let parsed = quick_junit::Report::deserialize_from_str(&passed).unwrap();
    assert!(parsed.test_suites[0].test_cases.iter().all(|c| !matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. })));
}

#[test]
fn on_github_actions_failures_are_annotations_on_the_students_lines() {
    let dir = submission("self-deadlock");
    let out = grade()
        .env("GITHUB_ACTIONS", "true")
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("::error file={},line=8,title=lab-0.1 run%3A deadlock::deadlock: MainThread waits", dir.join("student.py").display());
    assert!(stderr.contains(&want), "{stderr}");
    let quiet = grade().args(["lab-0.1", "--format", "json", "--specs"]).arg(specs()).arg("--submission").arg(&dir).output().unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("::error"), "only on GitHub Actions");
}

// Issue 9, item 5: bounded, safe inputs and outputs.

/// The reference solution of lab-0.1 in a temp dir (its code only), for a test to add hostile files to.
fn solution_code_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data().join("course/solutions/lab-0.1/student.py"), dir.path().join("student.py")).unwrap();
    dir
}

/// Grades lab-0.1 in JSON, killed after `secs`: a grader that blocks or balloons fails the test, never hangs it.
fn report_within(dir: &Path, secs: u64) -> Value {
    let out = grade()
        .timeout(std::time::Duration::from_secs(secs))
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(dir)
        .output()
        .expect("grade runs");
    assert_eq!(out.status.code(), Some(0), "finished in {secs} s; stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn issue_9_quiz_and_design_through_symbolic_links_earn_nothing() {
    let dir = solution_code_copy();
    std::os::unix::fs::symlink(data().join("course/solutions/lab-0.1/quiz.yaml"), dir.path().join("quiz.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("DESIGN.md")).unwrap();
    let r = report_within(dir.path(), 60);
    let quiz = test(&r, "quiz");
    assert_eq!((quiz["status"].as_str(), quiz["points"].as_f64()), (Some("failed"), Some(0.0)), "{quiz}");
    assert!(quiz["message"].as_str().unwrap().contains("quiz.yaml is not a regular file (a symbolic link)"), "{quiz}");
    let design = test(&r, "design");
    assert_eq!(design["points"], 0.0, "{design}");
    assert!(design["message"].as_str().unwrap().contains("DESIGN.md is not a regular file (a symbolic link)"), "{design}");
    assert_eq!(status(&r, "run"), "passed", "the code is still graded");
}

#[test]
fn issue_9_a_fifo_quiz_or_design_never_blocks_the_grader() {
    let dir = solution_code_copy();
    for name in ["quiz.yaml", "DESIGN.md"] {
        nix::unistd::mkfifo(&dir.path().join(name), nix::sys::stat::Mode::S_IRWXU).unwrap();
    }
    let r = report_within(dir.path(), 60);
    assert_eq!(test(&r, "quiz")["points"], 0.0);
    assert!(test(&r, "quiz")["message"].as_str().unwrap().contains("(a FIFO)"), "{}", test(&r, "quiz"));
    assert!(test(&r, "design")["message"].as_str().unwrap().contains("(a FIFO)"), "{}", test(&r, "design"));
}

#[test]
fn issue_9_a_huge_exception_message_is_cut_and_says_so() {
    let out = grade()
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(submission("huge-message"))
        .output()
        .unwrap();
    assert!(out.stdout.len() < 64 * 1024, "the report takes {} bytes", out.stdout.len());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    for id in ["run", "stress"] {
        let t = test(&r, id);
        assert_eq!(t["status"], "failed", "{t}");
        let m = t["message"].as_str().unwrap();
        assert!(m.len() < 5 * 1024, "{id}: {} bytes", m.len());
        // ValueError's 4,000,000 x's and the location after them: all but the 4 KiB kept are counted.
        let cut: u64 = m.split("… [cut ").nth(1).unwrap().split(" bytes]").next().unwrap().replace(',', "").parse().unwrap();
        assert!((3_990_000..4_000_100).contains(&cut), "{id}: cut {cut}: {}", &m[m.len() - 120..]);
    }
}

/// Lines a GitHub runner would take as workflow commands (leading white space is trimmed).
fn command_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.trim_start().starts_with("::") || l.trim_start().starts_with("##[")).collect()
}

fn controls(text: &str) -> Vec<char> {
    text.chars().filter(|&c| c.is_control() && c != '\n' && c != '\t').collect()
}

#[test]
fn issue_9_student_text_is_shown_never_obeyed_in_every_format() {
    for format in ["human", "json", "junit", "gradescope"] {
        let out = grade()
            .env("GITHUB_ACTIONS", "true")
            .args(["lab-0.1", "--verbose", "--format", format, "--specs"])
            .arg(specs())
            .arg("--submission")
            .arg(submission("hostile-text"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(controls(&stdout), vec![], "{format}: {stdout}");
        assert_eq!(controls(&stderr), vec![], "{format}: {stderr}");
        assert_eq!(command_lines(&stdout), Vec::<&str>::new(), "{format}");
        // stderr: the grader's own annotations only, each with the student's text escaped on its one line.
        let annotations = command_lines(&stderr);
        assert!(annotations.iter().all(|l| l.starts_with("::error ") || l.starts_with("::warning ")), "{format}: {annotations:?}");
        let run = annotations.iter().find(|l| l.contains("title=lab-0.1 run%3A failed")).expect("the run's annotation");
        let message = run.split_once("::").unwrap().1.split_once("::").unwrap().1;
        assert!(message.contains(r"ValueError: boom \x1b[2J\x1b]0;pwned title\x07\x00\u{9b}31m\x7f%0A\x3a:error::pwned%0A"), "{run}");
        match format {
            "human" => {
                assert!(stdout.contains(r"\x1b]0;pwned title\x07"), "the text is shown, escaped: {stdout}");
                assert!(stdout.contains("--- stdout ---") && stdout.contains(r"out \x1b[2J"), "{stdout}");
            }
            "json" => {
                let r: Value = serde_json::from_str(&stdout).unwrap();
                let m = test(&r, "run")["message"].as_str().unwrap().to_string();
                assert!(m.contains("\x1b]0;pwned title\x07\0\u{9b}31m\x7f\n::error::pwned"), "the data is kept as it was: {m:?}");
            }
            "junit" => {
                quick_junit::Report::deserialize_from_str(&stdout).expect("valid JUnit XML");
                assert!(stdout.contains(r"\x3a:add-mask::x"), "{stdout}");
            }
            _ => {
                let r: Value = serde_json::from_str(&stdout).unwrap();
                assert!(r["tests"][0]["output"].as_str().unwrap().contains(r"\x3a:stop-commands::y\r"), "{stdout}");
            }
        }
    }
}

#[test]
fn issue_9_a_lone_surrogate_never_loses_a_result() {
    let r = report(&submission("lone-surrogate"));
    for id in ["run", "stress"] {
        let t = test(&r, id);
        assert_eq!(t["status"], "failed", "{t}");
        assert!(t["message"].as_str().unwrap().contains("half a pair: \u{fffd} here"), "{t}");
        assert_eq!(t["location"], "student.py:2", "{t}");
    }
}

#[test]
fn issue_9_base_exceptions_and_used_up_descriptors_are_the_students_failures() {
    for (sub, words) in [
        ("interrupt-on-import", &["importing student raised KeyboardInterrupt", "student.py:1"][..]),
        ("base-exception", &["Boom: out of the blue", "student.py:6"][..]),
        ("fd-exhaustion", &["no free file descriptor"][..]),
    ] {
        let r = report(&submission(sub));
        for id in ["run", "stress"] {
            let t = test(&r, id);
            assert!(t["status"] == "failed" || t["status"] == "crashed", "{sub} {id}: {t}");
            let m = t["message"].as_str().unwrap();
            assert!(words.iter().all(|w| m.contains(w)), "{sub} {id}: {t}");
        }
    }
}

/// Two busy loops beside the grader on the whole machine's cores: a throughput item cannot be measured
/// validly, so it is `inconclusive` with the reason, earns nothing yet and leaves its category provisional;
/// it is never a pass or a fail.
#[test]
fn a_throughput_item_measured_on_a_busy_machine_is_inconclusive() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let course = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let spinners: Vec<_> = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let out = grade()
        .args(["lab-5.3", "--format", "json", "--specs"])
        .arg(course.join("specs"))
        .arg("--submission")
        .arg(course.join("solutions/lab-5.3"))
        .output()
        .expect("grade runs");
    stop.store(true, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let t = test(&r, "throughput");
    assert_eq!(t["status"], "inconclusive", "{t}");
    assert_eq!(t["points"], 0.0);
    assert!(t["message"].as_str().unwrap().contains("other work on the machine used"), "{t}");
    let perf = r["categories"].as_array().unwrap().iter().find(|c| c["id"] == "performance").unwrap();
    assert_eq!(perf["provisional"], true);
    assert_eq!(status(&r, "basic"), "passed", "correctness items are graded as usual");
}
