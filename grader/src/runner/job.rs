//! The jobs the grader sends the harness (fd 4, one JSON line), typed and built only here. The runner
//! adds what every job carries (`Envelope`); `grade_harness.py`'s `run_job` dispatches on `mode`.
use crate::spec::{Item, Kind, Scheduler, StartMethod};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Job {
    /// Byte-compile the submission's Python files.
    Compile { root: PathBuf, files: Vec<String> },
    /// The lint rules of a lint item.
    Lint { root: PathBuf, files: Vec<String>, rules: Vec<String> },
    /// An item's check, once per seed.
    Check(CheckJob),
    /// A timed item's workload, set up once, then sampled on the grader's command.
    Bench(BenchJob),
}

/// What every job that runs an item's check function carries: the run's copy, the check and its
/// parameters, the runs' seeds, the fixture server, and whether the primitives are instrumented.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub root: PathBuf,
    /// The checks file; the runner replaces it with the run's own copy.
    pub checks: PathBuf,
    pub check: Option<String>,
    pub params: Value,
    pub seeds: Vec<u64>,
    pub http: Value,
    pub instrument: bool,
}

impl Workload {
    fn of(item: &Item, checks: &Path, root: &Path, seeds: &[u64], http: Value, instrument: bool) -> Workload {
        Workload {
            root: root.to_path_buf(),
            checks: checks.to_path_buf(),
            check: item.check.clone(),
            params: item.params.clone(),
            seeds: seeds.to_vec(),
            http,
            instrument,
        }
    }
}

/// A check job: the workload, its runs' planned inputs, and how to run them.
#[derive(Debug, Clone, Serialize)]
pub struct CheckJob {
    #[serde(flatten)]
    pub workload: Workload,
    /// The judge's planned inputs, one per seed.
    pub inputs: Vec<Value>,
    pub lock_order: bool,
    pub start_method: Option<StartMethod>,
    pub scheduler: Scheduler,
    pub trace: Option<Trace>,
    pub memory: bool,
}

/// A bench job: the workload (never instrumented: timed as the student's code runs) and its sample size.
#[derive(Debug, Clone, Serialize)]
pub struct BenchJob {
    #[serde(flatten)]
    pub workload: Workload,
    pub min_sample_ms: u32,
}

/// Seeded yield injection: the probability of a switch at each traced line.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Trace {
    pub probability: f64,
}

/// What the runner adds to every job.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    #[serde(flatten)]
    pub job: &'a Job,
    pub nonce: &'a str,
    pub stacks: &'a Path,
    pub private_shm: bool,
}

impl Job {
    /// An item's check job over the run's copy `root`.
    pub fn check(item: &Item, checks: &Path, root: &Path, seeds: &[u64], inputs: Vec<Value>, http: Value, trace: Option<f64>) -> Job {
        Job::Check(CheckJob {
            workload: Workload::of(item, checks, root, seeds, http, item.instrument),
            inputs,
            lock_order: item.lock_order,
            start_method: item.start_method,
            scheduler: item.scheduler,
            trace: trace.map(|probability| Trace { probability }),
            memory: item.kind() == Kind::Memory,
        })
    }

    /// A timed item's bench job over the run's copy `root`.
    pub fn bench(item: &Item, checks: &Path, root: &Path, seeds: &[u64], http: Value) -> Job {
        Job::Bench(BenchJob {
            workload: Workload::of(item, checks, root, seeds, http, false),
            min_sample_ms: match &item.task {
                crate::spec::Task::Throughput(b) => b.min_sample_ms,
                _ => 100,
            },
        })
    }

    /// The checks file the job loads, if any: the runner copies it (and its modules) beside the run.
    pub fn checks_mut(&mut self) -> Option<&mut PathBuf> {
        match self {
            Job::Check(CheckJob { workload, .. }) | Job::Bench(BenchJob { workload, .. }) => Some(&mut workload.checks),
            Job::Compile { .. } | Job::Lint { .. } => None,
        }
    }
}

/// Copies a lab's check file beside the run's directory (read-only to the run; nothing of the course's own
/// tree is readable from a run), with the helper modules beside it when it is a lab's own `checks.py`.
/// Returns the copy's path.
pub(super) fn copy_checks(checks: &Path, run_dir: &Path) -> Result<PathBuf> {
    let name = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = run_dir.with_file_name(format!("{name}.checks"));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut files = vec![checks.to_path_buf()];
    if checks.file_name().is_some_and(|n| n == "checks.py") {
        if let Some(Ok(rd)) = checks.parent().map(std::fs::read_dir) {
            // Never the judge: the verdicts and the inputs they expect stay outside the run.
            let judge = crate::judge::judge_file(checks);
            files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "py") && p != checks && *p != judge));
        }
    }
    for f in &files {
        let to = dir.join(f.file_name().unwrap_or_default());
        std::fs::copy(f, &to).map_err(|e| Error::io(f, e))?;
    }
    Ok(dir.join(checks.file_name().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_tagged_by_mode_and_the_envelope_is_flat() {
        let job = Job::Compile { root: "/r".into(), files: vec!["a.py".into()] };
        let line = serde_json::to_value(Envelope { job: &job, nonce: "n", stacks: Path::new("/s"), private_shm: true }).unwrap();
        assert_eq!(line, serde_json::json!({"mode": "compile", "root": "/r", "files": ["a.py"], "nonce": "n", "stacks": "/s", "private_shm": true}));
    }
}
