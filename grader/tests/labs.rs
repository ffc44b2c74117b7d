//! One trial per lab x {solution, starter, each fixture}: the course's own labs graded against their
//! expectations (solution: full marks; starter: compiles, below 50; fixture: its expect.yaml).
//! After the trials: the slowest labs, and each lab whose every trial ran against its `budget_s` (the run
//! fails when one is over it or has none). Run one lab with `cargo test --test labs -- lab-2.1`.
use grade::course::Course;
use grade::grading::Grader;
use grade::python::Python;
use grade::spec::Kind;
use grade::verify;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let course = Course::locate(Some(&root.join("specs")), root).expect("the course's specs/");
    let python = Python::resolve(None).expect("a Python interpreter");
    let grader = Arc::new(Grader { course, python, managed: Default::default(), jobs: 2 });
    let labs = grader.course.labs().expect("labs");
    let mut trials = Vec::new();
    for lab in &labs {
        let g = grader.clone();
        let id = lab.clone();
        trials.push(Trial::test(format!("{lab}::spec"), move || {
            g.course.load(&id).map(|_| ()).map_err(|e| Failed::from(e.to_string()))
        }));
    }
    for lab in &labs {
        let g = grader.clone();
        let id = lab.clone();
        trials.push(Trial::test(format!("{lab}::judged"), move || judged(&g, &id).map_err(Failed::from)));
    }
    // What each lab's trials spent in runs, and how many of them ran (a filtered run leaves some out).
    let spent: Arc<Mutex<BTreeMap<String, (Duration, usize)>>> = Default::default();
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    for t in verify::trials(&grader.course, &labs).expect("trials") {
        let g = grader.clone();
        let spent = spent.clone();
        *total.entry(t.lab.clone()).or_default() += 1;
        trials.push(Trial::test(t.name(), move || {
            let (report, verdict) = verify::judge_trial(&g, &t);
            let mut book = spent.lock().unwrap();
            let entry = book.entry(t.lab.clone()).or_default();
            entry.0 += report.as_ref().map(verify::run_time).unwrap_or_default();
            entry.1 += 1;
            verdict.map_err(Failed::from)
        }));
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let conclusion = libtest_mimic::run(&args, trials);
    let over = budgets(&grader, &spent.lock().unwrap(), &total);
    if conclusion.has_failed() {
        conclusion.exit();
    }
    std::process::exit(if over { 1 } else { 0 });
}

/// The slowest labs, and every lab whose trials all ran held to its budget (`budget_s`): true when one went
/// over or has none.
fn budgets(g: &Grader, spent: &BTreeMap<String, (Duration, usize)>, total: &BTreeMap<String, usize>) -> bool {
    if spent.is_empty() {
        return false;
    }
    let mut rows: Vec<(&String, &(Duration, usize))> = spent.iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0));
    println!("\nslowest labs (seconds their trials spent in runs, against the budget in the spec):");
    let mut over = false;
    for (lab, (d, n)) in rows {
        let spec = g.course.load(lab).expect("the spec loaded before");
        let budget = spec.budget.map(|b| format!("{:.0}", b.as_secs_f64())).unwrap_or_else(|| "none".into());
        println!("  {lab:<28} {:>7.1} s  budget {budget:>5}  ({n} trials)", d.as_secs_f64());
        // A budget covers the whole trial set: judged only when every trial of the lab ran.
        if total.get(lab) == Some(n) {
            if let Err(why) = verify::budget_problem(&spec, *d) {
                println!("  OVER {why}");
                over = true;
            }
        }
    }
    over
}

/// Every check whose verdict is a run's (deterministic, stress, deadlock, memory) has its judgement in
/// the lab's judge.py, which the judge process knows by name: no verdict of the course's own labs is
/// given in the submission's process.
fn judged(g: &Grader, lab: &str) -> Result<(), String> {
    let spec = g.course.load(lab).map_err(|e| e.to_string())?;
    let checks: Vec<String> = spec
        .items
        .iter()
        .filter(|i| matches!(i.kind(), Kind::Deterministic | Kind::Stress | Kind::Deadlock | Kind::Memory))
        .filter_map(|i| i.check.clone())
        .collect();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    grade::harness::install(dir.path()).map_err(|e| e.to_string())?;
    let judges = grade::judge::Judges::new(dir.path());
    let judge = judges.of(&spec.checks, &g.python.executable, false)?;
    let missing: Vec<&String> = checks.iter().filter(|c| !judge.as_ref().is_some_and(|j| j.judges(c))).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{lab}: no judgement in judge.py for {missing:?}"))
    }
}
