//! A batch grades each submission in a worker process of its own, `grade __grade-one` (this binary,
//! re-executed), so that a grading that dies (the student's code killing it, a crash, the OOM killer)
//! costs that submission only. This file owns both ends of that bargain: the one place that builds a
//! worker's command line from the batch's settings, the watchdog's budget, and the worker's side (grade
//! one submission, print its report as JSON on stdout). The coordinator applies overrides and writes OUT.
use super::watch::{self, Outcome};
use super::Options;
use crate::cli::GradeOneArgs;
use crate::error::{Error, Result};
use crate::grading::Grader;
use crate::spec::{Spec, Task};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The hidden subcommand a worker runs.
pub const SUBCOMMAND: &str = "__grade-one";

/// How the coordinator starts workers: this binary, the options every grading shares, and the watchdog.
pub struct Workers {
    exe: PathBuf,
    shared: Vec<OsString>,
    budget: Duration,
}

impl Workers {
    /// Everything the grading depends on, resolved once by the coordinator: the lab, the specs directory,
    /// the interpreter, the private overlay and the seed. One untimed run at a time per worker: the batch's
    /// `--jobs` workers fill the cores with submissions.
    pub fn new(g: &Grader, spec: &Spec, args: &Options) -> Result<Workers> {
        let exe = std::env::current_exe().map_err(|e| Error::Internal(format!("cannot find the grade binary: {e}")))?;
        let mut shared: Vec<OsString> = vec![SUBCOMMAND.into(), "--lab".into(), spec.id.clone().into()];
        shared.extend(["--specs".into(), g.course.specs.clone().into_os_string()]);
        shared.extend(["--python".into(), g.python.executable.clone().into_os_string()]);
        shared.extend(["--jobs".into(), "1".into()]);
        if let Some(dir) = &args.private {
            let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
            shared.extend(["--private".into(), dir.into_os_string()]);
        }
        if let Some(seed) = args.seed {
            shared.extend(["--seed".into(), seed.to_string().into()]);
        }
        // A lab with packages builds the managed environment here, once, not in every worker's budget.
        if !spec.packages.is_empty() || spec.items.iter().any(uses_ruff) {
            g.managed_python()?;
        }
        Ok(Workers { exe, shared, budget: budget(spec, g.jobs) })
    }

    /// The worker's command line for one submission.
    pub fn command(&self, submission: &Path) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.shared).arg("--submission").arg(submission);
        cmd
    }

    /// Grades one submission in a worker, watched.
    pub fn grade(&self, submission: &Path) -> Outcome {
        watch::run(self.command(submission), self.budget)
    }

    /// Grades only `items` of one submission in a worker (the rest `skipped`), watched.
    pub fn grade_only(&self, submission: &Path, items: &[String]) -> Outcome {
        let mut cmd = self.command(submission);
        cmd.arg("--only").arg(items.join(","));
        watch::run(cmd, self.budget)
    }
}

fn uses_ruff(item: &crate::spec::Item) -> bool {
    matches!(&item.task, Task::Lint(l) if l.rules.iter().any(|r| r.starts_with("ruff:")))
}

/// How long a worker may take before it is deemed lost: twice every run's timeout (a throughput item's
/// samples each extend theirs), plus the compile step, plus the timed items of every other worker it may
/// wait for (they hold the machine-wide lock), plus a margin.
pub fn budget(spec: &Spec, jobs: usize) -> Duration {
    let (mut untimed, mut timed) = (Duration::from_secs(60), Duration::ZERO);
    for item in &spec.items {
        match &item.task {
            // Two calibration samples, then up to four rounds of samples on each side (`grading::bench`).
            Task::Throughput(b) => timed += item.timeout * (2 + 8 * b.samples),
            Task::Memory(_) => timed += item.timeout * 2,
            t if t.kind().runs_student_code() => untimed += item.timeout,
            _ => {}
        }
    }
    (untimed + timed * jobs.max(1) as u32) * 2 + Duration::from_secs(30)
}

/// The worker's side: grade the submission and print the whole report, as JSON, on stdout.
pub fn serve(g: &Grader, spec: &Spec, args: &GradeOneArgs) -> Result<i32> {
    let report = if args.only.is_empty() {
        g.grade(spec, &args.submission, args.seed)?
    } else {
        g.grade_only(spec, &args.submission, args.seed, &args.only)?
    };
    let text = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))? + "\n";
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_covers_every_run_twice_and_the_waits_for_measurements() {
        let course = crate::course::Course::locate(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/course/specs")), Path::new("."))
            .unwrap();
        let spec = course.load("lab-0.1").unwrap();
        let runs: Duration = spec.items.iter().filter(|i| i.kind().runs_student_code()).map(|i| i.timeout).sum();
        assert_eq!(budget(&spec, 4), (Duration::from_secs(60) + runs) * 2 + Duration::from_secs(30), "no timed item: jobs do not matter");
        assert!(budget(&spec, 1) >= Duration::from_secs(150));
    }
}
