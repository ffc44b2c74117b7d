//! A submission: copied (never touched in place), hashed, and its Python files listed. Every file of it
//! the grader reads goes through `read_capped`: never through a symbolic link, never blocking on a FIFO,
//! never more than a cap.
use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

const SKIP_DIRS: &[&str] = &["__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache"];
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Relative paths of the regular files of a submission, sorted; symbolic links are left out.
pub fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut total = 0u64;
    walk(root, root, &mut out, &mut total)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, total: &mut u64) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let path = entry.path();
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&entry.file_name().to_str().unwrap_or_default()) {
                walk(root, &path, out, total)?;
            }
        } else if ft.is_file() {
            *total += entry.metadata().map(|m| m.len()).unwrap_or(0);
            if *total > MAX_BYTES {
                return Err(Error::Usage(format!(
                    "{}: the submission is larger than {} MiB; leave out data and virtual environments",
                    root.display(),
                    MAX_BYTES >> 20
                )));
            }
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// Why a file of a submission was not read.
#[derive(Debug)]
pub enum Unreadable {
    Missing,
    /// What it is instead of a regular file: "a symbolic link", "a FIFO", ...
    NotRegular(&'static str),
    TooLarge { cap: u64 },
    Io(std::io::Error),
}

impl Unreadable {
    /// "quiz.yaml is not a regular file (a symbolic link)", and the like.
    pub fn describe(&self, rel: &str) -> String {
        match self {
            Unreadable::Missing => format!("no {rel} in the submission"),
            Unreadable::NotRegular(what) => format!("{rel} is not a regular file ({what})"),
            Unreadable::TooLarge { cap } => format!("{rel} is larger than {} KiB", cap / 1024),
            Unreadable::Io(e) => format!("{rel} cannot be read: {e}"),
        }
    }
}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// Opens `rel` beneath `root` one component at a time, following no symbolic link on the way (a link
/// swapped in after listing included) and without blocking (a FIFO opens at once, and is then refused).
fn open_beneath(root: &Path, rel: &Path) -> std::result::Result<File, Unreadable> {
    let dir = nix::fcntl::open(root, OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| Unreadable::Io(e.into()))?;
    // SAFETY: `open` returned a descriptor that nothing else owns.
    let mut fd = unsafe { OwnedFd::from_raw_fd(dir) };
    let parts: Vec<Component> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else { return Err(Unreadable::NotRegular("a path outside the submission")) };
        let mut flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
        if i + 1 < parts.len() {
            flags |= OFlag::O_DIRECTORY;
        }
        match openat(Some(fd.as_raw_fd()), *name, flags, Mode::empty()) {
            // SAFETY: as above.
            Ok(next) => fd = unsafe { OwnedFd::from_raw_fd(next) },
            Err(Errno::ELOOP) => return Err(Unreadable::NotRegular("a symbolic link")),
            // A directory's place taken by a link: O_DIRECTORY | O_NOFOLLOW says ENOTDIR.
            Err(Errno::ENOTDIR) if is_link(&fd, name) => return Err(Unreadable::NotRegular("a symbolic link")),
            Err(Errno::ENOENT | Errno::ENOTDIR) => return Err(Unreadable::Missing),
            Err(Errno::ENXIO) => return Err(Unreadable::NotRegular("a socket")),
            Err(e) => return Err(Unreadable::Io(e.into())),
        }
    }
    Ok(File::from(fd))
}

fn is_link(dir: &OwnedFd, name: &std::ffi::OsStr) -> bool {
    nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK)
}

/// The bytes of the regular file `rel` of the submission at `root`: at most `cap` of them, else `TooLarge`.
pub fn read_capped(root: &Path, rel: &Path, cap: u64) -> std::result::Result<Vec<u8>, Unreadable> {
    let file = open_beneath(root, rel)?;
    let meta = file.metadata().map_err(Unreadable::Io)?;
    if !meta.file_type().is_file() {
        return Err(Unreadable::NotRegular(kind_of(meta.file_type())));
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(Unreadable::Io)?;
    if bytes.len() as u64 > cap {
        return Err(Unreadable::TooLarge { cap });
    }
    Ok(bytes)
}

/// A listed file, read for hashing or copying; `None` when it stopped being a regular file since listing.
fn read_listed(root: &Path, rel: &Path) -> Result<Option<Vec<u8>>> {
    match read_capped(root, rel, MAX_BYTES) {
        Ok(b) => Ok(Some(b)),
        Err(Unreadable::Missing | Unreadable::NotRegular(_)) => Ok(None),
        Err(Unreadable::TooLarge { .. }) => Err(Error::Usage(format!(
            "{}: the submission is larger than {} MiB; leave out data and virtual environments",
            root.display(),
            MAX_BYTES >> 20
        ))),
        Err(Unreadable::Io(e)) => Err(Error::io(root.join(rel), e)),
    }
}

/// sha256 over the files sorted by path: each contributes its path, a NUL, its length and its bytes.
pub fn sha256(root: &Path, files: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for rel in files {
        let Some(bytes) = read_listed(root, rel)? else { continue };
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Copies the listed files of `from` into `to` (created).
pub fn copy(from: &Path, files: &[PathBuf], to: &Path) -> Result<()> {
    for rel in files {
        let dst = to.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let Some(bytes) = read_listed(from, rel)? else { continue };
        std::fs::write(&dst, bytes).map_err(|e| Error::io(&dst, e))?;
    }
    Ok(())
}

pub fn python_files(files: &[PathBuf]) -> Vec<String> {
    files.iter().filter(|f| f.extension().is_some_and(|x| x == "py")).map(|f| f.to_string_lossy().into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_big_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("real")).unwrap();
        std::fs::write(root.join("real/a.py"), "x = 1\n").unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(root.join("real/a.py"), root.join("b.py")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert_eq!(read_capped(root, Path::new("real/a.py"), 100).unwrap(), b"x = 1\n");
        assert!(matches!(read_capped(root, Path::new("link/a.py"), 100), Err(Unreadable::NotRegular("a symbolic link"))));
        assert!(matches!(read_capped(root, Path::new("b.py"), 100), Err(Unreadable::NotRegular("a symbolic link"))));
        assert!(matches!(read_capped(root, Path::new("fifo"), 100), Err(Unreadable::NotRegular("a FIFO"))));
        assert!(matches!(read_capped(root, Path::new("real/a.py"), 3), Err(Unreadable::TooLarge { cap: 3 })));
        assert!(matches!(read_capped(root, Path::new("none"), 3), Err(Unreadable::Missing)));
        assert!(matches!(read_capped(root, Path::new("../x"), 3), Err(Unreadable::NotRegular(_))));
        // Listed as a file, then swapped for a link: the copy leaves it out rather than follow it.
        let to = tempfile::tempdir().unwrap();
        copy(root, &[PathBuf::from("b.py"), PathBuf::from("real/a.py")], to.path()).unwrap();
        assert!(!to.path().join("b.py").exists() && to.path().join("real/a.py").exists());
    }
}
