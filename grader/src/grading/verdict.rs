//! A run's result turned into a verdict: status, points, the first failure's message, the diagnosis.
use crate::plan::Unit;
use crate::report::bounds;
use crate::report::model::{Diagnosis, Output, Status, TestResult, ThreadInfo};
use crate::runner::message::{Message, Proc, RunReport};
use crate::runner::{RunResult, Stop};
use crate::spec::Item;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

pub fn blank(item: &Item, status: Status) -> TestResult {
    TestResult {
        id: item.id.clone(),
        name: item.name.clone(),
        category: item.category,
        kind: item.kind(),
        status,
        points: if status == Status::Passed { item.points } else { 0.0 },
        max_points: item.points,
        duration_ms: 0,
        runs: 0,
        failed_runs: 0,
        seed: None,
        message: None,
        hint: None,
        location: None,
        diagnosis: None,
        measurement: None,
        visibility: item.visibility,
        findings: Vec::new(),
        output: None,
        peak_rss_kb: None,
        timing: None,
        manual: None,
        core: item.core,
        root_cause: None,
    }
}

/// The grader's or the spec's fault, never the student's: named, and worth nothing either way.
/// A timed item where the reference is not at hand (the student kit holds none): provisional, measured
/// against the reference when the course grades the submission.
pub fn no_reference(item: &Item) -> TestResult {
    let mut r = blank(item, Status::Pending);
    r.message = Some(
        "not measured here: the reference solution is not part of the student kit; the speed is measured against it \
         when the course grades your submission"
            .into(),
    );
    r
}

/// No verdict: the machine could not give a valid observation now (`why`). Nothing earned yet; the
/// category is provisional and the student is told to run again when the machine is quiet.
pub fn inconclusive(item: &Item, why: &str) -> TestResult {
    let mut r = blank(item, Status::Inconclusive);
    r.message = Some(format!("could not be measured validly on this machine now ({why}); it earns nothing until it is measured again"));
    r.hint = Some("run the grader again when the machine is quiet (nothing else busy)".into());
    r
}

pub fn grader_error(item: &Item, cause: &str) -> TestResult {
    let mut r = blank(item, Status::Error);
    r.message = Some(format!("grader error: {cause}"));
    r
}

/// The run's output as captured; `report::bounds` keeps its tail in the report.
pub fn output_of(run: &RunResult) -> Option<Output> {
    if run.stdout.total_bytes == 0 && run.stderr.total_bytes == 0 {
        return None;
    }
    Some(Output {
        stdout: run.stdout.text.clone(),
        stderr: run.stderr.text.clone(),
        truncated: run.stdout.truncated || run.stderr.truncated,
    })
}

/// The command that replays a failing run, and how faithfully it will.
fn replay(item: &Item, unit: &Unit, seed: u64) -> String {
    let how = match (item.scheduler, unit.trace) {
        (crate::spec::Scheduler::Controlled, _) => "exact: the controlled scheduler".to_string(),
        (_, Some(p)) => format!("likely, not certain: yield injection at probability {p}"),
        _ => "likely, not certain".to_string(),
    };
    format!("replay: grade {} --only {} --seed {seed} ({how})", unit.lab, item.id)
}

