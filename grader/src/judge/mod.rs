//! The judge: the trusted half of every split check, in a Python process of its own outside the
//! submission's sandbox. It plans a run's inputs and turns the observations the workload recorded into the
//! verdict; the submission's process can fail a run (its code raised, hung, deadlocked) but never pass one.
//!
//! A lab's `checks.py` holds the workloads; `judge.py` beside it holds the judgements (an overlay's
//! `hidden_checks.py` pairs with `hidden_judge.py`). The judge file is never copied into a run.
pub mod protocol;

use protocol::{Described, Planned, Reply, Request, Verdict};
use serde::de::DeserializeOwned;
use crate::runner::message::Message;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// How long one answer may take (a judgement that searches a long history is the slowest).
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// The judge file paired with a checks file: `checks.py` -> `judge.py`, `x_checks.py` -> `x_judge.py`,
/// anything else `<stem>_judge.py`.
pub fn judge_file(checks: &Path) -> PathBuf {
    let stem = checks.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match stem.rfind("checks") {
        Some(at) => format!("{}judge{}.py", &stem[..at], &stem[at + "checks".len()..]),
        None => format!("{stem}_judge.py"),
    };
    checks.with_file_name(name)
}

/// One grading's judges, one process per judge file, started when first needed.
#[derive(Default)]
pub struct Judges {
    harness: PathBuf,
    started: Mutex<HashMap<PathBuf, Arc<Judge>>>,
}

impl Judges {
    pub fn new(harness_dir: &Path) -> Judges {
        Judges { harness: harness_dir.to_path_buf(), started: Mutex::default() }
    }

    /// The judge for a checks file, or `None` when the lab has no judge file (its checks are not split).
    pub fn of(&self, checks: &Path, python: &Path, site: bool) -> Result<Option<Arc<Judge>>, String> {
        let file = judge_file(checks);
        if !file.is_file() {
            return Ok(None);
        }
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = started.get(&file) {
            return Ok(Some(j.clone()));
        }
        let judge = Arc::new(Judge::start(&self.harness.join("grade_judge.py"), &file, python, site)?);
        started.insert(file, judge.clone());
        Ok(Some(judge))
    }
}

/// A running judge process.
pub struct Judge {
    file: PathBuf,
    io: Mutex<Io>,
    described: Described,
}

struct Io {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Judge {
    fn start(script: &Path, file: &Path, python: &Path, site: bool) -> Result<Judge, String> {
        let mut cmd = Command::new(python);
        cmd.args(["-I", "-B", "-u"]);
        if !site {
            cmd.arg("-S");
        }
        let dir = script.parent().unwrap_or(Path::new("/"));
        // A group of its own, registered like a run's root: the orphan sweep leaves it alone, and a
        // Ctrl-C's clean-up stops it.
        let registering = crate::runner::interrupt::spawning();
        let child = cmd
            .arg(script)
            .arg(file)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        let mut child = child.map_err(|e| format!("cannot start the judge for {}: {e}", file.display()))?;
        crate::runner::interrupt::add_root(child.id() as i32);
        drop(registering);
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else { return Err("the judge has no pipes".into()) };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut judge = Judge { file: file.to_path_buf(), io: Mutex::new(Io { child, stdin, lines }), described: Described::default() };
        judge.described = judge.ask(&Request::Describe)?;
        Ok(judge)
    }

    /// Whether this judge judges `check` (a check of a split lab without one keeps its old, in-process verdict).
    pub fn judges(&self, check: &str) -> bool {
        self.described.judges.iter().any(|c| c == check)
    }

    /// The checks this judge judges.
    pub fn checks(&self) -> &[String] {
        &self.described.judges
    }

    /// The inputs of one run of `check`, when the judge plans them.
    pub fn plan(&self, check: &str, params: &Value, seed: u64) -> Result<Option<Value>, String> {
        if !self.described.plans.iter().any(|c| c == check) {
            return Ok(None);
        }
        let planned: Planned = self.ask(&Request::Plan { check, params, seed })?;
        Ok(Some(planned.inputs))
    }

    /// The verdict on one run.
    pub fn judge(&self, check: &str, params: &Value, seed: u64, inputs: &Value, observations: &Map<String, Value>) -> Result<Verdict, String> {
        self.ask(&Request::Judge { check, params, seed, inputs, observations })
    }

    fn ask<T: DeserializeOwned>(&self, req: &Request) -> Result<T, String> {
        let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let line = serde_json::to_string(req).map_err(|e| e.to_string())?;
        let sent = writeln!(io.stdin, "{line}").and_then(|_| io.stdin.flush());
        let answer = match sent {
            Ok(()) => io.lines.recv_timeout(ANSWER_WITHIN).map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => format!("no answer within {} s", ANSWER_WITHIN.as_secs()),
                mpsc::RecvTimeoutError::Disconnected => "it exited".to_string(),
            }),
            Err(e) => Err(format!("it stopped reading ({e})")),
        };
        let fail = |why: String| format!("the judge {} failed: {why}", self.file.display());
        match serde_json::from_str::<Reply<T>>(&answer.map_err(fail)?) {
            Ok(Reply::Ok(t)) => Ok(t),
            Ok(Reply::Error { error }) => Err(fail(error)),
            Err(e) => Err(fail(format!("an answer that is not the protocol's ({e})"))),
        }
    }
}

impl Drop for Judge {
    fn drop(&mut self) {
        let io = self.io.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = io.child.kill();
        let _ = io.child.wait();
        crate::runner::interrupt::remove_root(io.child.id() as i32);
    }
}

/// Puts the judge's verdict on every run whose workload finished (`ok` from the agent): the run passes
/// only when the judge says so. Runs the agent failed, and tampered ones, keep their own verdict.
pub fn apply(judge: &Judge, check: &str, params: &Value, seeds: &[u64], inputs: &[Value], messages: &mut [Message]) -> Result<(), String> {
    for m in messages.iter_mut() {
        let Message::Run(run) = m else { continue };
        let finished = run.ok && !run.is_tampered();
        let index = run.index.and_then(|i| usize::try_from(i).ok());
        let observations = run.observations.take().unwrap_or_default();
        if let (true, Some(i)) = (finished, index) {
            let seed = seeds.get(i).copied().or(run.seed).unwrap_or_default();
            let v = judge.judge(check, params, seed, inputs.get(i).unwrap_or(&Value::Null), &observations)?;
            run.ok = v.ok;
            run.message = v.message;
            run.hint = v.hint;
            if !v.ok {
                run.location = None;
            }
        } else if finished {
            run.ok = false;
            run.message = Some("a run report without its run number: not the grader's".into());
        }
        run.judged = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_judge_file_sits_beside_its_checks() {
        assert_eq!(judge_file(Path::new("specs/lab-2.1/checks.py")), Path::new("specs/lab-2.1/judge.py"));
        assert_eq!(judge_file(Path::new("o/lab-2.1/hidden_checks.py")), Path::new("o/lab-2.1/hidden_judge.py"));
        assert_eq!(judge_file(Path::new("o/extra.py")), Path::new("o/extra_judge.py"));
    }
}
