//! A lab's own expectations: the solution scores full marks, the starter does not, each fixture gets
//! the verdicts its expect.yaml names. Used by `grade check` and by the test suite (one trial each).
use crate::course::Course;
use crate::error::{Error, Result};
use crate::grading::Grader;
use crate::report::model::{Report, Status};
use crate::spec::{self, Kind, Spec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The starter must stay below this total.
pub const STARTER_MAX: f64 = 50.0;

#[derive(Debug, Clone)]
pub enum Case {
    Solution,
    Starter,
    Fixture(String),
}

#[derive(Debug, Clone)]
pub struct Trial {
    pub lab: String,
    pub case: Case,
    pub dir: PathBuf,
}

impl Trial {
    pub fn name(&self) -> String {
        match &self.case {
            Case::Solution => format!("{}::solution", self.lab),
            Case::Starter => format!("{}::starter", self.lab),
            Case::Fixture(f) => format!("{}::fixture::{f}", self.lab),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub description: String,
    #[serde(default)]
    pub compile: Option<CompileExpect>,
    #[serde(default)]
    pub tests: BTreeMap<String, Status>,
    #[serde(default)]
    pub message_contains: BTreeMap<String, String>,
    #[serde(default)]
    pub score: Option<Bounds>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum CompileExpect {
    Ok,
    Error,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Every trial of the given labs (all labs when empty), in course order.
pub fn trials(course: &Course, labs: &[String]) -> Result<Vec<Trial>> {
    let labs = if labs.is_empty() { course.labs()? } else { labs.to_vec() };
    let mut out = Vec::new();
    for lab in labs {
        out.push(Trial { lab: lab.clone(), case: Case::Solution, dir: course.solution(&lab) });
        out.push(Trial { lab: lab.clone(), case: Case::Starter, dir: course.starter(&lab) });
        for (name, dir) in course.fixtures(&lab) {
            out.push(Trial { lab: lab.clone(), case: Case::Fixture(name), dir });
        }
    }
    Ok(out)
}

pub fn load_expect(dir: &Path) -> Result<Expect> {
    let path = dir.join("expect.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    spec::parse_yaml(&path, &text)
}

/// Grades a trial's submission and compares the report with what it must get.
/// `Err` carries every mismatch, one per line.
pub fn run_trial(grader: &Grader, trial: &Trial) -> std::result::Result<Report, String> {
    let (report, verdict) = judge_trial(grader, trial);
    verdict.and(report.ok_or_else(|| "no report".to_string()))
}

/// A trial's report (when grading got that far) and whether it is what the trial must get (`Err`: every
/// mismatch, one per line).
pub fn judge_trial(grader: &Grader, trial: &Trial) -> (Option<Report>, std::result::Result<(), String>) {
    let spec = match grader.course.load(&trial.lab) {
        Ok(s) => s,
        Err(e) => return (None, Err(e.to_string())),
    };
    if !trial.dir.is_dir() {
        return (None, Err(format!("{} is missing", trial.dir.display())));
    }
    let expect = match &trial.case {
        Case::Fixture(_) => match load_expect(&trial.dir) {
            Ok(e) => Some(e),
            Err(e) => return (None, Err(e.to_string())),
        },
        _ => None,
    };
    let mut report = match grader.grade(&spec, &trial.dir, None) {
        Ok(r) => r,
        Err(e) => return (None, Err(e.to_string())),
    };
    // A measurement the machine spoiled is taken again; one that stays inconclusive contradicts nothing.
    if let Err(e) = grader.remeasure(&spec, &trial.dir, &mut report, 2) {
        return (Some(report), Err(e.to_string()));
    }
    let problems = match (&trial.case, &expect) {
        (Case::Solution, _) => solution_problems(&report),
        (Case::Starter, _) => starter_problems(&report),
        (Case::Fixture(_), Some(e)) => fixture_problems(&spec, &report, e),
        (Case::Fixture(_), None) => vec!["no expect.yaml".into()],
    };
    let verdict = if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) };
    (Some(report), verdict)
}

/// What a trial spent in runs of the harness: every item's run time (interpreter start-up included), summed.
/// Waiting for the machine (a timed item's exclusive turn, a quiet machine) and judging are not counted.
pub fn run_time(r: &Report) -> std::time::Duration {
    std::time::Duration::from_millis(r.tests.iter().filter_map(|t| t.timing).map(|t| t.run_ms).sum())
}

/// A lab's trials against its budget (`budget_s` in its spec): `Err` when it has none or went over it.
pub fn budget_problem(spec: &Spec, spent: std::time::Duration) -> std::result::Result<(), String> {
    match spec.budget {
        None => Err(format!("{}: no `budget_s` in {}: give the lab's trials a budget", spec.id, spec.path.display())),
        Some(b) if spent > b => Err(format!(
            "{}: its trials spent {:.1} s in runs, over their budget of {:.0} s (`budget_s` in {}): make the slow \
             trials cheaper (fewer repetitions or samples, shorter timeouts) or raise the budget on purpose",
            spec.id,
            spent.as_secs_f64(),
            b.as_secs_f64(),
            spec.path.display()
        )),
        Some(_) => Ok(()),
    }
}

fn describe(t: &crate::report::model::TestResult) -> String {
    format!("{} {} {}/{}: {}", t.id, t.status.as_str(), t.points, t.max_points, t.message.as_deref().unwrap_or(""))
}

fn inconclusive(r: &Report) -> bool {
    r.tests.iter().any(|t| t.status == Status::Inconclusive)
}

pub fn solution_problems(r: &Report) -> Vec<String> {
    let mut p = Vec::new();
    if !r.compile.ok {
        p.push(format!("does not compile: {:?}", r.compile.errors));
    }
    for t in &r.tests {
        let automatic = !matches!(t.kind, Kind::Design | Kind::Manual);
        if t.status == Status::Inconclusive {
            continue;
        }
        let ok = if automatic { t.status == Status::Passed } else { t.status == Status::Pending };
        if !ok || (t.points - t.max_points).abs() > 1e-9 {
            p.push(format!("not full marks: {}", describe(t)));
        }
    }
    if (r.score - 100.0).abs() > 1e-9 && !inconclusive(r) {
        p.push(format!("score {} instead of 100", r.score));
    }
    p
}

pub fn starter_problems(r: &Report) -> Vec<String> {
    let mut p = Vec::new();
    if !r.compile.ok {
        p.push(format!("the starter must compile: {:?}", r.compile.errors));
    }
    if r.score >= STARTER_MAX {
        p.push(format!("the starter scores {} (must stay below {STARTER_MAX})", r.score));
    }
    p
}

pub fn fixture_problems(spec: &Spec, r: &Report, e: &Expect) -> Vec<String> {
    let mut p = Vec::new();
    let want_compile = e.compile.unwrap_or(CompileExpect::Ok);
    if (want_compile == CompileExpect::Ok) != r.compile.ok {
        p.push(format!("compile: expected {:?}, got ok={} {:?}", want_compile, r.compile.ok, r.compile.errors));
    }
    for (id, want) in &e.tests {
        if !spec.items.iter().any(|i| &i.id == id) {
            p.push(format!("expect.yaml names `{id}`, which is not an item of {}", spec.id));
            continue;
        }
        match r.tests.iter().find(|t| &t.id == id) {
            Some(t) if t.status == *want => {}
            Some(t) if t.status == Status::Inconclusive => {}
            Some(t) => p.push(format!("{id}: expected {}, got {}", want.as_str(), describe(t))),
            None => p.push(format!("{id}: missing from the report")),
        }
    }
    for (id, text) in &e.message_contains {
        let test = r.tests.iter().find(|t| &t.id == id);
        // An inconclusive item says why it could not be measured, not what a measurement found.
        if test.is_some_and(|t| t.status == Status::Inconclusive) {
            continue;
        }
        let msg = test.and_then(|t| t.message.clone()).unwrap_or_default();
        if !msg.to_lowercase().contains(&text.to_lowercase()) {
            p.push(format!("{id}: message should contain {text:?}, was {msg:?}"));
        }
    }
    if let Some(b) = &e.score {
        // An inconclusive item earns nothing yet: it can only lower the score, so the floor is not judged.
        // An inconclusive core item cannot cap the score either (the cap waits for its verdict), so then
        // the ceiling is not judged.
        let core_unknown = r.tests.iter().any(|t| t.status == Status::Inconclusive && t.core);
        if b.min.is_some_and(|m| r.score < m && !inconclusive(r)) || b.max.is_some_and(|m| r.score > m && !core_unknown) {
            p.push(format!("score {} outside [{:?}, {:?}]", r.score, b.min, b.max));
        }
    }
    p
}