/// Judges a check run (deterministic, stress, deadlock).
pub fn from_run(item: &Item, unit: &Unit, run: &RunResult, student_root: &Path) -> TestResult {
    let mut r = blank(item, Status::Passed);
    r.peak_rss_kb = Some(run.peak_rss_bytes / 1024);
    let runs: Vec<&RunReport> = run.runs().collect();
    let failed: Vec<&&RunReport> = runs.iter().filter(|m| !m.ok).collect();
    r.runs = runs.len() as u32;
    r.failed_runs = failed.len() as u32;
    r.seed = unit.seeds.first().copied();
    let of_n = |what: &str| -> String {
        if unit.seeds.len() > 1 {
            format!("{what} (run {} of {})", runs.len() + 1, unit.seeds.len())
        } else {
            what.to_string()
        }
    };

    let first = |pick: fn(&Message) -> bool| run.messages.iter().find(|m| pick(m));
    let deadlock = first(|m| matches!(m, Message::Deadlock { .. }));
    if let Some(t) = runs.iter().find(|m| m.is_tampered()) {
        r.status = Status::Tampered;
        r.seed = t.seed.or(r.seed);
        r.message = t.message.clone();
        r.hint = t.hint.clone();
        r.location = t.location.as_ref().map(|l| l.at());
    } else if let Some(index) = reported_twice(&runs) {
        // Only a process that stole the run's nonce can write a second report of a run: a forgery.
        r.status = Status::Tampered;
        r.message = Some(format!(
            "tampered: the result channel carried two reports of run {index}; one was forged with the run's stolen nonce"
        ));
    } else if let Some(Message::Error { message, .. }) = first(|m| matches!(m, Message::Error { .. })) {
        r.status = Status::Error;
        r.message = Some(format!("grader error: {message}"));
    } else if let Some(Message::Malformed { error }) = first(|m| matches!(m, Message::Malformed { .. })) {
        r.status = Status::Error;
        r.message = Some(format!("grader error: the harness sent a message the grader cannot read ({error})"));
    } else if let Some(Message::Deadlock { diagnosis: found, seed, .. }) = deadlock {
        r.status = Status::Deadlock;
        r.runs += 1;
        r.failed_runs += 1;
        r.seed = seed.or(r.seed);
        let diagnosis: Option<Diagnosis> = serde_json::from_value(found.clone()).ok();
        r.message = diagnosis.as_ref().map(|d| match r.seed {
            Some(seed) if unit.seeds.len() > 1 => format!("{} ({})", d.summary, replay(item, unit, seed)),
            _ => d.summary.clone(),
        });
        r.location = diagnosis.as_ref().and_then(|d| d.threads.first()).map(|t| format!("{}:{}", t.file, t.line));
        r.diagnosis = diagnosis;
        let own_hint = found["hint"].as_str().map(String::from);
        r.hint = Some(item.hint.clone().or(own_hint).unwrap_or_else(|| {
            "acquire locks in one global order everywhere, or never hold one lock while waiting for another".into()
        }));
    } else if run.stop != Stop::Exited {
        let (status, message) = match &run.stop {
            Stop::Timeout => (Status::Timeout, of_n(&format!("did not finish within {} s", (item.timeout.as_secs_f64() * 10.0).round() / 10.0))),
            Stop::Memory { peak_mb } => (Status::Crashed, format!(
                "stopped: the processes used {peak_mb} MiB of memory, over this lab's limit")),
            Stop::Processes { count } => (Status::Crashed, format!(
                "stopped: {count} processes at once, over this lab's limit (a fork bomb, or workers never reaped?)")),
            Stop::OutputFlood { bytes } => (Status::Crashed, format!(
                "stopped: printed {} MiB of output", bytes / (1024 * 1024))),
            Stop::Exited => unreachable!(),
        };
        r.status = status;
        r.message = Some(message);
        if status == Status::Timeout {
            r.runs += 1;
            r.failed_runs += 1;
            r.seed = unit.seeds.get(runs.len()).copied().or(r.seed);
            r.diagnosis = run.stacks.as_deref().map(|s| stacks_diagnosis(s, student_root, &run.thread_names));
            let in_student = |t: &&ThreadInfo| t.line > 0 && student_root.join(&t.file).is_file();
            if let Some(t) = r.diagnosis.as_ref().and_then(|d| d.threads.iter().find(in_student)) {
                r.location = Some(format!("{}:{}", t.file, t.line));
            }
            r.hint = Some("a thread or process never finished: look for a wait nobody ends, or an endless loop".into());
        }
    } else if !run.done() || run.exit.is_some_and(|s| s.signal().is_some()) {
        // A harness killed by a signal the grader did not send is a crash even when the check got to
        // its end first: the student's code signalled a process it did not start.
        r.status = Status::Crashed;
        let mut msg = if run.done() {
            format!(
                "the harness process was killed ({}) by the student's code: it signals a process it did not start, \
                 such as os.getppid()",
                run.exit_text()
            )
        } else {
            format!(
                "the run ended ({}) before the check finished: os._exit(), a killed process or a crash in the student's code",
                run.exit_text()
            )
        };
        if run.forged > 0 {
            msg.push_str(&format!("; {} line(s) on the result channel were not the grader's and were ignored", run.forged));
        }
        r.message = Some(msg);
        r.runs += 1;
        r.failed_runs += 1;
    } else if let Some(first) = failed.first() {
        r.status = Status::Failed;
        r.seed = first.seed;
        // Capped before the replay's seed is added to it, so that stays whole.
        let msg = crate::report::text::cap_head(first.message.as_deref().unwrap_or("the check failed"), bounds::MESSAGE - 512).into_owned();
        r.message = Some(if unit.seeds.len() > 1 {
            format!("{msg} (failed {} of {} runs; {})", failed.len(), runs.len(), replay(item, unit, r.seed.unwrap_or(0)))
        } else {
            msg
        });
        r.hint = first.hint.clone().or_else(|| item.hint.clone());
        r.location = first.location.as_ref().map(|l| l.at());
        r.diagnosis = first.diagnosis.clone().and_then(|d| serde_json::from_value(d).ok());
    } else if let Some(Message::Leaked { processes }) = first(|m| matches!(m, Message::Leaked { .. })) {
        r.status = Status::Failed;
        r.message = Some(format!(
            "{} child process(es) still running after the check: {}",
            processes.len(),
            processes.iter().take(3).map(|p| format!("pid {} `{}`", p.pid, p.cmdline)).collect::<Vec<_>>().join(", ")
        ));
        r.hint = Some("join or shut down every worker: `with ProcessPoolExecutor() as pool:` or pool.close(); pool.join()".into());
    } else if let Some(strays) = strays(run) {
        r.status = Status::Failed;
        r.message = Some(format!(
            "{} process(es) outlived the check (detached with setsid or orphaned): {}",
            strays.len(),
            strays.iter().take(3).map(|(p, c)| format!("pid {p} `{c}`")).collect::<Vec<_>>().join(", ")
        ));
        r.hint = Some("every process you start must be waited for before your function returns".into());
    } else if let Some(Message::Zombies { processes }) = first(|m| matches!(m, Message::Zombies { .. })) {
        let pids: Vec<String> = processes.iter().map(|p| p.pid.to_string()).collect();
        r.status = Status::Failed;
        r.message = Some(format!(
            "{} child process(es) finished but were never joined (zombies): pid {}",
            pids.len(),
            pids.join(", ")
        ));
        r.hint = Some("join() every Process you start (or use a pool in a `with` block)".into());
    } else if let Some(line) = run.stderr.text.lines().find(|l| l.contains("resource_tracker: There appear to be")) {
        r.status = Status::Failed;
        r.message = Some(format!("multiprocessing's resource tracker reported a leak: {}", line.trim()));
        r.hint = Some("close() and unlink() every shared-memory segment and semaphore you create".into());
    } else if runs.len() < unit.seeds.len() {
        r.status = Status::Crashed;
        r.message = Some(format!("only {} of {} runs reported", runs.len(), unit.seeds.len()));
    }
    if r.status != Status::Passed {
        r.points = 0.0;
        r.output = output_of(run);
    }
    r
}

