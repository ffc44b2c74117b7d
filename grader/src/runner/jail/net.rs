//! A network namespace of the run's own: only a loopback interface, brought up, and whatever the grader
//! binds there for the run (a lab's fixture HTTP server, later a database or a broker). The student's code
//! cannot reach the machine's network, the grader's ports or a classmate's services, and nothing outside
//! can reach what it listens on.
//!
//! The namespace is made in the grader, on a short-lived thread of its own (a network namespace belongs
//! to a thread, and unsharing one needs no single-threaded process), so that the services can listen in
//! it before the run starts; the run's first process joins it with `setns` between fork and exec.
use nix::libc;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Netns {
    fd: OwnedFd,
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// Sets IFF_UP on `lo` in the calling thread's network namespace.
fn loopback_up() -> io::Result<()> {
    // SAFETY: plain system calls on a zeroed ifreq whose name is set below.
    unsafe {
        let sock = OwnedFd::from_raw_fd(check(libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0))?);
        let mut req: libc::ifreq = std::mem::zeroed();
        for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req))?;
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req))?;
    }
    Ok(())
}

fn on_thread<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    std::thread::Builder::new()
        .name("grade-netns".into())
        .spawn(f)
        .map_err(io::Error::other)?
        .join()
        .map_err(|_| io::Error::other("the network namespace's thread panicked"))?
}

impl Netns {
    /// A new namespace with its loopback up (needs CAP_SYS_ADMIN and CAP_NET_ADMIN: root).
    pub fn new() -> io::Result<Netns> {
        on_thread(|| {
            // SAFETY: affects only this thread, which ends here.
            check(unsafe { libc::unshare(libc::CLONE_NEWNET) })?;
            loopback_up()?;
            let fd = std::fs::File::open("/proc/thread-self/ns/net")?;
            Ok(Netns { fd: fd.into() })
        })
    }

    /// A TCP listener on `addr` inside the namespace (the socket stays in it whoever uses it later).
    pub fn listen(&self, addr: std::net::SocketAddr) -> io::Result<std::net::TcpListener> {
        let fd = self.fd.try_clone()?;
        on_thread(move || {
            nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            std::net::TcpListener::bind(addr)
        })
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// In the child, between fork and exec: joins the namespace `fd` names. Async-signal-safe.
pub fn join(fd: RawFd) -> io::Result<()> {
    // SAFETY: one system call.
    check(unsafe { libc::setns(fd, libc::CLONE_NEWNET) }).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    #[test]
    fn a_listener_in_the_namespace_is_out_of_reach_from_outside() {
        if !root() {
            return; // the layer is off without root; `layers()` reports it missing
        }
        let ns = Netns::new().expect("a network namespace");
        let inside = ns.listen("127.0.0.1:0".parse().unwrap()).expect("bind inside");
        let port = inside.local_addr().unwrap().port();
        // The grader's own network does not have it.
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        // A thread that joins the namespace reaches it over its loopback.
        let fd = ns.fd.try_clone().unwrap();
        let client = std::thread::spawn(move || {
            nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect inside");
            s.write_all(b"hi").unwrap();
        });
        let (mut conn, _) = inside.accept().unwrap();
        let mut buf = [0u8; 2];
        conn.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
        client.join().unwrap();
    }
}
