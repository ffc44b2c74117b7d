//! One trial per lab x {solution, starter, each fixture}: the course's own labs graded against their
//! expectations (solution: full marks; starter: compiles, below 50; fixture: its expect.yaml).
//! Run one lab with `cargo test --test labs -- lab-2.1`.
use grade::course::Course;
use grade::grading::Grader;
use grade::python::Python;
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
    for t in verify::trials(&grader.course, &labs).expect("trials") {
        let g = grader.clone();
        trials.push(Trial::test(t.name(), move || verify::run_trial(&g, &t).map(|_| ()).map_err(Failed::from)));
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    libtest_mimic::run(&args, trials).exit();
}