/// A run number reported twice on the result channel.
fn reported_twice(runs: &[&RunReport]) -> Option<i64> {
    let mut seen = std::collections::BTreeSet::new();
    runs.iter().filter_map(|m| m.index).find(|&i| !seen.insert(i))
}

/// Processes that outlived the check: reported by the harness's supervisor or found by the grader.
fn strays(run: &RunResult) -> Option<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = run
        .messages
        .iter()
        .flat_map(|m| match m {
            Message::Strays { processes } => processes.as_slice(),
            _ => &[],
        })
        .map(|p: &Proc| (p.pid, p.cmdline.clone()))
        .collect();
    out.extend(run.strays.iter().map(|(p, c)| (*p as i64, c.clone())));
    (!out.is_empty()).then_some(out)
}

/// faulthandler's dump ("Thread 0x... (most recent call first):" then "  File "...", line N in f")
/// as threads, each at its innermost frame in the student's files (or its innermost frame at all).
pub fn stacks_diagnosis(dump: &str, student_root: &Path, names: &std::collections::HashMap<String, String>) -> Diagnosis {
    let root = format!("{}/", student_root.display());
    let mut threads = Vec::new();
    let mut current: Option<(String, Vec<(String, u64, String)>)> = None;
    let is_harness = |f: &str| f.rsplit('/').next().is_some_and(|b| b.starts_with("grade_") || b == "checks.py");
    let flush = |cur: Option<(String, Vec<(String, u64, String)>)>, out: &mut Vec<ThreadInfo>| {
        let Some((name, frames)) = cur else { return };
        // The innermost frame in the student's files; else, for a thread that never left the standard
        // library (a Thread whose target is Event.wait), its innermost frame. Harness threads are left out.
        let pick = frames.iter().find(|f| f.0.starts_with(&root)).or_else(|| {
            (!frames.iter().any(|f| is_harness(&f.0))).then(|| frames.first()).flatten()
        });
        if let Some((file, line, func)) = pick {
            let file = match file.strip_prefix(&root) {
                Some(rel) => rel.to_string(),
                None => file.rsplit('/').next().unwrap_or(file).to_string(),
            };
            out.push(ThreadInfo { name, file, line: *line, function: func.clone(), waiting_for: None, holding: Vec::new() });
        }
    };
    for line in dump.lines() {
        let t = line.trim();
        if t.starts_with("Thread 0x") || t.starts_with("Current thread 0x") {
            flush(current.take(), &mut threads);
            let id = t.split_whitespace().find(|w| w.starts_with("0x")).unwrap_or("?");
            let name = names.get(id).cloned().unwrap_or_else(|| format!("thread {id}"));
            current = Some((name, Vec::new()));
        } else if let Some(rest) = t.strip_prefix("File \"") {
            if let (Some((file, after)), Some(cur)) = (rest.split_once("\", line "), current.as_mut()) {
                let (num, func) = after.split_once(" in ").unwrap_or((after, "?"));
                cur.1.push((file.to_string(), num.trim().parse().unwrap_or(0), func.trim().to_string()));
            }
        }
    }
    flush(current.take(), &mut threads);
    let summary = if threads.is_empty() {
        "no thread was in the student's code when it was stopped".to_string()
    } else {
        format!(
            "still running when stopped: {}",
            threads.iter().map(|t| format!("{} at {}:{} in {}", t.name, t.file, t.line, t.function)).collect::<Vec<_>>().join("; ")
        )
    };
    Diagnosis { kind: "timeout".into(), summary, threads, cycle: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_name_student_frames() {
        let dump = "Thread 0x00007f01 (most recent call first):\n  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n  File \"/tmp/w/sub/queue_lab.py\", line 14 in get\n  File \"/tmp/h/grade_check.py\", line 80 in body\n\nCurrent thread 0x00007f02 (most recent call first):\n  File \"/tmp/h/grade_check.py\", line 99 in run\n";
        let names = [("0x00007f01".to_string(), "consumer-1".to_string())].into_iter().collect();
        let d = stacks_diagnosis(dump, Path::new("/tmp/w/sub"), &names);
        assert_eq!(d.threads.len(), 1, "the harness's own thread is left out");
        assert_eq!(d.threads[0].name, "consumer-1");
        assert_eq!(d.threads[0].file, "queue_lab.py");
        assert_eq!(d.threads[0].line, 14);
        assert_eq!(d.threads[0].function, "get");
        assert!(d.summary.contains("queue_lab.py:14"));
        let lib_only = "Thread 0x01 (most recent call first):\n  File \"/usr/lib/python3.11/threading.py\", line 320 in wait\n  File \"/usr/lib/python3.11/threading.py\", line 1038 in _bootstrap\n";
        let d = stacks_diagnosis(lib_only, Path::new("/tmp/w/sub"), &Default::default());
        assert_eq!((d.threads[0].file.as_str(), d.threads[0].line), ("threading.py", 320));
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod from_run_tests;
