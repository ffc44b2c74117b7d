//! `from_run`, branch by branch, on hand-built runs: which status each way a run can end gives, and what
//! the student is told. Items come from lab-2.1's spec (a stress item under the os scheduler, one under
//! the controlled scheduler, and a deterministic one).
use super::from_run;
use crate::plan::Unit;
use crate::report::model::Status;
use crate::runner::capture::Captured;
use crate::runner::message::Message;
use crate::runner::{RunResult, Stop};
use crate::spec::{Item, Spec};
use serde_json::json;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::Duration;

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| crate::spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/lab-2.1.yaml")).expect("lab-2.1's spec"))
}

fn item(id: &str) -> &'static Item {
    spec().items.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("lab-2.1 has no item {id}"))
}

fn unit(item: &'static Item, seeds: &[u64]) -> Unit<'static> {
    Unit { item, lab: "lab-2.1", seeds: seeds.to_vec(), trace: Some(0.05) }
}

fn out(text: &str) -> Captured {
    Captured { text: text.into(), total_bytes: text.len() as u64, truncated: false }
}

/// A run that exited by itself (status 0) after sending `messages`.
fn run(messages: Vec<serde_json::Value>) -> RunResult {
    RunResult {
        messages: messages.into_iter().map(Message::parse).collect(),
        stop: Stop::Exited,
        exit: Some(ExitStatus::from_raw(0)),
        stdout: out(""),
        stderr: out(""),
        stacks: None,
        thread_names: Default::default(),
        strays: Vec::new(),
        forged: 0,
        peak_rss_bytes: 20 << 20,
        duration: Duration::from_millis(300),
    }
}

fn ok(index: u64, seed: u64) -> serde_json::Value {
    json!({"type": "run", "index": index, "seed": seed, "ok": true})
}

fn failed(index: u64, seed: u64, message: &str) -> serde_json::Value {
    json!({"type": "run", "index": index, "seed": seed, "ok": false, "message": message, "hint": "lock it",
           "location": {"file": "counter.py", "line": 12, "function": "increment"}})
}

fn done() -> serde_json::Value {
    json!({"type": "done"})
}

fn judge(id: &str, seeds: &[u64], r: &RunResult) -> crate::report::model::TestResult {
    from_run(item(id), &unit(item(id), seeds), r, Path::new("/nowhere/sub"))
}

#[test]
fn every_run_reported_and_done_passes_with_full_points() {
    let t = judge("counter-no-lost-update", &[1, 2], &run(vec![ok(0, 1), ok(1, 2), done()]));
    assert_eq!((t.status, t.runs, t.failed_runs, t.seed), (Status::Passed, 2, 0, Some(1)));
    assert_eq!(t.points, item("counter-no-lost-update").points);
    assert!(t.message.is_none() && t.output.is_none());
}

#[test]
fn a_failed_run_names_its_seed_count_line_and_replay() {
    let r = run(vec![ok(0, 1), failed(1, 2, "lost update: 3990 of 4000"), done()]);
    let t = judge("counter-no-lost-update", &[1, 2], &r);
    assert_eq!((t.status, t.points, t.runs, t.failed_runs, t.seed), (Status::Failed, 0.0, 2, 1, Some(2)));
    let msg = t.message.unwrap();
    assert!(msg.starts_with("lost update: 3990 of 4000 (failed 1 of 2 runs; replay: grade lab-2.1 --only counter-no-lost-update --seed 2 (likely"), "{msg}");
    assert_eq!(t.hint.as_deref(), Some("lock it"));
    assert_eq!(t.location.as_deref(), Some("counter.py:12"));
    // Under the controlled scheduler the replay is exact; a single run carries no replay at all.
    let t = judge("no-overdraft", &[5, 6], &run(vec![failed(0, 5, "overdrawn"), ok(1, 6), done()]));
    assert!(t.message.unwrap().contains("--seed 5 (exact: the controlled scheduler)"));
    let t = judge("counter-basic", &[9], &run(vec![failed(0, 9, "wrong value"), done()]));
    assert_eq!(t.message.as_deref(), Some("wrong value"));
}

#[test]
fn a_tampered_run_wins_over_everything_else() {
    let tampered = json!({"type": "run", "index": 0, "seed": 4, "ok": false, "message": "tampered: settrace(None)",
                          "tampered": ["settrace"], "location": {"file": "counter.py", "line": 3}});
    let r = run(vec![tampered, json!({"type": "error", "message": "boom"}), done()]);
    let t = judge("counter-no-lost-update", &[4], &r);
    assert_eq!((t.status, t.seed, t.points), (Status::Tampered, Some(4), 0.0));
    assert_eq!(t.message.as_deref(), Some("tampered: settrace(None)"));
    assert_eq!(t.location.as_deref(), Some("counter.py:3"));
}

#[test]
fn two_reports_of_one_run_are_a_forgery() {
    let t = judge("counter-no-lost-update", &[1, 2], &run(vec![ok(0, 1), ok(0, 1), ok(1, 2), done()]));
    assert_eq!(t.status, Status::Tampered);
    assert!(t.message.unwrap().contains("two reports of run 0"));
}

#[test]
fn the_harnesss_error_and_an_unreadable_message_are_the_graders_fault() {
    let t = judge("counter-basic", &[1], &run(vec![json!({"type": "error", "message": "harness error: KeyError: 'x'"}), done()]));
    assert_eq!((t.status, t.message.as_deref()), (Status::Error, Some("grader error: harness error: KeyError: 'x'")));
    let t = judge("counter-basic", &[1], &run(vec![json!({"type": "run", "index": "zero", "ok": true}), done()]));
    assert_eq!(t.status, Status::Error);
    assert!(t.message.unwrap().contains("cannot read (a `run` message"));
}

#[test]
fn a_proved_deadlock_names_its_threads_and_counts_as_a_failed_run() {
    let diagnosis = json!({"kind": "deadlock", "summary": "T1 holds a, waits for b; T2 holds b, waits for a",
        "threads": [{"name": "T1", "file": "bank.py", "line": 30, "function": "transfer", "waiting_for": "b", "holding": ["a"]}],
        "cycle": ["a", "b"]});
    let r = run(vec![ok(0, 7), json!({"type": "deadlock", "diagnosis": diagnosis, "index": 1, "seed": 8})]);
    let t = judge("crossed-transfers", &[7, 8, 9], &r);
    assert_eq!((t.status, t.runs, t.failed_runs, t.seed), (Status::Deadlock, 2, 1, Some(8)));
    assert!(t.message.as_deref().unwrap().starts_with("T1 holds a, waits for b"), "{:?}", t.message);
    assert!(t.message.as_deref().unwrap().contains("--seed 8"));
    assert_eq!(t.location.as_deref(), Some("bank.py:30"));
    assert!(t.hint.is_some() && t.diagnosis.is_some());
}

#[test]
fn a_timeout_counts_the_unfinished_run_and_points_at_its_seed() {
    let mut r = run(vec![ok(0, 1)]);
    r.stop = Stop::Timeout;
    r.exit = Some(ExitStatus::from_raw(9));
    r.stacks = Some("Thread 0x01 (most recent call first):\n  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n".into());
    let t = judge("counter-no-lost-update", &[1, 2, 3], &r);
    assert_eq!((t.status, t.runs, t.failed_runs, t.seed), (Status::Timeout, 2, 1, Some(2)));
    assert!(t.message.unwrap().starts_with("did not finish within 15 s (run 2 of 3)"));
    assert_eq!(t.diagnosis.unwrap().threads[0].file, "threading.py");
}

#[test]
fn limits_stop_a_run_as_crashed_with_the_limit_named() {
    for (stop, says) in [
        (Stop::Memory { peak_mb: 900 }, "900 MiB of memory"),
        (Stop::Processes { count: 70 }, "70 processes at once"),
        (Stop::OutputFlood { bytes: 64 << 20 }, "printed 64 MiB of output"),
    ] {
        let mut r = run(vec![]);
        r.stop = stop;
        r.stdout = out("spam");
        let t = judge("counter-basic", &[1], &r);
        assert_eq!(t.status, Status::Crashed);
        assert!(t.message.as_deref().unwrap().contains(says), "{:?}", t.message);
        assert_eq!(t.output.unwrap().stdout, "spam", "a failed run shows its output");
    }
}

#[test]
fn a_run_that_ended_early_or_was_signalled_crashed() {
    let mut r = run(vec![ok(0, 1)]);
    r.exit = Some(ExitStatus::from_raw(1 << 8));
    r.forged = 2;
    let t = judge("counter-basic", &[1], &r);
    assert_eq!(t.status, Status::Crashed);
    let msg = t.message.unwrap();
    assert!(msg.contains("before the check finished") && msg.contains("2 line(s) on the result channel were not the grader's"), "{msg}");
    let mut r = run(vec![ok(0, 1), done()]);
    r.exit = Some(ExitStatus::from_raw(15));
    let t = judge("counter-basic", &[1], &r);
    assert_eq!(t.status, Status::Crashed);
    assert!(t.message.unwrap().contains("killed (signal SIGTERM) by the student's code"));
    // The run's process 1 cannot die of its check process's signal: it says which, and exits 1.
    let mut r = run(vec![ok(0, 1), serde_json::json!({"type": "killed", "signal": 11})]);
    r.exit = Some(ExitStatus::from_raw(1 << 8));
    let t = judge("counter-basic", &[1], &r);
    assert_eq!(t.status, Status::Crashed);
    assert!(t.message.unwrap().contains("the run ended (signal SIGSEGV) before the check finished"));
}

#[test]
fn processes_left_behind_fail_a_run_that_passed() {
    let leaked = json!({"type": "leaked", "processes": [{"pid": 41, "cmdline": "python -c worker"}]});
    let t = judge("counter-basic", &[1], &run(vec![ok(0, 1), leaked, done()]));
    assert_eq!(t.status, Status::Failed);
    assert!(t.message.unwrap().starts_with("1 child process(es) still running after the check: pid 41 `python -c worker`"));
    let strays = json!({"type": "strays", "processes": [{"pid": 42, "cmdline": "sleep 100"}]});
    let mut r = run(vec![ok(0, 1), strays, done()]);
    r.strays = vec![(43, "setsid sleep".into())];
    let t = judge("counter-basic", &[1], &r);
    assert_eq!(t.status, Status::Failed);
    assert!(t.message.unwrap().starts_with("2 process(es) outlived the check"));
    let zombies = json!({"type": "zombies", "processes": [{"pid": 44, "cmdline": ""}, {"pid": 45, "cmdline": ""}]});
    let t = judge("counter-basic", &[1], &run(vec![ok(0, 1), zombies, done()]));
    assert!(t.message.unwrap().ends_with("(zombies): pid 44, 45"));
    let mut r = run(vec![ok(0, 1), done()]);
    r.stderr = out("resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown");
    let t = judge("counter-basic", &[1], &r);
    assert_eq!(t.status, Status::Failed);
    assert!(t.message.unwrap().contains("resource tracker reported a leak"));
}

#[test]
fn a_missing_run_report_is_a_crash_not_a_pass() {
    let t = judge("counter-no-lost-update", &[1, 2], &run(vec![ok(0, 1), done()]));
    assert_eq!((t.status, t.points), (Status::Crashed, 0.0));
    assert_eq!(t.message.as_deref(), Some("only 1 of 2 runs reported"));
}
