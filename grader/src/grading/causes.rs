//! Why items failed: the kind of failure (which hint fits) and the root cause (which items failed for the
//! same reason: one wait-for cycle or lost wake-up, one exception at one line, one kind of leak).
//!
//! A root cause is named by what the student's code did, not by one run's details: a deadlock by the lines
//! its threads wait at (five philosophers or six, whichever thread the report starts from), a hang by the
//! lines the threads are stuck at, an exception by its type and line. Items that fail any other way (a
//! wrong result) each have a cause of their own.
use crate::report::model::{Status, TestResult};
use crate::spec::{Failure, Kind};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Leaks, by what was left behind and the words that say so (the harness's, and the labs' checks').
const LEAKS: &[(&str, &[&str])] = &[
    ("processes", &["still running after the check", "outlived the check", "were still alive", "left behind"]),
    ("zombies", &["never joined", "zombie"]),
    ("shared-memory", &["/dev/shm", "resource tracker"]),
    ("descriptors", &["no free file descriptor"]),
];

const HANGS: &[&str] = &["did not return within", "did not finish within", "still running after", "is stuck"];

fn leak_of(message: &str) -> Option<&'static str> {
    LEAKS.iter().find(|(_, words)| words.iter().any(|w| message.contains(w))).map(|(what, _)| *what)
}

/// The exception's type in a message the harness wrote for one (`thread w-0 raised KeyError: 3 (at
/// bank.py:20 in transfer)`), when the message says where in the student's files it was raised.
fn exception_of(t: &TestResult) -> Option<String> {
    let at = t.location.as_deref()?;
    let message = t.message.as_deref()?;
    let head = &message[..message.find(&format!(" (at {at} in "))?];
    let head = head.rsplit(" raised ").next().unwrap_or(head);
    let name = head.split(':').next().unwrap_or("").trim();
    let name = name.rsplit(' ').next().unwrap_or(name);
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')).then(|| name.to_string())
}

fn diagnosis_kind(t: &TestResult) -> &str {
    t.diagnosis.as_ref().map(|d| d.kind.as_str()).unwrap_or("")
}

/// How a failed item failed; None for an item that passed, was not run, is the grader's error, could not
/// be measured, or tampered (its own message says it all).
pub fn failure(t: &TestResult) -> Option<Failure> {
    let message = t.message.as_deref().unwrap_or("");
    match t.status {
        Status::Deadlock => Some(match diagnosis_kind(t) {
            "lost_wakeup" | "async_hang" => Failure::LostWakeup,
            _ => Failure::Deadlock,
        }),
        Status::Timeout => Some(Failure::Timeout),
        Status::Crashed => Some(Failure::Crash),
        Status::Failed => Some(match diagnosis_kind(t) {
            "potential_deadlock" | "deadlock" => Failure::Deadlock,
            "lost_wakeup" | "async_hang" => Failure::LostWakeup,
            "async_timeout" => Failure::Timeout,
            _ if matches!(t.kind, Kind::Throughput | Kind::Memory) && t.measurement.is_some() => Failure::Slow,
            _ if leak_of(message).is_some() => Failure::Leak,
            _ if exception_of(t).is_some() || message.contains("sys.exit()") => Failure::Crash,
            _ if HANGS.iter().any(|w| message.contains(w)) => Failure::Timeout,
            _ => Failure::WrongResult,
        }),
        _ => None,
    }
}

/// The lines a diagnosis's threads wait at (a thread joining the others is left out: it waits for them).
fn wait_sites(t: &TestResult) -> BTreeSet<String> {
    let Some(d) = &t.diagnosis else { return BTreeSet::new() };
    d.threads
        .iter()
        .filter(|th| th.line > 0 && !th.waiting_for.as_deref().is_some_and(|w| w.ends_with("(join)")))
        .map(|th| format!("{}:{}", th.file, th.line))
        .collect()
}

/// (class, what identifies the cause within it) for an item that did not pass.
fn signature(t: &TestResult) -> Option<(&'static str, String)> {
    if t.status == Status::Tampered {
        return Some(("tampering", t.location.clone().or_else(|| t.message.clone()).unwrap_or_default()));
    }
    let failure = failure(t)?;
    if t.kind == Kind::Compile {
        return Some(("compile", t.message.clone().unwrap_or_default()));
    }
    let sites = wait_sites(t);
    let joined = || sites.iter().cloned().collect::<Vec<_>>().join(" ");
    let message = t.message.as_deref().unwrap_or("");
    Some(match failure {
        Failure::Deadlock if !sites.is_empty() => ("deadlock", joined()),
        Failure::LostWakeup | Failure::Timeout if !sites.is_empty() => ("hang", joined()),
        Failure::Crash => match exception_of(t) {
            Some(name) => ("exception", format!("{name} at {}", t.location.as_deref().unwrap_or(""))),
            // Stopped, or exited early: the same words for the same way of ending (figures aside).
            None => ("crash", message.split(" (").next().unwrap_or(message).replace(|c: char| c.is_ascii_digit(), "#")),
        },
        Failure::Leak => ("leak", leak_of(message).unwrap_or("").to_string()),
        _ => ("failure", t.id.clone()),
    })
}

