//! `verify`'s decisions, one per way a trial can go, on hand-built reports.
use super::verify::*;
use crate::report::model::{Report, Status, TestResult, Timing};
use std::time::Duration;

fn test(id: &str, kind: &str, status: Status, points: f64, max: f64, core: bool) -> TestResult {
    let mut t: TestResult = serde_json::from_value(serde_json::json!({
        "id": id, "name": id, "category": "completion_quality", "kind": kind, "status": status.as_str(),
        "points": points, "max_points": max, "duration_ms": 5, "runs": 1, "failed_runs": 0, "seed": null,
        "message": format!("{id} said so"), "hint": null, "location": null, "diagnosis": null,
        "measurement": null, "visibility": "visible"
    }))
    .unwrap();
    t.core = core;
    t
}

fn report(score: f64, compiled: bool, tests: Vec<TestResult>) -> Report {
    let mut r: Report = serde_json::from_value(serde_json::json!({
        "schema": "grade-report/1", "lab": "lab-x", "title": "A lab", "submission": {"path": "sub", "sha256": "0123"},
        "grader": {"version": "0", "python": "3.11", "seed": 7}, "duration_ms": 1500,
        "compile": {"ok": compiled, "errors": []}, "score": score, "max_score": 100.0, "groups": [], "categories": [],
        "tests": []
    }))
    .unwrap();
    r.tests = tests;
    r
}

fn spec(dir: &std::path::Path, budget: Option<&str>) -> crate::spec::Spec {
    std::fs::write(dir.join("checks.py"), "def c(ctx):\n    pass\n").unwrap();
    let cats = ["completion_quality", "performance", "problem_solving", "quizzes", "design", "best_practices"];
    let mut yaml = format!("id: lab-x\ntitle: X\nfiles: [a.py]\nchecks: checks.py\n{}items:\n", budget.unwrap_or(""));
    for (i, c) in cats.iter().enumerate() {
        yaml.push_str(&format!("  - {{id: i{i}, name: n, category: {c}, kind: deterministic, points: 1, check: c}}\n"));
    }
    let path = dir.join("lab-x.yaml");
    std::fs::write(&path, yaml).unwrap();
    crate::spec::load(&path).unwrap()
}

#[test]
fn a_solution_needs_every_automatic_item_in_full() {
    let full = report(100.0, true, vec![test("a", "deterministic", Status::Passed, 4.0, 4.0, false)]);
    assert!(solution_problems(&full).is_empty());
    let partial = report(96.0, true, vec![test("a", "deterministic", Status::Failed, 0.0, 4.0, false)]);
    let p = solution_problems(&partial);
    assert!(p.iter().any(|l| l.contains("not full marks: a failed")), "{p:?}");
    assert!(p.iter().any(|l| l.contains("score 96")), "{p:?}");
}

#[test]
fn a_solution_item_left_inconclusive_contradicts_nothing() {
    let r = report(80.0, true, vec![
        test("a", "deterministic", Status::Passed, 4.0, 4.0, false),
        test("speed", "throughput", Status::Inconclusive, 0.0, 20.0, false),
    ]);
    assert!(solution_problems(&r).is_empty(), "{:?}", solution_problems(&r));
}

#[test]
fn a_solution_must_compile_and_leave_design_pending() {
    let r = report(100.0, false, vec![test("d", "design", Status::Passed, 5.0, 5.0, false)]);
    let p = solution_problems(&r);
    assert!(p.iter().any(|l| l.starts_with("does not compile")), "{p:?}");
    assert!(p.iter().any(|l| l.contains("not full marks: d")), "{p:?}");
}

#[test]
fn a_starter_compiles_and_stays_below_the_bar() {
    assert!(starter_problems(&report(10.0, true, vec![])).is_empty());
    assert!(starter_problems(&report(STARTER_MAX, true, vec![]))[0].contains("must stay below"));
    assert!(starter_problems(&report(0.0, false, vec![]))[0].contains("must compile"));
}

