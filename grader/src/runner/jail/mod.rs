//! The confinement of one run, with the strongest layers this machine allows.
//!
//! The student's code runs as the grader's user, so without confinement it could read the course's checks
//! and the reference, signal the grader or a classmate's run, litter /dev/shm or write /proc/sys. Each run
//! gets, where the kernel and privileges allow:
//! - its own PID and mount namespaces (`ns`): it sees and can signal only its own processes, /proc is
//!   private (no grader's command line or environment), /proc/sys and friends are read-only, /dev/shm is
//!   a private tmpfs that vanishes with the run; the namespace's first process reaps every orphan, and
//!   killing it kills everything the run started, however it hopped pids;
//! - a Landlock domain (`rules`): reads only beneath the run's directory, the interpreter, the managed
//!   environment, the harness, the lab's workload file and the system's libraries; writes only beneath the
//!   run's directory, /dev/shm and a few /dev files; no signal to, and no abstract socket of, anything
//!   outside the run;
//! - a `pids` cgroup (`cgroup`) that caps how many tasks the run may hold at once;
//! - a network namespace (`net`) with only its loopback, where the grader binds the run's own services
//!   (a fixture server): no other network, no classmate's services, no grader's ports.
//!
//! `layers()` probes once what works and `describe()` names what was missing, for the report. A laptop
//! without user namespaces still grades, with fewer layers, and the report says so.
mod cgroup;
mod net;
mod ns;
mod rules;

pub use net::Netns;

use crate::spec::Limits;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What this machine lets the grader confine a run with (probed once per grader process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    /// PID + mount namespaces (as root, or through a user namespace).
    pub namespaces: bool,
    /// Landlock's ABI version (0: none). 1+: file reads and writes; 6+: signal and abstract-socket scopes.
    pub landlock: i32,
    pub cgroup_pids: bool,
    /// A network namespace per run, made by the grader (root only: it needs CAP_SYS_ADMIN outside).
    pub network: bool,
}

impl Layers {
    pub fn describe(&self) -> String {
        let mut on = Vec::new();
        let mut off = Vec::new();
        let mut put = |yes: bool, what: &str| if yes { on.push(what.to_string()) } else { off.push(what.to_string()) };
        put(self.namespaces, "pid-namespace");
        put(self.namespaces, "private-proc-and-shm");
        put(self.landlock >= 1, "landlock-files");
        put(self.landlock >= 6, "landlock-signals");
        put(self.cgroup_pids, "cgroup-pids");
        put(self.network, "network-namespace");
        let on = if on.is_empty() { "none".to_string() } else { on.join("+") };
        if off.is_empty() { on } else { format!("{on}; missing: {}", off.join(", ")) }
    }
}

/// The layers that work here, found by starting a confined interpreter once with each candidate set.
pub fn layers(python: &Path) -> Layers {
    static LAYERS: OnceLock<Layers> = OnceLock::new();
    *LAYERS.get_or_init(|| probe(python))
}

fn probe(python: &Path) -> Layers {
    // GRADE_JAIL=none|landlock|no-cgroup lowers the ceiling (to measure what each layer costs, or to
    // grade where a layer misbehaves); the report names what was left out either way.
    let ceiling = std::env::var("GRADE_JAIL").unwrap_or_default();
    let abi = if ceiling == "none" { 0 } else { rules::abi() };
    let cg = !matches!(ceiling.as_str(), "none" | "landlock" | "no-cgroup") && cgroup::available();
    let ns_ok = !matches!(ceiling.as_str(), "none" | "landlock");
    let net = ns_ok && !matches!(ceiling.as_str(), "no-network") && nix::unistd::geteuid().is_root() && Netns::new().is_ok();
    let candidates = [
        Layers { namespaces: ns_ok, landlock: abi, cgroup_pids: cg, network: net },
        Layers { namespaces: ns_ok, landlock: abi, cgroup_pids: cg, network: false },
        Layers { namespaces: false, landlock: abi, cgroup_pids: cg, network: false },
        Layers { namespaces: false, landlock: abi, cgroup_pids: false, network: false },
        Layers { namespaces: false, landlock: 0, cgroup_pids: false, network: false },
    ];
    let tmp = std::env::temp_dir();
    candidates
        .iter()
        .copied()
        .find(|l| try_layers(*l, python, &tmp))
        .unwrap_or(Layers { namespaces: false, landlock: 0, cgroup_pids: false, network: false })
}

