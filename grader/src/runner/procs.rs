//! The process tree of one run, found through /proc: membership, resident memory, and killing it all.
//!
//! A run's root calls `setsid()`, so its session id is its pid. A process belongs to the run when it is in
//! that session or its parent belongs (which catches children that call `setsid()` themselves while their
//! parent lives). The grader is the child subreaper, so orphans come to it and are reaped here.
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ProcStat {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub state: char,
    pub start: u64,
    pub rss_pages: u64,
    /// utime + stime + cutime + cstime: the CPU the process and its reaped children used, in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads /proc/<pid>/stat of every process on the machine.
pub fn scan() -> Vec<ProcStat> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if let Some(stat) = read_stat(pid) {
            out.push(stat);
        }
    }
    out
}

pub fn read_stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // fields after the command: state(3) ppid(4) pgrp(5) session(6) ... starttime(22) vsize(23) rss(24)
    Some(ProcStat {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
        cpu_ticks: (11..15).filter_map(|i| f.get(i)?.parse::<u64>().ok()).sum(),
    })
}

pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " ").trim().to_string())
        .unwrap_or_default()
}

/// Busy CPU time of the whole machine so far, in clock ticks (every state of /proc/stat's `cpu` line but
/// idle and iowait; steal counts: time the hypervisor took is time the measurement lost).
pub fn machine_busy_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    Some(v.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, x)| x).sum())
}

/// Clock ticks per second, for the two above.
pub fn ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().map(|v| v as f64).unwrap_or(100.0)
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().map(|v| v as u64).unwrap_or(4096)
}

/// What a refresh saw of the tree.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub alive: u32,
    pub rss_bytes: u64,
}

/// The processes of one run, keyed by pid with their start time (so a reused pid is never mistaken).
pub struct Tree {
    root: i32,
    members: BTreeMap<i32, u64>,
    page: u64,
}

impl Tree {
    pub fn new(root: i32) -> Self {
        Tree { root, members: BTreeMap::new(), page: page_size() }
    }

    pub fn root(&self) -> i32 {
        self.root
    }

    /// Adds the processes that joined since the last look; returns live count and resident memory.
    pub fn refresh(&mut self) -> Usage {
        let all = scan();
        self.absorb(&all)
    }

    fn absorb(&mut self, all: &[ProcStat]) -> Usage {
        let by_pid: BTreeMap<i32, &ProcStat> = all.iter().map(|p| (p.pid, p)).collect();
        self.members.retain(|pid, start| by_pid.get(pid).is_some_and(|p| p.start == *start));
        loop {
            let mut changed = false;
            for p in all {
                if self.members.contains_key(&p.pid) {
                    continue;
                }
                let parent_in = self.members.get(&p.ppid).is_some();
                if p.pid == self.root || p.session == self.root || parent_in {
                    self.members.insert(p.pid, p.start);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut usage = Usage::default();
        for pid in self.members.keys() {
            if let Some(p) = by_pid.get(pid) {
                if p.state != 'Z' && p.state != 'X' {
                    usage.alive += 1;
                    usage.rss_bytes += p.rss_pages * self.page;
                }
            }
        }
        usage
    }

    /// The machine's pid of the member that its own PID namespace calls `inner` (the harness reports the
    /// pid it sees; in the run's namespace that is not the grader's). Without a namespace, `inner` itself.
    pub fn host_pid(&mut self, inner: i32) -> Option<i32> {
        self.refresh();
        self.members.keys().copied().find(|&pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let ns: Vec<i32> = status
                .lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|l| l.split_whitespace().filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_default();
            ns.last() == Some(&inner) && (ns.len() > 1 || pid == inner)
        })
    }

    /// CPU the tree has used so far, in clock ticks: every member's own and its reaped children's.
    pub fn cpu_ticks(&mut self) -> u64 {
        self.refresh();
        self.members
            .iter()
            .filter_map(|(&pid, &start)| read_stat(pid).filter(|s| s.start == start))
            .map(|s| s.cpu_ticks)
            .sum()
    }

    /// Live members other than the root, with their command lines.
    pub fn others_alive(&mut self) -> Vec<(i32, String)> {
        self.refresh();
        self.members
            .keys()
            .filter(|&&pid| pid != self.root)
            .filter(|&&pid| read_stat(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X'))
            .map(|&pid| (pid, cmdline(pid)))
            .collect()
    }

    pub fn signal_all(&mut self, sig: Signal) {
        self.refresh();
        let _ = nix::sys::signal::killpg(Pid::from_raw(self.root), sig);
        let mut groups = std::collections::BTreeSet::new();
        for (&pid, &start) in &self.members {
            if let Some(s) = read_stat(pid).filter(|s| s.start == start) {
                let _ = kill(Pid::from_raw(pid), sig);
                groups.insert(s.pgrp);
            }
        }
        // Each group a member made (setsid) as a whole, at once: a process that hops from pid to pid stays
        // in its group, and a fork racing the group's kill is aborted. A member can only be in a group of
        // its own session, so no group here should be the grader's; the grader's own is never signalled.
        let mine = nix::unistd::getpgrp().as_raw();
        for g in groups.into_iter().filter(|&g| g > 1 && g != self.root && g != mine) {
            let _ = nix::sys::signal::killpg(Pid::from_raw(g), sig);
        }
    }

    /// TERM to everything, a grace period, then KILL until nothing of the tree is left; reaps orphans.
    pub fn kill_all(&mut self, grace: Duration) {
        self.signal_all(Signal::SIGTERM);
        let until = Instant::now() + grace;
        while Instant::now() < until && self.refresh().alive > 0 {
            self.reap();
            std::thread::sleep(Duration::from_millis(10));
        }
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            self.signal_all(Signal::SIGKILL);
            self.reap();
            if self.refresh().alive == 0 || Instant::now() > until {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.reap();
    }

    /// Reaps members that were orphaned to the grader (it is the child subreaper) and have exited.
    pub fn reap(&self) {
        for &pid in self.members.keys() {
            if pid != self.root {
                let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32, session: i32) -> ProcStat {
        ProcStat { pid, ppid, pgrp: session, session, state: 'S', start: pid as u64, rss_pages: 1, cpu_ticks: 0 }
    }

    #[test]
    fn membership_follows_session_and_parents() {
        let mut t = Tree::new(100);
        let all = vec![p(1, 0, 1), p(100, 1, 100), p(101, 100, 100), p(102, 101, 102), p(103, 102, 102), p(200, 1, 200)];
        let u = t.absorb(&all);
        assert_eq!(u.alive, 4, "root, its child, an escaped setsid child and its child; not the stranger");
        assert!(!t.members.contains_key(&200));
    }

    #[test]
    fn a_reused_pid_is_not_a_member() {
        let mut t = Tree::new(100);
        t.absorb(&[p(100, 1, 100), p(101, 100, 100)]);
        let mut reused = p(101, 1, 300);
        reused.start = 999;
        let u = t.absorb(&[p(100, 1, 100), reused]);
        assert_eq!(u.alive, 1);
    }
}
