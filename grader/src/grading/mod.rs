//! Grading one submission: copy, compile, plan the items, run them, judge, score.
pub mod baseline;
mod bench;
pub mod causes;
mod estimate;
mod memory;
mod offline;
pub mod quiet;
mod speedup;
mod item;
mod verdict;
mod workspace;

pub(crate) use item::{http_server, ItemCtx};

pub use workspace::sweep_stale_workspaces;
pub(crate) use workspace::Workspace;

use crate::course::Course;
use crate::error::{Error, Result};
use crate::plan::{self, Unit};
use crate::python::Python;
use crate::report::model::{self, Compile, CompileError, GraderInfo, LimitsInfo, Report, SpecInfo, Status, Submission, TestResult};
use crate::runner::job::Job;
use crate::runner::message::Message;
use crate::runner::{exclusive, Run, RunSpec};
use crate::score;
use crate::spec::{Item, Kind, Spec};
use crate::submission;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};


pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What grading needs that does not change from one submission to the next.
pub struct Grader {
    pub course: Course,
    pub python: Python,
    /// The managed environment's interpreter, once a lab with `packages` needed it.
    pub managed: std::sync::OnceLock<PathBuf>,
    /// How many untimed runs at once.
    pub jobs: usize,
}

/// A submission as read at the start: its files, hash and location.
pub(crate) struct Source {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

impl Source {
    pub fn read(dir: &Path) -> Result<Source> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!("submission {}: not a directory", dir.display())));
        }
        Ok(Source { dir: dir.to_path_buf(), files: submission::files(dir)? })
    }
}

impl Grader {
    /// Grades `submission` against `spec`. `seed` replays a recorded seed; otherwise one is drawn.
    pub fn grade(&self, spec: &Spec, submission_dir: &Path, seed: Option<u64>) -> Result<Report> {
        self.grade_with(spec, submission_dir, seed, self.jobs)
    }

    /// Grades with `jobs` untimed items at once (a batch runs one at a time per submission, several
    /// submissions at once).
    pub fn grade_with(&self, spec: &Spec, submission_dir: &Path, seed: Option<u64>, jobs: usize) -> Result<Report> {
        self.grade_inner(spec, submission_dir, seed, jobs, None)
    }

    /// Grades only the items `only` names (and what timed ones among them require); every other item is
    /// `skipped`, so the report keeps its shape. For replaying one failure, or sampling one item many times.
    pub fn grade_only(&self, spec: &Spec, submission_dir: &Path, seed: Option<u64>, only: &[String]) -> Result<Report> {
        let mut run: std::collections::BTreeSet<String> = only.iter().cloned().collect();
        let required: Vec<String> =
            spec.items.iter().filter(|i| run.contains(&i.id)).flat_map(|i| i.requires.iter().cloned()).collect();
        run.extend(required);
        self.grade_inner(spec, submission_dir, seed, self.jobs, Some(&run))
    }

