//! The Landlock domain of a run: what it may read, write, signal and connect to.
//!
//! The ruleset is built in the grader (opening the allowed paths there) and enforced in the child. Reads:
//! the system's libraries and configuration, the interpreter, the managed environment, the harness, the
//! lab's workload file and the run's own directory; never the course's specs, checks, solutions, overlays
//! or caches, other runs' directories or other submissions. Writes: the run's directory, /dev/shm and a
//! few /dev files. With namespaces the run's /proc and /dev/shm are new mounts (new inodes), so their rules
//! are added in the child, after mounting them. From ABI 6, signals and abstract UNIX sockets are scoped to
//! the run's own processes.
use landlock::{
    Access, AccessFs, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr,
    Scope, ABI,
};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// System trees any program needs to start and run (libraries, locale, certificates, name service).
const SYSTEM_READ: &[&str] = &["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/sys", "/nix/store"];
/// Device files a run may read and write; nothing else of /dev (a raw disk, a terminal) is reachable.
const DEV_FILES: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];

/// The kernel's Landlock ABI version, 0 without Landlock.
pub fn abi() -> i32 {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    // SAFETY: a query with no pointer to fill.
    let v = unsafe { nix::libc::syscall(nix::libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, 1u32) };
    if v < 0 { 0 } else { v as i32 }
}

fn abi_of(version: i32) -> ABI {
    match version {
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        6 => ABI::V6,
        v if v >= 7 => ABI::V7,
        _ => ABI::Unsupported,
    }
}

/// A ruleset ready to enforce, with what the child adds after mounting its own /proc and /dev/shm.
pub struct Prepared {
    fd: OwnedFd,
    proc_access: u64,
    shm_access: u64,
    proc_path: CString,
    shm_path: CString,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Adds a rule for `path` when it exists; a file gets the file rights among `access` only.
fn allow(created: RulesetCreated, path: &Path, access: BitFlags<AccessFs>, abi: ABI) -> io::Result<RulesetCreated> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(created) };
    let access = if meta.is_dir() { access } else { access & AccessFs::from_file(abi) };
    let Ok(fd) = PathFd::new(path) else { return Ok(created) };
    created.add_rule(PathBeneath::new(fd, access)).map_err(other)
}

pub fn prepare(version: i32, run_dir: &Path, readable: &[PathBuf], namespaces: bool) -> io::Result<Prepared> {
    let abi = abi_of(version);
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let mut ruleset = Ruleset::default().handle_access(all).map_err(other)?;
    if version >= 6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(other)?;
    }
    let mut created = ruleset.create().map_err(other)?;
    for p in SYSTEM_READ.iter().map(Path::new).chain(readable.iter().map(PathBuf::as_path)) {
        created = allow(created, p, read, abi)?;
    }
    created = allow(created, run_dir, all, abi)?;
    for f in DEV_FILES {
        created = allow(created, Path::new(f), AccessFs::from_file(abi), abi)?;
    }
    let proc_access = read | AccessFs::WriteFile | AccessFs::Truncate;
    if !namespaces {
        // The machine's own /proc and /dev/shm: shared with everything else, but still needed.
        created = allow(created, Path::new("/proc"), proc_access, abi)?;
        created = allow(created, Path::new("/dev/shm"), all, abi)?;
    }
    let fd: Option<OwnedFd> = created.into();
    let fd = fd.ok_or_else(|| other("Landlock ruleset not created"))?;
    Ok(Prepared {
        fd,
        proc_access: (proc_access & all).bits(),
        shm_access: all.bits(),
        proc_path: CString::new("/proc").expect("no NUL"),
        shm_path: CString::new("/dev/shm").expect("no NUL"),
    })
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

const LANDLOCK_RULE_PATH_BENEATH: nix::libc::c_int = 1;

impl Prepared {
    /// In the child: adds the rules of the run's own mounts (`late`), then confines the process for good.
    pub fn restrict_self(&self, late: bool) -> io::Result<()> {
        use nix::libc;
        if late {
            self.add_late(&self.proc_path, self.proc_access)?;
            self.add_late(&self.shm_path, self.shm_access)?;
        }
        // SAFETY: plain system calls on an fd we own; no allocation.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::syscall(libc::SYS_landlock_restrict_self, self.fd.as_raw_fd(), 0) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn add_late(&self, path: &CString, access: u64) -> io::Result<()> {
        use nix::libc;
        // SAFETY: open/syscall/close on a path prepared before the fork.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let attr = PathBeneathAttr { allowed_access: access, parent_fd: fd };
            let r = libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd.as_raw_fd(),
                LANDLOCK_RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0,
            );
            let err = io::Error::last_os_error();
            libc::close(fd);
            if r != 0 {
                return Err(err);
            }
        }
        Ok(())
    }
}
