//! Grading a class: one sub-folder per student, graded in parallel into `OUT/reports/<student>.json`
//! (each written atomically), then a gradebook and a summary built from the reports alone.
//!
//! A rerun into the same OUT reuses every report that matches the submission's hash, the spec's hash and
//! the grader's version, so a batch killed at any point (SIGKILL included) resumes where it was. A
//! submission the grader cannot grade gets `OUT/errors/<student>.txt` and a row saying so; it is retried
//! on the next run. Timed items (throughput, memory) take the machine-wide exclusive lock, so they never
//! run beside another submission's work.
//!
//! Each submission is graded in a worker process of its own (`worker`): a worker that dies, whatever
//! killed it, makes that student's row `crashed` (with why, and the worker's stderr in
//! `errors/<student>.txt`) and the batch goes on; a rerun retries the student.
pub mod book;
pub mod merge;
mod progress;
mod remeasure;
mod strays;
pub mod summary;
mod watch;
pub mod worker;

use crate::error::{Error, Result};
use crate::grading::{Grader, VERSION};
use watch::Outcome;
use worker::Workers;
use crate::overrides::Overrides;
use crate::report::model::Report;
use crate::spec::Spec;
use book::Entry;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The students of a submissions directory: its sub-folders, sorted; hidden ones and files left out.
pub fn students(dir: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let (mut students, mut ignored) = (Vec::new(), Vec::new());
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if e.path().is_dir() {
            students.push(name);
        } else {
            ignored.push(name);
        }
    }
    students.sort();
    ignored.sort();
    Ok((students, ignored))
}

/// Shard K of N (1-based): the students whose index in the sorted list is K-1 modulo N.
pub fn shard(students: Vec<String>, shard: Option<(usize, usize)>) -> Vec<String> {
    match shard {
        None => students,
        Some((k, n)) => students.into_iter().enumerate().filter(|(i, _)| i % n == k - 1).map(|(_, s)| s).collect(),
    }
}

/// A report already in OUT for this submission, spec and grader (and seed, when one is forced).
fn reusable(out: &Path, student: &str, sha: &str, spec_sha: &str, seed: Option<u64>) -> Option<Report> {
    let text = std::fs::read_to_string(book::report_path(out, student)).ok()?;
    let r: Report = serde_json::from_str(&text).ok()?;
    let same = r.submission.sha256 == sha
        && r.spec.sha256 == spec_sha
        && r.grader.version == VERSION
        && seed.is_none_or(|s| s == r.grader.seed);
    same.then_some(r)
}

/// What a batch is asked to do, resolved from the command line once (`commands::dispatch`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One sub-folder per student.
    pub submissions: PathBuf,
    /// Reports, errors, gradebook and summary; a batch into the same directory resumes.
    pub out: PathBuf,
    /// Slice K of N (1-based) of the sorted students.
    pub shard: Option<(usize, usize)>,
    /// The instructor's private overlay, passed on to every worker.
    pub private: Option<PathBuf>,
    /// Seed of every submission's first run (None: one drawn per submission).
    pub seed: Option<u64>,
    /// How long to wait for a quiet machine before measuring inconclusive items again (0: never).
    pub quiet_wait: std::time::Duration,
}