    fn grade_inner(
        &self,
        spec: &Spec,
        submission_dir: &Path,
        seed: Option<u64>,
        jobs: usize,
        only: Option<&std::collections::BTreeSet<String>>,
    ) -> Result<Report> {
        let started = Instant::now();
        let source = Source::read(submission_dir)?;
        let sha256 = submission::sha256(&source.dir, &source.files)?;
        let base_seed = seed.unwrap_or_else(|| rand::random::<u32>() as u64);
        let ws = Workspace::new(&spec.id)?;
        let compile = self.compile(spec, &ws, &source)?;
        let units = plan::plan(spec, base_seed);
        let (python, site) = self.interpreter(spec)?;
        let ctx = ItemCtx { grader: self, spec, ws: &ws, source: &source, compile: &compile, python: &python, site };

        let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(
            units.iter().map(|u| only.filter(|o| !o.contains(&u.item.id)).map(|_| not_selected(u.item))).collect(),
        );
        let (timed, untimed): (Vec<(usize, &Unit)>, Vec<(usize, &Unit)>) =
            units.iter().enumerate().filter(|(_, u)| only.is_none_or(|o| o.contains(&u.item.id))).partition(|(_, u)| matches!(u.item.kind(), Kind::Throughput | Kind::Memory) && compile.ok);
        let next = AtomicUsize::new(0);
        let jobs = jobs.max(1).min(untimed.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(idx, unit)) = untimed.get(i) else { break };
                    let r = ctx.judge(unit);
                    results.lock().unwrap_or_else(|p| p.into_inner())[idx] = Some(r);
                });
            }
        });
        for (idx, unit) in timed {
            // Performance is earned only by correct code: what it requires has been judged by now.
            let unmet = {
                let done = results.lock().unwrap_or_else(|p| p.into_inner());
                unmet_requirements(unit.item, done.iter().flatten())
            };
            let r = match unmet {
                Some(why) => not_measured(unit.item, why),
                None => ctx.judge(unit),
            };
            results.lock().unwrap_or_else(|p| p.into_inner())[idx] = Some(r);
        }
        crate::runner::interrupt::sweep_orphans();
        let mut tests: Vec<TestResult> =
            results.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().flatten().collect();
        causes::assign(&mut tests);
        let scores = score::score(&tests);
        let machine = crate::machine::get();
        let l = &spec.limits;
        let mut report = Report {
            schema: model::SCHEMA.into(),
            lab: spec.id.clone(),
            title: spec.title.clone(),
            submission: Submission { path: submission_dir.display().to_string(), sha256, student: None },
            grader: GraderInfo {
                version: VERSION.into(),
                python: self.python.version.clone(),
                seed: base_seed,
                cores: machine.cores,
                cpu: machine.cpu.clone(),
                os: machine.os.clone(),
                sandbox: crate::runner::jail::layers(&self.python.executable).describe(),
            },
            spec: SpecInfo {
                path: spec.path.display().to_string(),
                sha256: spec.sha256(),
                private: spec.overlay.as_ref().map(|p| p.display().to_string()),
                limits: LimitsInfo {
                    timeout_s: l.timeout.as_secs_f64(),
                    memory_mb: l.memory_mb,
                    processes: l.processes,
                    output_kb: l.output_kb,
                },
            },
            duration_ms: started.elapsed().as_millis() as u64,
            compile,
            score: scores.total,
            max_score: 100.0,
            groups: scores.groups,
            categories: scores.categories,
            adjustments: scores.adjustments,
            tests,
        };
        crate::report::bounds::fit(&mut report, crate::report::bounds::REPORT);
        Ok(report)
    }

    /// Measures a report's `inconclusive` items again, up to `attempts` times while some stay so, and puts
    /// the new results in place (the score follows). The rest of the report stays as graded.
    pub fn remeasure(&self, spec: &Spec, submission_dir: &Path, report: &mut Report, attempts: u32) -> Result<()> {
        for _ in 0..attempts {
            let open: Vec<String> =
                report.tests.iter().filter(|t| t.status == model::Status::Inconclusive).map(|t| t.id.clone()).collect();
            if open.is_empty() {
                break;
            }
            let mut only = spec.clone();
            only.items.retain(|i| open.contains(&i.id));
            let again = self.grade(&only, submission_dir, Some(report.grader.seed))?;
            score::replace_tests(report, again.tests);
            causes::assign(&mut report.tests);
        }
        Ok(())
    }

    /// Missing entry files, then every `.py` byte-compiled in one interpreter call.
    fn compile(&self, spec: &Spec, ws: &Workspace, source: &Source) -> Result<Compile> {
        let mut errors: Vec<CompileError> = spec
            .files
            .iter()
            .filter(|f| !source.files.iter().any(|s| s == Path::new(f)))
            .map(|f| CompileError {
                file: f.clone(),
                line: 0,
                column: 0,
                message: format!("missing file: this lab needs {f}"),
                text: String::new(),
            })
            .collect();
        let py = submission::python_files(&source.files);
        if !py.is_empty() {
            let sub = ws.copy_for_run("compile", &source.dir, &source.files)?;
            let job = Job::Compile { root: sub.clone(), files: py };
            let result = self.run(ws, &sub, job, Duration::from_secs(60), &spec.limits)?;
            let compiled = result.messages.iter().find_map(|m| match m {
                Message::Compiled { errors } => Some(errors.clone()),
                _ => None,
            });
            match compiled {
                Some(found) => errors.extend(found),
                None => {
                    return Err(Error::Python(format!(
                        "the compile step did not answer ({}): {}",
                        result.exit_text(),
                        crate::report::text::safe(&crate::report::text::cap_tail(result.stderr.text.trim(), 4096))
                    )))
                }
            }
        }
        errors.iter_mut().for_each(crate::report::bounds::bound_compile_error);
        Ok(Compile { ok: errors.is_empty(), errors })
    }

    /// The interpreter a lab's code runs in: the managed environment when the spec lists `packages`.
    pub fn interpreter(&self, spec: &Spec) -> Result<(PathBuf, bool)> {
        if spec.packages.is_empty() {
            return Ok((self.python.executable.clone(), false));
        }
        Ok((self.managed_python()?, true))
    }

    /// The managed environment's interpreter, built on first need.
    pub fn managed_python(&self) -> Result<PathBuf> {
        if let Some(p) = self.managed.get() {
            return Ok(p.clone());
        }
        let env = crate::pyenv::ensure(&self.python, false)?;
        Ok(self.managed.get_or_init(|| env.python).clone())
    }

    pub(crate) fn run(
        &self,
        ws: &Workspace,
        workdir: &Path,
        job: Job,
        timeout: Duration,
        limits: &crate::spec::Limits,
    ) -> Result<crate::runner::RunResult> {
        self.run_with(ws, workdir, job, timeout, limits, (&self.python.executable, false), None)
    }

    pub(crate) fn run_with(
        &self,
        ws: &Workspace,
        workdir: &Path,
        job: Job,
        timeout: Duration,
        limits: &crate::spec::Limits,
        (python, site): (&Path, bool),
        net: Option<std::sync::Arc<crate::runner::jail::Netns>>,
    ) -> Result<crate::runner::RunResult> {
        let _shared = exclusive::shared();
        let run = Run::spawn(RunSpec {
            site,
            python,
            harness: &ws.harness,
            workdir,
            job,
            timeout,
            limits,
            net,
        })?;
        Ok(run.wait())
    }
}