/// A short, stable id for a cause: its class and eight hex digits of a digest of what identifies it.
fn id(class: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{class}\n{key}").as_bytes());
    format!("{class}-{}", digest[..4].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Gives every item that did not pass its root-cause id; the others have none.
pub fn assign(tests: &mut [TestResult]) {
    for t in tests {
        t.root_cause = signature(t).map(|(class, key)| id(class, &key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Diagnosis, ThreadInfo};
    use crate::spec::{Category, Visibility};

    fn result(id: &str, status: Status, message: &str) -> TestResult {
        TestResult {
            id: id.into(), name: id.into(), category: Category::CompletionQuality, kind: Kind::Stress, status,
            points: 0.0, max_points: 5.0, duration_ms: 0, runs: 1, failed_runs: 1, seed: None,
            message: Some(message.into()), hint: None, location: None, diagnosis: None, measurement: None,
            visibility: Visibility::Visible, findings: vec![], output: None, peak_rss_kb: None, timing: None,
            manual: None, root_cause: None, core: false,
        }
    }

    fn thread(name: &str, line: u64, waiting_for: &str) -> ThreadInfo {
        ThreadInfo { name: name.into(), file: "philosophers.py".into(), line, function: "philosopher".into(),
            waiting_for: Some(waiting_for.into()), holding: vec![] }
    }

    fn waiting(id: &str, kind: &str, threads: Vec<ThreadInfo>) -> TestResult {
        let mut t = result(id, Status::Deadlock, "deadlock: ...");
        t.diagnosis = Some(Diagnosis { kind: kind.into(), summary: "...".into(), threads, cycle: vec![] });
        t
    }

    #[test]
    fn one_cycle_is_one_cause_whatever_its_size_and_start() {
        let five = waiting("a", "deadlock", (1..=5).map(|i| thread(&format!("Thread-{i}"), 17, "forks[1]")).collect());
        let six = waiting("b", "deadlock", (7..=12).rev().map(|i| thread(&format!("Thread-{i}"), 17, "forks[0] #2")).collect());
        let elsewhere = waiting("c", "deadlock", vec![thread("T", 30, "x"), thread("U", 31, "y")]);
        let hang = waiting("d", "lost_wakeup", vec![thread("T", 17, "q.get()")]);
        let mut tests = vec![five, six, elsewhere, hang, result("e", Status::Passed, "")];
        assign(&mut tests);
        let ids: Vec<Option<&str>> = tests.iter().map(|t| t.root_cause.as_deref()).collect();
        assert_eq!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_ne!(ids[0], ids[3], "a lost wake-up is not the deadlock at the same line");
        assert!(ids[0].unwrap().starts_with("deadlock-") && ids[3].unwrap().starts_with("hang-"));
        assert_eq!(ids[4], None, "a passed item has no cause");
    }

    #[test]
    fn a_joining_thread_does_not_split_a_hang() {
        let os = waiting("a", "lost_wakeup", vec![thread("C-1", 18, "q.get() (queue.Queue, pc.py:9)")]);
        let controlled = waiting("b", "lost_wakeup", vec![
            thread("MainThread", 29, "thread C-4 (consumer) to finish (join)"),
            thread("C-4", 18, "q.get() (queue.Queue, pc.py:9)"),
        ]);
        let mut tests = vec![os, controlled];
        assign(&mut tests);
        assert_eq!(tests[0].root_cause, tests[1].root_cause);
    }

    #[test]
    fn exceptions_group_by_type_and_line_and_wrong_results_stand_alone() {
        let mut a = result("a", Status::Failed, "thread worker-0 raised KeyError: 3 (at bank.py:20 in transfer)");
        a.location = Some("bank.py:20".into());
        let mut b = result("b", Status::Failed, "KeyError: 'x' (at bank.py:20 in transfer)");
        b.location = Some("bank.py:20".into());
        let mut c = result("c", Status::Failed, "ValueError: no (at bank.py:20 in transfer)");
        c.location = Some("bank.py:20".into());
        let d = result("d", Status::Failed, "value after 6 threads: expected 900, got 345");
        let e = result("e", Status::Failed, "value after 6 threads: expected 900, got 345");
        assert_eq!(exception_of(&a).as_deref(), Some("KeyError"));
        assert_eq!(failure(&a), Some(Failure::Crash));
        assert_eq!(failure(&d), Some(Failure::WrongResult));
        let mut tests = vec![a, b, c, d, e];
        assign(&mut tests);
        assert_eq!(tests[0].root_cause, tests[1].root_cause);
        assert_ne!(tests[0].root_cause, tests[2].root_cause);
        assert_ne!(tests[3].root_cause, tests[4].root_cause);
    }

    #[test]
    fn failures_are_told_apart_for_their_hints() {
        let leak = result("a", Status::Failed, "2 child process(es) still running after the check: pid 3");
        let zombie = result("b", Status::Failed, "1 child process(es) finished but were never joined (zombies): pid 4");
        let hang = result("c", Status::Failed, "run() did not return within 1.0 s");
        assert_eq!(failure(&leak), Some(Failure::Leak));
        assert_eq!(failure(&zombie), Some(Failure::Leak));
        assert_eq!(failure(&hang), Some(Failure::Timeout));
        assert_eq!(failure(&result("d", Status::Crashed, "stopped")), Some(Failure::Crash));
        assert_eq!(failure(&waiting("e", "async_hang", vec![])), Some(Failure::LostWakeup));
        let mut slow = result("f", Status::Failed, "0.5 s per call");
        slow.kind = Kind::Throughput;
        slow.measurement = Some(crate::report::model::Measurement {
            unit: "s".into(), value: 1.0, reference_value: 0.5, ratio: 0.5, target_ratio: 0.9, floor_ratio: 0.2,
            samples: vec![], reference_samples: vec![], ..Default::default()
        });
        assert_eq!(failure(&slow), Some(Failure::Slow));
        assert_eq!(failure(&result("g", Status::Inconclusive, "")), None);
    }
}
