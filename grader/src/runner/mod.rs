//! One isolated run of the Python harness: spawn, watch, stop, collect.
//!
//! Every run gets its own session (so its whole tree can be found and killed), a closed stdin, captured
//! stdout/stderr with a cap, limits on address space, file size and core dumps, a watch on resident
//! memory, process count and output volume, and two private pipes: fd 3 carries the harness's results,
//! fd 4 the job. Results are JSON lines stamped with a nonce only the harness knows, so whatever the
//! student's code prints, it cannot pass for a result.
pub mod capture;
pub mod exclusive;
pub mod interrupt;
pub mod procs;
pub mod jail;
pub mod job;
pub mod message;
mod outcome;
mod results;

pub use outcome::{RunResult, Stop};
pub mod timing;

use crate::error::{Error, Result};
use crate::spec::Limits;
use capture::Drain;
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use procs::Tree;
use job::{Envelope, Job};
use message::Message;
use results::{read_results, Line};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How much output a run may produce at all before it is stopped as a flood.
const OUTPUT_FLOOD_BYTES: u64 = 64 * 1024 * 1024;
const POLL: Duration = Duration::from_millis(20);

/// What to run: the interpreter, the harness, the job it receives, and the limits.
pub struct RunSpec<'a> {
    pub python: &'a Path,
    /// Run `site` (a managed environment's packages); without it the interpreter starts with -S.
    pub site: bool,
    pub harness: &'a Path,
    pub workdir: &'a Path,
    pub job: Job,
    pub timeout: Duration,
    pub limits: &'a Limits,
    /// The network namespace the run's services listen in (a fixture server); `None`: one of its own.
    pub net: Option<std::sync::Arc<jail::Netns>>,
}

/// A running harness process.
pub struct Run {
    /// Kept until the run is over: its cgroup is removed when the last process has left.
    _jail: std::sync::Arc<jail::Jail>,
    child: Child,
    tree: Tree,
    rx: mpsc::Receiver<Line>,
    ctl: Option<File>,
    stdout: Option<Drain>,
    stderr: Option<Drain>,
    started: Instant,
    /// From the spawn to the harness's hello: the interpreter's start-up and the harness's imports.
    hello_at: Option<Duration>,
    deadline: Instant,
    limits: Limits,
    stacks_path: PathBuf,
    messages: Vec<Message>,
    forged: u32,
    peak_rss: u64,
    check_pid: Option<i32>,
    stop: Option<Stop>,
    exit: Option<ExitStatus>,
    last_scan: Instant,
}

fn nonce() -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().gen();
    format!("{n:032x}")
}