#[test]
fn a_fixture_gets_its_statuses_messages_and_score() {
    let dir = tempfile::tempdir().unwrap();
    let s = spec(dir.path(), None);
    let expect: Expect = serde_json::from_value(serde_json::json!({
        "description": "d", "tests": {"i0": "failed", "i1": "passed"}, "message_contains": {"i0": "I0 SAID"},
        "score": {"min": 10.0, "max": 50.0}
    }))
    .unwrap();
    // Messages match whatever their case.
    let lost: Expect = serde_json::from_value(serde_json::json!({
        "description": "d", "message_contains": {"i0": "lost update"}
    }))
    .unwrap();
    let good = report(30.0, true, vec![
        test("i0", "deterministic", Status::Failed, 0.0, 1.0, false),
        test("i1", "deterministic", Status::Passed, 1.0, 1.0, false),
    ]);
    assert!(fixture_problems(&s, &good, &expect).is_empty(), "{:?}", fixture_problems(&s, &good, &expect));
    let bad = report(60.0, true, vec![test("i0", "deterministic", Status::Passed, 1.0, 1.0, false)]);
    let p = fixture_problems(&s, &bad, &expect);
    assert!(p.iter().any(|l| l.starts_with("i0: expected failed, got i0 passed")), "{p:?}");
    assert!(p.iter().any(|l| l == "i1: missing from the report"), "{p:?}");
    assert!(p.iter().any(|l| l.starts_with("score 60 outside")), "{p:?}");
    assert!(!p.iter().any(|l| l.contains("message should contain")), "{p:?}");
    let p = fixture_problems(&s, &bad, &lost);
    assert_eq!(p, vec!["i0: message should contain \"lost update\", was \"i0 said so\"".to_string()]);
}

#[test]
fn a_fixture_naming_an_unknown_item_is_a_problem_and_inconclusive_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let s = spec(dir.path(), None);
    let expect: Expect = serde_json::from_value(serde_json::json!({
        "description": "d", "tests": {"nope": "failed", "i0": "failed"}, "message_contains": {"i0": "lost update"},
        "score": {"max": 50.0}
    }))
    .unwrap();
    // i0 inconclusive and core: neither its status, its message nor the score's ceiling can be judged.
    let r = report(90.0, true, vec![test("i0", "stress", Status::Inconclusive, 0.0, 1.0, true)]);
    assert_eq!(fixture_problems(&s, &r, &expect), vec!["expect.yaml names `nope`, which is not an item of lab-x".to_string()]);
}

#[test]
fn run_time_sums_every_items_runs() {
    let mut a = test("a", "deterministic", Status::Passed, 1.0, 1.0, false);
    a.timing = Some(Timing { run_ms: 1200, start_ms: 40 });
    let mut b = test("b", "stress", Status::Failed, 0.0, 1.0, false);
    b.timing = Some(Timing { run_ms: 300, start_ms: 40 });
    let c = test("c", "quiz", Status::Passed, 1.0, 1.0, false);
    assert_eq!(run_time(&report(0.0, true, vec![a, b, c])), Duration::from_millis(1500));
}

#[test]
fn a_lab_is_held_to_its_budget_and_must_have_one() {
    let dir = tempfile::tempdir().unwrap();
    let none = spec(dir.path(), None);
    assert!(budget_problem(&none, Duration::from_secs(1)).unwrap_err().contains("no `budget_s`"));
    let dir = tempfile::tempdir().unwrap();
    let ten = spec(dir.path(), Some("budget_s: 10\n"));
    assert!(budget_problem(&ten, Duration::from_secs(9)).is_ok());
    let over = budget_problem(&ten, Duration::from_millis(10_500)).unwrap_err();
    assert!(over.contains("10.5 s in runs, over their budget of 10 s"), "{over}");
}