/// Runs `python -S -c ...` confined with `layers`: true when it started and saw what it should.
fn try_layers(layers: Layers, python: &Path, tmp: &Path) -> bool {
    use std::os::unix::process::CommandExt;
    let Ok(dir) = tempfile::Builder::new().prefix("grade-probe-").tempdir_in(tmp) else { return false };
    // Owned like a workspace: a grader killed outright during its probe leaves it to the next sweep.
    let _ = crate::write_atomically(&dir.path().join("owner"), &std::process::id().to_string());
    let limits = Limits { timeout: std::time::Duration::from_secs(10), memory_mb: 256, processes: 4, output_kb: 64 };
    let readable = interpreter_dirs(python);
    let Ok(jail) = Jail::prepare_with(layers, dir.path(), &readable, &limits, None) else { return false };
    let mut cmd = std::process::Command::new(python);
    // It waits for a line on stdin, so that it is still there to be put into its cgroup. In the
    // namespaces, it is process 1 and sees only itself in /proc.
    let script = if layers.namespaces {
        "import os,sys; sys.stdin.readline(); sys.exit(0 if os.getpid()==1 and len([p for p in os.listdir('/proc') if p.isdigit()])==1 else 3)"
    } else {
        "import sys; sys.stdin.readline()"
    };
    cmd.args(["-S", "-s", "-B", "-c", script])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let jail = std::sync::Arc::new(jail);
    let inside = jail.clone();
    // SAFETY: enter() makes only async-signal-safe system calls on data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || inside.enter());
    }
    let Ok(mut child) = cmd.spawn() else { return false };
    let adopted = jail.adopt(child.id() as i32).is_ok();
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(b"\n");
    }
    matches!(child.wait(), Ok(s) if s.success()) && adopted
}

/// The directories an interpreter needs to start: its prefix (through links, and as named).
pub fn interpreter_dirs(python: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let named = python.parent().and_then(Path::parent).map(Path::to_path_buf);
    let real = python.canonicalize().ok().and_then(|p| p.parent().and_then(Path::parent).map(Path::to_path_buf));
    for d in [named, real].into_iter().flatten() {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// Everything one run's confinement needs, prepared in the grader before the fork, so that the child
/// only makes system calls (no allocation between fork and exec).
pub struct Jail {
    layers: Layers,
    rules: Option<rules::Prepared>,
    ns: Option<ns::Prepared>,
    cgroup: Option<cgroup::Group>,
    /// The run's network namespace, kept open until the run is over.
    _net: Option<std::sync::Arc<Netns>>,
    net_fd: Option<std::os::fd::RawFd>,
}

/// A network namespace for a run whose services must listen in it before it starts (`None` when the layer
/// is off here). A run given none gets a namespace of its own when the layer is on.
pub fn netns(python: &Path) -> std::io::Result<Option<std::sync::Arc<Netns>>> {
    if layers(python).network { Netns::new().map(|n| Some(std::sync::Arc::new(n))) } else { Ok(None) }
}

impl Jail {
    /// A jail for a run whose private directory is `run_dir`, which may also read `readable`.
    pub fn prepare(
        python: &Path,
        run_dir: &Path,
        readable: &[PathBuf],
        limits: &Limits,
        net: Option<std::sync::Arc<Netns>>,
    ) -> std::io::Result<Jail> {
        Self::prepare_with(layers(python), run_dir, readable, limits, net)
    }

    fn prepare_with(
        layers: Layers,
        run_dir: &Path,
        readable: &[PathBuf],
        limits: &Limits,
        net: Option<std::sync::Arc<Netns>>,
    ) -> std::io::Result<Jail> {
        let rules = if layers.landlock > 0 {
            Some(rules::prepare(layers.landlock, run_dir, readable, layers.namespaces)?)
        } else {
            None
        };
        let ns = if layers.namespaces { Some(ns::prepare(limits.memory_mb)) } else { None };
        let cgroup = if layers.cgroup_pids { cgroup::Group::create(pids_max(limits)).ok() } else { None };
        let net = match net {
            Some(n) if layers.network => Some(n),
            _ if layers.network => Some(std::sync::Arc::new(Netns::new()?)),
            _ => None,
        };
        let net_fd = net.as_ref().map(|n| n.raw());
        Ok(Jail { layers, rules, ns, cgroup, _net: net, net_fd })
    }

    pub fn layers(&self) -> Layers {
        self.layers
    }

    /// Puts the run's first process into its cgroup, from the grader, before the harness reads its job
    /// (so before it forks anything). `root` is the process spawned; with namespaces, its only child.
    pub fn adopt(&self, root: i32) -> std::io::Result<()> {
        let Some(cg) = &self.cgroup else { return Ok(()) };
        let first = if self.ns.is_some() { first_child(root).ok_or_else(|| std::io::Error::other("no process 1"))? } else { root };
        cg.adopt(first)
    }

    /// In the child, between fork and exec: enters the namespaces (the calling process
    /// stays outside as a relay of the exit status; its child becomes the namespace's process 1 and goes
    /// on to exec), then restricts itself with Landlock. Async-signal-safe system calls only.
    pub fn enter(&self) -> std::io::Result<()> {
        if let Some(fd) = self.net_fd {
            net::join(fd)?;
        }
        if let Some(ns) = &self.ns {
            ns.enter()?;
        }
        if let Some(r) = &self.rules {
            r.restrict_self(self.ns.is_some())?;
        }
        Ok(())
    }
}

fn first_child(pid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Tasks (processes and threads alike) a run may hold at once: a fork bomb or pid hopping stops there,
/// well below the machine's pid_max, while the labs' hundreds of threads fit.
fn pids_max(limits: &Limits) -> u32 {
    (limits.processes * 64).max(1024)
}