pub fn run(g: &Grader, spec: &Spec, args: &Options, overrides: &Overrides) -> Result<i32> {
    let started = Instant::now();
    if !args.submissions.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory of submissions", args.submissions.display())));
    }
    let root = args.submissions.canonicalize().map_err(|e| Error::io(&args.submissions, e))?;
    let (mut all, ignored) = students(&root)?;
    // An output directory inside the submissions' is not a student.
    if let Ok(out) = args.out.canonicalize() {
        all.retain(|s| root.join(s) != out);
    }
    if all.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no student folders in it (one sub-folder per student, named by the student's id)",
            root.display()
        )));
    }
    let mine = shard(all.clone(), args.shard);
    for dir in [args.out.join("reports"), args.out.join("errors")] {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let unknown: Vec<&str> = overrides.students().filter(|s| !all.iter().any(|a| a == s)).collect();
    if !unknown.is_empty() {
        eprintln!("grade: warning: the overrides name students with no submission: {}", unknown.join(", "));
    }
    crate::grading::sweep_stale_workspaces();
    // Orphans of the students' processes stop at the workers (subreapers) and then at init, never here: a
    // student's code that kills its parents one by one reaches its worker and no further.
    let _ = nix::sys::prctl::set_child_subreaper(false);
    let workers = Workers::new(g, spec, args)?;
    let spec_sha = spec.sha256();
    let progress = progress::Progress::new(mine.len());
    let next = AtomicUsize::new(0);
    let counts = Mutex::new((0usize, 0usize, 0usize)); // graded now, reused, errors
    let threads = g.jobs.max(1).min(mine.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(student) = mine.get(i) else { break };
                let t0 = Instant::now();
                let (entry, fresh) = grade_student(&workers, &spec_sha, &root.join(student), student, args, overrides);
                let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
                match (&entry, fresh) {
                    (Entry::Failed { .. }, _) => c.2 += 1,
                    (_, true) => c.0 += 1,
                    (_, false) => c.1 += 1,
                }
                drop(c);
                progress.done(&entry, fresh, t0.elapsed());
            });
        }
    });
    progress.finish();
    let inconclusive = remeasure::second_look(&workers, &root, &mine, args, overrides);
    let (graded, reused, errors) = counts.into_inner().unwrap_or_else(|p| p.into_inner());
    let entries = book::read_entries(&args.out, Some(&mine))?;
    let crashed = entries.iter().filter(|e| e.status() == "crashed").count();
    let manifest = book::Manifest {
        schema: book::MANIFEST_SCHEMA.into(),
        lab: spec.id.clone(),
        title: spec.title.clone(),
        grader_version: VERSION.into(),
        spec_sha256: spec_sha,
        submissions: root.display().to_string(),
        shards: vec![args.shard.map(|(k, n)| format!("{k}/{n}")).unwrap_or_else(|| "1/1".into())],
        students: mine.clone(),
        ignored,
        graded_now: graded,
        reused,
        errors,
        jobs: g.jobs,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    book::write_all(&args.out, &manifest, &entries)?;
    let mut lost = if crashed > 0 { format!(" ({crashed} crashed)") } else { String::new() };
    if inconclusive > 0 {
        lost.push_str(&format!("; {inconclusive} with inconclusive measurements (provisional)"));
    }
    eprintln!(
        "grade: {} submissions of {}: {graded} graded, {reused} already graded, {errors} could not be graded{lost} ({:.1} s)\n       {}",
        mine.len(),
        spec.id,
        started.elapsed().as_secs_f64(),
        args.out.join("gradebook.csv").display()
    );
    Ok(0)
}

/// Grades one student's folder in a worker (or reuses its report); the report or the error goes to OUT at once.
fn grade_student(
    workers: &Workers,
    spec_sha: &str,
    dir: &Path,
    student: &str,
    args: &Options,
    overrides: &Overrides,
) -> (Entry, bool) {
    let failed = |message: String| (book::write_error(&args.out, student, message, false), true);
    let sha = match crate::submission::files(dir).and_then(|f| crate::submission::sha256(dir, &f)) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let (mut report, fresh) = match reusable(&args.out, student, &sha, spec_sha, args.seed) {
        Some(r) => (r, false),
        None => match workers.grade(dir) {
            Outcome::Report(r) => (*r, true),
            Outcome::Error(message) => return failed(message),
            Outcome::Crashed { why, stderr } => {
                let tail = if stderr.trim().is_empty() { "(nothing)".to_string() } else { stderr.trim_end().to_string() };
                let message = format!("{why}\n\nthe end of the grading worker's stderr:\n{tail}");
                return (book::write_error(&args.out, student, message, true), true);
            }
        },
    };
    // A reused report is written again only when the overrides changed what it says.
    if crate::report::finish::finish(&mut report, Some(student.to_string()), overrides) || fresh {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
        if let Err(e) = crate::write_atomically(&book::report_path(&args.out, student), &text) {
            return failed(format!("cannot write the report: {e}"));
        }
    }
    let _ = std::fs::remove_file(book::error_path(&args.out, student));
    (Entry::Graded(Box::new(report)), fresh)
}