/// The first of `item`'s requirements that did not pass, said for the student; `None` when all did.
fn unmet_requirements<'a>(item: &Item, done: impl Iterator<Item = &'a TestResult>) -> Option<String> {
    let done: Vec<&TestResult> = done.collect();
    let failed: Vec<String> = item
        .requires
        .iter()
        .filter_map(|id| done.iter().find(|t| &t.id == id))
        .filter(|t| t.status != Status::Passed)
        .map(|t| format!("`{}` ({})", t.id, t.status.as_str()))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let more = if failed.len() > 3 { format!(" and {} more", failed.len() - 3) } else { String::new() };
    Some(format!("{}{more}", failed.iter().take(3).cloned().collect::<Vec<_>>().join(", ")))
}

/// An item left out by `--only`.
fn not_selected(item: &Item) -> TestResult {
    let mut r = verdict::blank(item, Status::Skipped);
    r.message = Some("not run: --only named other items".into());
    r
}

/// A timed item left unmeasured because the code it times is not correct yet.
fn not_measured(item: &Item, unmet: String) -> TestResult {
    let mut r = verdict::blank(item, Status::Skipped);
    r.message = Some(format!("not measured: speed counts only for correct code, and {unmet} did not pass"));
    r.hint = Some("make the items above pass first; the speed is measured once they do".into());
    r
}

/// A code item that cannot run because the submission does not compile.
fn skipped(item: &Item, compile: &Compile) -> TestResult {
    let first = compile.errors.first();
    let msg = match first {
        Some(e) if e.line > 0 => format!("not run: {}:{}:{}: {} (see compile errors)", e.file, e.line, e.column, e.message),
        Some(e) => format!("not run: {}", e.message),
        None => "not run: the submission does not compile".into(),
    };
    let mut r = verdict::blank(item, Status::Skipped);
    r.message = Some(msg);
    r.location = first.filter(|e| e.line > 0).map(|e| format!("{}:{}", e.file, e.line));
    r
}
