//! PID and mount namespaces for a run (through a user namespace when the grader is not root).
//!
//! In the child, between fork and exec: `unshare`, then fork once more. The calling process stays outside
//! the new PID namespace, closes every descriptor and only relays its child's exit status (so the grader
//! still sees one root process with the harness's status). Its child is process 1 of the namespace: it
//! mounts a private /proc (the run's own processes only), makes /proc/sys, /proc/sysrq-trigger and the
//! like read-only, mounts a private, size-capped tmpfs on /dev/shm, and goes on to exec the harness. When
//! process 1 exits or is killed, the kernel kills everything left in the namespace.
use nix::libc;
use std::ffi::CString;
use std::io;

/// Parts of /proc a run must not write even as root (in the namespace).
const PROC_READ_ONLY: &[&str] = &["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"];

pub struct Prepared {
    user: Option<UserMaps>,
    root: CString,
    proc_fs: CString,
    proc_path: CString,
    read_only: Vec<CString>,
    tmpfs: CString,
    shm_path: CString,
    shm_options: CString,
}

/// A user namespace's maps: the grader's own uid and gid, mapped to themselves.
struct UserMaps {
    uid_map: CString,
    gid_map: CString,
    setgroups: CString,
    uid_path: CString,
    gid_path: CString,
    deny: CString,
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL in a fixed path")
}

pub fn prepare(memory_mb: u64) -> Prepared {
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let user = (uid != 0).then(|| UserMaps {
        uid_map: c(&format!("{uid} {uid} 1\n")),
        gid_map: c(&format!("{gid} {gid} 1\n")),
        setgroups: c("/proc/self/setgroups"),
        uid_path: c("/proc/self/uid_map"),
        gid_path: c("/proc/self/gid_map"),
        deny: c("deny"),
    });
    Prepared {
        user,
        root: c("/"),
        proc_fs: c("proc"),
        proc_path: c("/proc"),
        read_only: PROC_READ_ONLY.iter().map(|p| c(p)).collect(),
        tmpfs: c("tmpfs"),
        shm_path: c("/dev/shm"),
        shm_options: c(&format!("size={}m,mode=1777", memory_mb.max(16))),
    }
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Writes `data` to `path` (one write, as /proc's map files require).
unsafe fn write_file(path: &CString, data: &CString) -> io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    check(fd)?;
    let bytes = data.as_bytes();
    let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    let err = io::Error::last_os_error();
    libc::close(fd);
    if n != bytes.len() as isize {
        return Err(err);
    }
    Ok(())
}

impl Prepared {
    /// Enters the namespaces. Returns in process 1 of the new PID namespace, with its mounts made; the
    /// caller's own process never returns (it relays the exit status of process 1).
    pub fn enter(&self) -> io::Result<()> {
        // SAFETY: system calls only, on data prepared before the fork; the relay never returns.
        unsafe {
            let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
            if self.user.is_some() {
                flags |= libc::CLONE_NEWUSER;
            }
            check(libc::unshare(flags))?;
            if let Some(u) = &self.user {
                write_file(&u.setgroups, &u.deny)?;
                write_file(&u.uid_path, &u.uid_map)?;
                write_file(&u.gid_path, &u.gid_map)?;
            }
            let pid = libc::fork();
            check(pid)?;
            if pid > 0 {
                relay_status(pid);
            }
            // Process 1: dies with the relay, which dies with the grader. (Its parent is outside the
            // namespace, so getppid() says 0 here and cannot tell whether the relay is still there.)
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            self.mount_all()
        }
    }

    unsafe fn mount_all(&self) -> io::Result<()> {
        let null = std::ptr::null::<libc::c_char>();
        // Nothing mounted here propagates back to the machine.
        check(libc::mount(null, self.root.as_ptr(), null, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()))?;
        let hidden = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        check(libc::mount(self.proc_fs.as_ptr(), self.proc_path.as_ptr(), self.proc_fs.as_ptr(), hidden, std::ptr::null()))?;
        for p in &self.read_only {
            if libc::mount(p.as_ptr(), p.as_ptr(), null, libc::MS_BIND | libc::MS_REC, std::ptr::null()) == 0 {
                let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | hidden;
                check(libc::mount(null, p.as_ptr(), null, flags, std::ptr::null()))?;
            }
        }
        check(libc::mount(
            self.tmpfs.as_ptr(),
            self.shm_path.as_ptr(),
            self.tmpfs.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            self.shm_options.as_ptr().cast(),
        ))
    }
}

/// The process left outside the namespace: holds no descriptor (so the grader's exec-error pipe and the
/// run's pipes close with process 1), waits for process 1 and ends the same way it did.
unsafe fn relay_status(pid: libc::pid_t) -> ! {
    if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
        for fd in 0..1024 {
            libc::close(fd);
        }
    }
    let mut status = 0;
    loop {
        let r = libc::waitpid(pid, &mut status, 0);
        if r == pid {
            break;
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(1);
        }
    }
    if libc::WIFEXITED(status) {
        libc::_exit(libc::WEXITSTATUS(status));
    }
    let sig = libc::WTERMSIG(status);
    libc::signal(sig, libc::SIG_DFL);
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    libc::kill(libc::getpid(), sig);
    libc::_exit(128 + sig);
}
