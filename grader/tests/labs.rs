//! One trial per lab x {solution, starter, each fixture}: the course's own labs graded against their
//! expectations (solution: full marks; starter: compiles, below 50; fixture: its expect.yaml).
//! Run one lab with `cargo test --test labs -- lab-2.1`.
use grade::course::Course;
use grade::grading::Grader;
use grade::python::Python;
use grade::spec::Kind;
use grade::verify;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use std::sync::Arc;

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
    for t in verify::trials(&grader.course, &labs).expect("trials") {
        let g = grader.clone();
        trials.push(Trial::test(t.name(), move || verify::run_trial(&g, &t).map(|_| ()).map_err(Failed::from)));
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    libtest_mimic::run(&args, trials).exit();
}

/// Every check whose verdict is a run's (deterministic, stress, deadlock, memory) has its judgement in
/// the lab's judge.py, which the judge process knows by name: no verdict of the course's own labs is
/// given in the submission's process.
fn judged(g: &Grader, lab: &str) -> Result<(), String> {
    let spec = g.course.load(lab).map_err(|e| e.to_string())?;
    let checks: Vec<String> = spec
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Deterministic | Kind::Stress | Kind::Deadlock | Kind::Memory))
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
