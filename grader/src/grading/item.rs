//! One item of a grading: its check runs (judged, clock-judged, with the fixture server it asks for)
//! and its lint run, each turned into a verdict.
use super::{bench, causes, memory, offline, quiet, skipped, verdict, Grader, Source, Workspace};
use crate::plan::Unit;
use crate::report::model::{Compile, Status, TestResult};
use crate::runner::job::Job;
use crate::spec::{Item, LintRules, Spec, Task};
use crate::submission;
use serde_json::json;
use std::path::{Path, PathBuf};
use crate::runner::exclusive;
use std::time::{Duration, Instant};

/// Runs of a `timing: true` item at most: the first, and again after waiting for a quiet machine.
const TIMING_ATTEMPTS: usize = 3;

/// What judging one item needs.
pub(crate) struct ItemCtx<'a> {
    pub grader: &'a Grader,
    pub spec: &'a Spec,
    pub ws: &'a Workspace,
    pub source: &'a Source,
    pub compile: &'a Compile,
    /// The interpreter for the lab's code, and whether it runs `site`.
    pub python: &'a Path,
    pub site: bool,
}

impl ItemCtx<'_> {
    pub(super) fn judge(&self, unit: &Unit) -> TestResult {
        let started = Instant::now();
        crate::runner::timing::take();
        let item = unit.item;
        let mut result = if item.kind().runs_student_code() && !self.compile.ok {
            skipped(item, self.compile)
        } else {
            match &item.task {
                Task::Compile => offline::compile_item(item, self.compile),
                Task::Quiz(quiz) => offline::quiz(item, quiz, &self.source.dir),
                Task::Design(doc) => offline::design(item, doc, &self.source.dir),
                Task::Manual => offline::manual(item),
                Task::Lint(rules) => self.lint(item, rules),
                Task::Throughput(settings) => bench::throughput(self, unit, settings),
                Task::Memory(target) => memory::memory(self, unit, target),
                Task::Deterministic | Task::Stress | Task::Deadlock => self.check(unit),
            }
        };
        // The item's hint for how it failed, if it has one, over the hint the run came with.
        result.hint = crate::spec::hints::choose(item, causes::failure(&result), result.hint.take());
        result.duration_ms = started.elapsed().as_millis() as u64;
        let timing = crate::runner::timing::take();
        result.timing = (timing.run_ms > 0).then_some(timing);
        crate::report::bounds::bound_result(&mut result);
        result
    }

    fn check(&self, unit: &Unit) -> TestResult {
        if unit.item.timing {
            return self.timed_check(unit);
        }
        self.check_once(unit)
    }

    fn check_once(&self, unit: &Unit) -> TestResult {
        match self.check_run(unit, &self.source.dir, &self.source.files, "") {
            Ok((run, sub)) => verdict::from_run(unit.item, unit, &run, &sub),
            Err(e) => verdict::grader_error(unit.item, &e),
        }
    }

    /// An item whose verdict rests on the wall clock (`timing: true`): alone on the machine, and a failure
    /// counts only when the machine stayed quiet meanwhile (the runs' own CPU, reaped into the grader's,
    /// is not other work). A failure under load is run again once the machine is quiet; still under load,
    /// the item is inconclusive with what it saw.
    fn timed_check(&self, unit: &Unit) -> TestResult {
        let _alone = exclusive::exclusive();
        let mut busy = Vec::new();
        let mut last = None;
        for attempt in 0..TIMING_ATTEMPTS {
            if attempt > 0 {
                quiet::wait_until_quiet(Duration::from_secs(20), Duration::from_secs(3));
            }
            let watch = quiet::Watch::start(&mut []);
            let r = self.check_once(unit);
            let others = watch.others(&mut []);
            match others {
                // Only a verdict the clock can sway: a deadlock (a wait-for cycle), a crash or tampering
                // stands however busy the machine was.
                Some(o) if matches!(r.status, Status::Failed | Status::Timeout) && o > quiet::MAX_OTHER_CORES => {
                    busy.push(o);
                    last = Some(r);
                }
                _ => return r,
            }
        }
        let seen = last.and_then(|r| r.message).unwrap_or_default();
        let most = busy.iter().copied().fold(0.0, f64::max);
        verdict::inconclusive(
            unit.item,
            &format!(
                "other work used up to {most:.2} cores while it ran ({} attempts), and it judges by the clock; what it saw: {seen}",
                busy.len()
            ),
        )
    }

    /// One harness run of an item's check over a copy of `from` (the submission, or the reference).
    pub(crate) fn check_run(
        &self,
        unit: &Unit,
        from: &Path,
        files: &[PathBuf],
        suffix: &str,
    ) -> std::result::Result<(crate::runner::RunResult, PathBuf), String> {
        let item = unit.item;
        let sub = self.ws.copy_for_run(&format!("{}{suffix}", item.id), from, files).map_err(|e| e.to_string())?;
        let net = crate::runner::jail::netns(self.python).map_err(|e| format!("cannot make the run's network: {e}"))?;
        let (_server, http) = http_server(unit, net.as_deref())?;
        let checks = item.checks.as_ref().unwrap_or(&self.spec.checks);
        let check = item.check.as_deref().unwrap_or_default();
        let judge = self.ws.judges.of(checks, self.python, self.site)?.filter(|j| j.judges(check));
        let params = &item.params;
        let mut inputs = Vec::new();
        if let Some(j) = &judge {
            for &seed in &unit.seeds {
                inputs.push(j.plan(check, params, seed)?.unwrap_or(serde_json::Value::Null));
            }
        }
        let job = Job::check(item, checks, &sub, &unit.seeds, inputs.clone(), http, unit.trace);
        let mut run = self
            .grader
            .run_with(self.ws, &sub, job, item.timeout, &self.spec.limits, (self.python, self.site), net)
            .map_err(|e| e.to_string())?;
        if let Some(j) = &judge {
            crate::judge::apply(j, check, params, &unit.seeds, &inputs, &mut run.messages)?;
        }
        Ok((run, sub))
    }

    fn lint(&self, item: &Item, lint: &LintRules) -> TestResult {
        let sub = match self.ws.copy_for_run(&item.id, &self.source.dir, &self.source.files) {
            Ok(s) => s,
            Err(e) => return verdict::grader_error(item, &e.to_string()),
        };
        let rules = lint.rules.clone();
        // Ruff's rules need ruff, from the managed environment.
        let python = if rules.iter().any(|r| r.starts_with("ruff:")) {
            match self.grader.managed_python() {
                Ok(p) => (p, true),
                Err(e) => return verdict::grader_error(item, &e.to_string()),
            }
        } else {
            (self.grader.python.executable.clone(), false)
        };
        let job = Job::Lint { root: sub.clone(), files: submission::python_files(&self.source.files), rules };
        match self.grader.run_with(self.ws, &sub, job, item.timeout, &self.spec.limits, (&python.0, python.1), None) {
            Ok(run) => offline::lint_result(item, lint, &run),
            Err(e) => verdict::grader_error(item, &e.to_string()),
        }
    }
}

/// The fixture server an item asks for, started for one run, and what the check needs to reach it.
pub(crate) fn http_server(
    unit: &Unit,
    net: Option<&crate::runner::jail::Netns>,
) -> std::result::Result<(Option<crate::http::Server>, serde_json::Value), String> {
    let Some(spec) = &unit.item.http else { return Ok((None, serde_json::Value::Null)) };
    let seed = unit.seeds.first().copied().unwrap_or(0);
    let server = crate::http::Server::start(spec, seed, net).map_err(|e| format!("cannot start the fixture HTTP server: {e}"))?;
    let info = json!({"base": server.base_url(), "control": format!("/__grade/{}", server.token)});
    Ok((Some(server), info))
}
