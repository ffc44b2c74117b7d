//! The judge process, through the protocol the grader speaks to it: inputs planned per seed, verdicts
//! from observations alone, and every way a judgement can go wrong ending as a failure or the judge's own
//! error, never as a pass.
use grade::judge::{apply, Judges};
use grade::python::Python;
use grade::runner::message::{Message, RunReport};
use serde_json::{json, Value};
use std::path::Path;

const JUDGE: &str = r#"
def plan_sum(j):
    return {"xs": [j.rng.randrange(100) for _ in range(j.params["n"])]}

def sum(j):
    total = 0
    for x in j.inputs["xs"]:
        total += x
    j.expect_eq(j.obs["total"], total, "the total", hint="add them all")

def pair(j):
    j.expect_eq(j.obs["pair"], (1, 2), "the pair")

def shape(j):
    j.expect(len(j.obs["items"]) == 3, "three items")

def loud(j):
    print("a judgement's print never corrupts the replies")
"#;

fn judges(dir: &Path) -> (Judges, std::path::PathBuf, std::path::PathBuf) {
    let harness = dir.join("harness");
    grade::harness::install(&harness).unwrap();
    let checks = dir.join("lab").join("checks.py");
    std::fs::create_dir_all(checks.parent().unwrap()).unwrap();
    std::fs::write(&checks, "").unwrap();
    std::fs::write(dir.join("lab").join("judge.py"), JUDGE).unwrap();
    (Judges::new(&harness), checks, Python::resolve(None).unwrap().executable)
}

fn run(index: u64, ok: bool, observations: Value) -> Message {
    Message::parse(json!({"type": "run", "index": index, "seed": 0, "ok": ok, "message": if ok { Value::Null } else { json!("it raised") },
           "observations": observations}))
}

fn report(m: &Message) -> &RunReport {
    match m {
        Message::Run(r) => r,
        other => panic!("not a run report: {other:?}"),
    }
}

#[test]
fn inputs_are_planned_per_seed_and_judged_against_what_was_planned() {
    let dir = tempfile::tempdir().unwrap();
    let (judges, checks, python) = judges(dir.path());
    let judge = judges.of(&checks, &python, false).unwrap().expect("a judge beside checks.py");
    assert!(judge.judges("sum") && judge.judges("pair") && !judge.judges("plan_sum"));
    let params = json!({"n": 5});
    let a = judge.plan("sum", &params, 1).unwrap().unwrap();
    assert_eq!(judge.plan("sum", &params, 1).unwrap().unwrap(), a, "the same seed plans the same inputs");
    assert_ne!(judge.plan("sum", &params, 2).unwrap().unwrap(), a);
    assert_eq!(judge.plan("pair", &params, 1).unwrap(), None, "no plan_pair: no inputs");
    let total: u64 = a["xs"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).sum();
    let mut messages = vec![run(0, true, json!({"total": total})), run(1, true, json!({"total": total + 1})), run(2, false, json!(null))];
    let inputs = vec![a.clone(), a.clone(), a];
    apply(&judge, "sum", &params, &[1, 1, 1], &inputs, &mut messages).unwrap();
    let [a, b, c] = [report(&messages[0]), report(&messages[1]), report(&messages[2])];
    assert!(a.ok);
    assert!(!b.ok);
    assert_eq!(b.message.as_deref(), Some(format!("the total: expected {total}, got {}", total + 1).as_str()));
    assert_eq!(b.hint.as_deref(), Some("add them all"));
    assert_eq!(c.message.as_deref(), Some("it raised"), "a run the agent failed keeps its own verdict");
    assert!([a, b, c].iter().all(|m| m.observations.is_none() && m.judged));
}

#[test]
fn a_run_passes_only_on_observations_the_judgement_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (judges, checks, python) = judges(dir.path());
    let judge = judges.of(&checks, &python, false).unwrap().unwrap();
    let verdict = |check: &str, obs: Value| {
        let mut m = vec![run(0, true, obs)];
        apply(&judge, check, &json!({}), &[0], &[Value::Null], &mut m).unwrap();
        (report(&m[0]).ok, report(&m[0]).message.clone().unwrap_or_default())
    };
    assert_eq!(verdict("pair", json!({"pair": [1, 2]})), (true, String::new()), "a tuple arrives as a list");
    let (ok, why) = verdict("pair", json!({}));
    assert!(!ok && why.contains("recorded no `pair`"), "{why}");
    let (ok, why) = verdict("shape", json!({"items": 7}));
    assert!(!ok && why.contains("could not be judged (TypeError"), "{why}");
    let (ok, why) = verdict("shape", json!({"items": "a string of three"}));
    assert!(!ok, "{why}");
    assert_eq!(verdict("loud", json!({})), (true, String::new()));
    // A report without its run number cannot be matched with a seed: not the grader's.
    let mut m = vec![Message::parse(json!({"type": "run", "ok": true, "observations": {"pair": [1, 2]}}))];
    apply(&judge, "pair", &json!({}), &[0], &[Value::Null], &mut m).unwrap();
    assert!(!report(&m[0]).ok);
}

#[test]
fn the_judges_own_faults_are_errors_not_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (judges, checks, python) = judges(dir.path());
    let judge = judges.of(&checks, &python, false).unwrap().unwrap();
    let mut m = vec![run(0, true, json!({}))];
    let err = apply(&judge, "no_such_check", &json!({}), &[0], &[Value::Null], &mut m).unwrap_err();
    assert!(err.contains("has no no_such_check"), "{err}");
    std::fs::write(dir.path().join("lab").join("judge.py"), "raise ImportError('broken judge')").unwrap();
    let fresh = Judges::new(&dir.path().join("harness"));
    let err = fresh.of(&checks, &python, false).err().expect("a judge that cannot load");
    assert!(err.contains("broken judge"), "{err}");
    std::fs::remove_file(dir.path().join("lab").join("judge.py")).unwrap();
    assert!(Judges::new(&dir.path().join("harness")).of(&checks, &python, false).unwrap().is_none(), "no judge.py: not split");
}

#[test]
fn no_number_json_cannot_carry_is_lost_on_the_way() {
    // A NaN or an infinity in an observation (or any message) would make a line the grader cannot read:
    // the run's whole report would be lost. They cross as their names; an integer past 64 bits and a
    // float's last digit cross as they are.
    let dir = tempfile::tempdir().unwrap();
    grade::harness::install(dir.path()).unwrap();
    let python = Python::resolve(None).unwrap().executable;
    let script = r#"
import json, grade_protocol, grade_harness
v = {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "t": (1, 2), "f": 0.9090909090909091}
print(json.dumps(grade_protocol.as_json(v), allow_nan=False))
print(json.dumps(grade_harness._clean(v), allow_nan=False))
"#;
    let out = std::process::Command::new(python).args(["-S", "-c", script]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).expect("JSON the grader reads");
        assert_eq!(v["nan"], "nan");
        assert_eq!(v["inf"], json!(["inf", "-inf"]));
        assert_eq!(v["t"], json!([1, 2]));
        assert_eq!(v["f"].as_f64(), Some(0.9090909090909091), "{line}");
    }
}
