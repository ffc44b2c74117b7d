//! Running one worker process under a watchdog and saying how it went: a report, an error it could name
//! (the submission cannot be graded), or a crash (killed by a signal, a non-zero exit without a report, or
//! no report within the budget), with the tail of its stderr.
//!
//! A worker is in a process group of its own, dies with the coordinator (a parent-death signal), and is
//! registered with the interrupt handler, so Ctrl-C or SIGTERM of the batch kills it and its runs.
use super::strays;
use crate::report::model::Report;
use crate::runner::interrupt;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A report is a few MiB at most; anything past this is not one.
const STDOUT_CAP: u64 = 64 * 1024 * 1024;
/// How much of a worker's stderr is kept for `errors/<student>.txt`.
const STDERR_TAIL: usize = 16 * 1024;
const POLL: Duration = Duration::from_millis(50);

/// How a worker's grading ended.
#[derive(Debug)]
pub enum Outcome {
    Report(Box<Report>),
    /// The grader could not grade the submission, and said why (today's `error` row).
    Error(String),
    /// The worker was lost: why, and the tail of its stderr.
    Crashed { why: String, stderr: String },
}

/// Spawns `cmd` as a worker, waits for it at most `budget`, and classifies the result.
pub fn run(mut cmd: Command, budget: Duration) -> Outcome {
    let parent = nix::unistd::getpid();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    // SAFETY: only async-signal-safe calls (sigprocmask, prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::signal::SigSet::empty().thread_set_mask()?;
            nix::sys::prctl::set_pdeathsig(Some(Signal::SIGKILL))?;
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the batch died while starting a worker"));
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let registering = interrupt::spawning();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Error(format!("cannot start a grading worker: {e}")),
    };
    let pid = child.id() as i32;
    interrupt::add_root(pid);
    drop(registering);
    let stdout = drain(child.stdout.take(), |r, buf| r.by_ref().take(STDOUT_CAP).read_to_end(buf).map(|_| ()));
    let stderr = drain(child.stderr.take(), tail);
    let deadline = started + budget;
    let (status, overdue) = loop {
        match child.try_wait() {
            Ok(Some(s)) => break (Some(s), false),
            Ok(None) if Instant::now() >= deadline => {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                break (child.wait().ok(), true);
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => break (None, false),
        }
    };
    interrupt::remove_root(pid);
    if interrupt::interrupted() {
        // The batch is being stopped and killed its workers: not the students' doing, and nothing to record.
        loop {
            std::thread::park();
        }
    }
    let took = started.elapsed().as_secs_f64();
    // The pipes close with the worker; a stray that kept one open is not waited for long.
    let stdout = stdout.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr.recv_timeout(Duration::from_secs(5)).unwrap_or_default()).into_owned();
    let outcome = classify(status, overdue, budget, took, &stdout, stderr);
    if matches!(outcome, Outcome::Crashed { .. }) {
        strays::sweep(pid);
    }
    outcome
}

/// Reads a pipe to its end on a thread of its own, so neither pipe can fill and stall the worker.
fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
    read: fn(&mut R, &mut Vec<u8>) -> std::io::Result<()>,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = read(&mut pipe, &mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// The last `STDERR_TAIL` bytes of a stream.
fn tail<R: Read>(r: &mut R, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut kept: VecDeque<u8> = VecDeque::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        kept.extend(&chunk[..n]);
        let excess = kept.len().saturating_sub(STDERR_TAIL);
        kept.drain(..excess);
    }
    out.extend(kept);
    Ok(())
}

fn signal_name(sig: i32) -> String {
    Signal::try_from(sig).map(|s| s.as_str().to_string()).unwrap_or_else(|_| format!("signal {sig}"))
}

fn classify(status: Option<ExitStatus>, overdue: bool, budget: Duration, took: f64, stdout: &[u8], stderr: String) -> Outcome {
    let crashed = |why: String| Outcome::Crashed { why, stderr: stderr.clone() };
    if overdue {
        return crashed(format!(
            "the grading worker gave no report within {:.0} s (the watchdog's limit for this lab) and was killed",
            budget.as_secs_f64()
        ));
    }
    let Some(status) = status else { return crashed("the grading worker was lost (its status could not be read)".into()) };
    if let Some(sig) = status.signal() {
        return crashed(format!("the grading worker was killed by {} after {took:.1} s", signal_name(sig)));
    }
    match status.code() {
        Some(0) => match serde_json::from_slice::<Report>(stdout) {
            Ok(r) => Outcome::Report(Box::new(r)),
            Err(e) => crashed(format!("the grading worker's report could not be read after {took:.1} s: {e}")),
        },
        // The worker's own "grade: error: ..." (exit 2): the submission could not be graded, as it says.
        Some(2) if stderr.contains("grade: error: ") => {
            let at = stderr.rfind("grade: error: ").unwrap_or(0) + "grade: error: ".len();
            Outcome::Error(stderr[at..].trim().to_string())
        }
        Some(c) => crashed(format!("the grading worker exited with status {c} without a report after {took:.1} s")),
        None => crashed("the grading worker ended in an unknown way".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(o: Outcome) -> String {
        match o {
            Outcome::Crashed { why, .. } => why,
            other => panic!("not a crash: {other:?}"),
        }
    }

    #[test]
    fn a_lost_worker_is_a_crash_that_says_how() {
        let b = Duration::from_secs(100);
        let killed = why(classify(Some(ExitStatus::from_raw(9)), false, b, 12.34, b"", String::new()));
        assert_eq!(killed, "the grading worker was killed by SIGKILL after 12.3 s");
        let exited = why(classify(Some(ExitStatus::from_raw(3 << 8)), false, b, 1.0, b"", "boom".into()));
        assert!(exited.contains("status 3 without a report"), "{exited}");
        assert!(why(classify(Some(ExitStatus::from_raw(0)), true, b, 100.0, b"", String::new())).contains("within 100 s"));
        assert!(why(classify(Some(ExitStatus::from_raw(0)), false, b, 1.0, b"{not json", String::new())).contains("could not be read"));
    }

    #[test]
    fn an_error_the_worker_names_is_not_a_crash() {
        let o = classify(Some(ExitStatus::from_raw(2 << 8)), false, Duration::from_secs(9), 0.1, b"", "grade: error: sub/x: nope\n".into());
        assert!(matches!(o, Outcome::Error(ref m) if m == "sub/x: nope"), "{o:?}");
    }
}