impl Run {
    /// Starts the harness on `spec.job`.
    pub fn spawn(spec: RunSpec) -> Result<Run> {
        let (res_r, res_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Error::Internal(format!("pipe: {e}")))?;
        let (ctl_r, ctl_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Error::Internal(format!("pipe: {e}")))?;
        let nonce = nonce();
        let stacks_path = spec.workdir.with_file_name(format!(
            "stacks-{}.txt",
            spec.workdir.file_name().and_then(|s| s.to_str()).unwrap_or("run")
        ));
        let mut job = spec.job;
        let run_dir = spec.workdir.parent().unwrap_or(spec.workdir);
        let mem = spec.limits.memory_mb;
        let address_space = (mem * 4 + 2048) * 1024 * 1024;
        let (res_fd, ctl_fd) = (res_w.as_raw_fd(), ctl_r.as_raw_fd());
        let tmp = spec.workdir.with_file_name("tmp");
        let _ = std::fs::create_dir_all(&tmp);
        let mut cmd = Command::new(spec.python);
        // Not -I: the environment is cleared anyway, and PYTHONHASHSEED must reach the interpreter so that
        // set and dict orders (and so a controlled schedule) are the same from one run to the next.
        // -S: the harness and the labs so far need only the standard library, and `site` (with the .pth
        // files of a system-wide site-packages) is a third of the interpreter's start-up.
        if !spec.site {
            cmd.arg("-S");
        }
        cmd.arg("-s").arg("-B").arg("-u").arg(spec.harness);
        cmd.current_dir(spec.workdir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", &tmp)
            .env("TMPDIR", &tmp)
            .env("LANG", "C.UTF-8")
            .env("MALLOC_ARENA_MAX", "2")
            .env("PYTHONHASHSEED", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // What the run may read besides its own directory and the system's: the harness, the interpreter's
        // prefix (a managed environment's too) and a copy of the lab's checks.
        let mut readable: Vec<PathBuf> = spec.harness.parent().map(Path::to_path_buf).into_iter().collect();
        if let Some(checks) = job.checks_mut() {
            let copy = job::copy_checks(checks, run_dir)?;
            readable.extend(copy.parent().map(Path::to_path_buf));
            *checks = copy;
        }
        readable.extend(jail::interpreter_dirs(spec.python));
        let jail = std::sync::Arc::new(
            jail::Jail::prepare(spec.python, run_dir, &readable, spec.limits, spec.net.clone())
                .map_err(|e| Error::Internal(format!("cannot prepare the run's confinement: {e}")))?,
        );
        let confine = jail.clone();
        let private_shm = jail.layers().namespaces;
        // SAFETY: only async-signal-safe calls (setsid, fcntl, dup2, setrlimit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::signal::SigSet::empty().thread_set_mask()?;
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                // A grader killed outright (SIGKILL: no clean-up) takes the run with it; the supervisor's
                // check process already dies with the supervisor.
                nix::sys::prctl::set_pdeathsig(Some(Signal::SIGKILL))?;
                // Namespaces and Landlock (the cgroup is joined from the grader, after the spawn); before
                // the dup2s below, which the ruleset's fd (it may have a low number) must survive. From
                // here on this is process 1 of the run's namespace.
                confine.enter()?;
                let r = nix::fcntl::fcntl(res_fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))?;
                let c = nix::fcntl::fcntl(ctl_fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))?;
                nix::unistd::dup2(r, 3)?;
                nix::unistd::dup2(c, 4)?;
                setrlimit(Resource::RLIMIT_AS, address_space, address_space)?;
                setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
                let fsize = 256 * 1024 * 1024;
                setrlimit(Resource::RLIMIT_FSIZE, fsize, fsize)?;
                Ok(())
            });
        }
        let registering = interrupt::spawning();
        let mut child = cmd.spawn().map_err(|e| Error::Python(format!(
            "cannot start the Python interpreter {}: {e}. Install CPython 3.11 or pass --python PATH.",
            spec.python.display()
        )))?;
        interrupt::add_root(child.id() as i32);
        drop(registering);
        drop(res_w);
        drop(ctl_r);
        let cap = (spec.limits.output_kb * 1024) as usize;
        let stdout = Drain::start(child.stdout.take().expect("piped stdout"), cap);
        let stderr = Drain::start(child.stderr.take().expect("piped stderr"), cap);
        let rx = read_results(res_r, nonce.clone());
        if let Err(e) = jail.adopt(child.id() as i32) {
            let _ = child.kill();
            return Err(Error::Internal(format!("cannot put the run into its cgroup: {e}")));
        }
        let mut ctl = File::from(ctl_w);
        let envelope = Envelope { job: &job, nonce: &nonce, stacks: &stacks_path, private_shm };
        let line = serde_json::to_string(&envelope).map_err(|e| Error::Internal(e.to_string()))? + "\n";
        let _ = ctl.write_all(line.as_bytes());
        let started = Instant::now();
        Ok(Run {
            _jail: jail,
            tree: Tree::new(child.id() as i32),
            child,
            rx,
            ctl: Some(ctl),
            stdout: Some(stdout),
            stderr: Some(stderr),
            started,
            hello_at: None,
            deadline: started + spec.timeout,
            limits: spec.limits.clone(),
            stacks_path,
            messages: Vec::new(),
            forged: 0,
            peak_rss: 0,
            check_pid: None,
            stop: None,
            exit: None,
            last_scan: started - POLL,
        })
    }

    /// Sends one command line to the harness (bench mode).
    pub fn send(&mut self, line: &str) {
        if let Some(ctl) = self.ctl.as_mut() {
            let _ = ctl.write_all(format!("{line}\n").as_bytes());
        }
    }

    /// CPU this run's processes have used so far, in clock ticks (see `procs::Tree::cpu_ticks`).
    pub fn cpu_ticks(&mut self) -> u64 {
        self.tree.cpu_ticks()
    }

    /// Sets a new deadline from now (bench mode: each sample gets its own).
    pub fn extend(&mut self, by: Duration) {
        self.deadline = Instant::now() + by;
    }

    /// The next result message, watching limits meanwhile; `None` once the run has stopped.
    pub fn next_message(&mut self) -> Option<Message> {
        loop {
            if self.stop.is_some() {
                return None;
            }
            match self.rx.recv_timeout(POLL) {
                Ok(Line::Msg(m)) => {
                    if let Message::Hello { pid, .. } = m {
                        self.check_pid = Some(pid);
                        self.hello_at = Some(self.started.elapsed());
                    }
                    self.messages.push(m.clone());
                    return Some(m);
                }
                Ok(Line::Forged) => self.forged += 1,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Every writer is gone; the root is about to exit (watch() sees it, or the limits).
                    std::thread::sleep(POLL);
                }
            }
            self.watch();
        }
    }

    /// One look at the run: has it exited, outgrown a limit, or run out of time?
    fn watch(&mut self) {
        if self.stop.is_some() {
            return;
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            self.exit = Some(status);
            // Give the reader a moment to deliver what was written before the exit.
            let until = Instant::now() + Duration::from_millis(200);
            while Instant::now() < until {
                match self.rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(Line::Msg(m)) => self.messages.push(m),
                    Ok(Line::Forged) => self.forged += 1,
                    Err(_) => break,
                }
            }
            self.stop = Some(Stop::Exited);
            return;
        }
        if self.last_scan.elapsed() >= POLL {
            self.last_scan = Instant::now();
            let usage = self.tree.refresh();
            self.peak_rss = self.peak_rss.max(usage.rss_bytes);
            if usage.rss_bytes > self.limits.memory_mb * 1024 * 1024 {
                self.stop = Some(Stop::Memory { peak_mb: usage.rss_bytes / (1024 * 1024) });
            } else if usage.alive > self.limits.processes {
                self.stop = Some(Stop::Processes { count: usage.alive });
            }
        }
        let out = self.stdout.as_ref().map(|d| d.total.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0)
            + self.stderr.as_ref().map(|d| d.total.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0);
        if self.stop.is_none() && out > OUTPUT_FLOOD_BYTES {
            self.stop = Some(Stop::OutputFlood { bytes: out });
        }
        if self.stop.is_none() && Instant::now() >= self.deadline {
            self.stop = Some(Stop::Timeout);
            self.dump_stacks();
        }
        if self.stop.is_some() {
            self.tree.kill_all(Duration::from_millis(300));
        }
    }

    /// Asks the check process for every thread's stack (faulthandler on SIGUSR1) before the kill.
    fn dump_stacks(&mut self) {
        if let Some(pid) = self.check_pid.and_then(|p| self.tree.host_pid(p)) {
            // Thread names first (a Python handler, when the main thread can still run one), then stacks.
            let names = PathBuf::from(format!("{}.names", self.stacks_path.display()));
            if kill(Pid::from_raw(pid), Signal::SIGUSR2).is_ok() {
                let until = Instant::now() + Duration::from_millis(150);
                while Instant::now() < until && !names.exists() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            if kill(Pid::from_raw(pid), Signal::SIGUSR1).is_ok() {
                let until = Instant::now() + Duration::from_millis(400);
                let mut last = 0;
                while Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(40));
                    let len = std::fs::metadata(&self.stacks_path).map(|m| m.len()).unwrap_or(0);
                    if len > 0 && len == last {
                        break;
                    }
                    last = len;
                }
            }
        }
    }

    /// Reads messages until the harness says `done` or the run stops; then ends the run.
    pub fn wait(mut self) -> RunResult {
        while let Some(m) = self.next_message() {
            if m.is_final() {
                break;
            }
        }
        self.finish()
    }

    /// Ends the run: lets the root exit (briefly), kills whatever is left, and collects everything.
    pub fn finish(mut self) -> RunResult {
        self.ctl = None;
        // The supervisor may wait up to 2 s for multiprocessing's resource tracker to exit.
        let until = Instant::now() + Duration::from_secs(3);
        while self.exit.is_none() && self.stop.as_ref().is_none_or(|s| *s == Stop::Exited) {
            match self.child.try_wait() {
                Ok(Some(status)) => self.exit = Some(status),
                _ if Instant::now() > until => break,
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let strays = if self.exit.is_some() && self.stop.as_ref().is_none_or(|s| *s == Stop::Exited) {
            std::thread::sleep(Duration::from_millis(50));
            self.tree.others_alive()
        } else {
            Vec::new()
        };
        self.tree.kill_all(Duration::from_millis(200));
        if self.exit.is_none() {
            self.exit = self.child.wait().ok();
        }
        let stop = self.stop.clone().unwrap_or(Stop::Exited);
        // Messages written before the kill are still in the pipe.
        while let Ok(line) = self.rx.recv_timeout(Duration::from_millis(100)) {
            match line {
                Line::Msg(m) => self.messages.push(m),
                Line::Forged => self.forged += 1,
            }
        }
        let wait = Duration::from_millis(500);
        let stdout = self.stdout.take().map(|d| d.finish(wait)).unwrap_or_default();
        let stderr = self.stderr.take().map(|d| d.finish(wait)).unwrap_or_default();
        let stacks = results::read_run_file(&self.stacks_path, 4 << 20)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .filter(|s| !s.trim().is_empty());
        let thread_names = results::read_run_file(&PathBuf::from(format!("{}.names", self.stacks_path.display())), 1 << 20)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        timing::add(self.started.elapsed(), self.hello_at);
        RunResult {
            messages: std::mem::take(&mut self.messages),
            stop,
            exit: self.exit,
            stdout,
            stderr,
            stacks,
            thread_names,
            strays,
            forged: self.forged,
            peak_rss_bytes: self.peak_rss,
            duration: self.started.elapsed(),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Whatever happens to the grader's control flow, nothing of a run survives it.
        self.tree.kill_all(Duration::from_millis(50));
        let _ = self.child.try_wait();
        interrupt::remove_root(self.tree.root());
    }
}

