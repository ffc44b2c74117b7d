"""What the student's code holds on to that a run must see past: shared-memory segments it created and
left in /dev/shm, and file descriptors it used up. A few descriptors are held back from the student's
code, so that after it took every other one the harness can still look at /proc and /dev/shm and report;
whatever the harness opens after the student's code may still fail, and fails gracefully."""
import errno
import os


class Spare:
    """Descriptors held while the student's code runs and given back to the harness after it."""

    def __init__(self, count=8):
        self.count = count
        self.fds = []

    def hold(self):
        while len(self.fds) < self.count:
            try:
                self.fds.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
            except OSError:
                break

    def release(self):
        """Gives the held descriptors back; returns a message when the student's code had left none free."""
        exhausted = None
        try:
            os.close(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                exhausted = ("the student's code left no free file descriptor (%s): files, sockets or "
                             "os.open() descriptors opened and never closed" % os.strerror(exc.errno))
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []
        return exhausted


class _ShmLog:
    """Names of the shared-memory segments this run created, from every forked process (a file)."""

    def __init__(self, path):
        self.path = path
        try:
            os.unlink(path)
        except OSError:
            pass

    def add(self, name):
        try:
            with open(self.path, "a") as fh:
                fh.write(name.lstrip("/") + "\n")
        except OSError:  # no descriptor left: the segment goes unrecorded, the student's code goes on
            pass

    def created(self):
        try:
            with open(self.path) as fh:
                return set(line.strip() for line in fh if line.strip())
        except OSError:
            return set()


_shm_log = None


def watch_shared_memory(path):
    """Records the name of every SharedMemory created from now on (the patch survives fork)."""
    global _shm_log
    first = _shm_log is None
    _shm_log = _ShmLog(path)
    if first:
        try:
            from multiprocessing import shared_memory
        except ImportError:
            return _shm_log
        original = shared_memory.SharedMemory.__init__

        def __init__(self, name=None, create=False, size=0):
            original(self, name, create, size)
            if create:
                _shm_log.add(self._name)
        shared_memory.SharedMemory.__init__ = __init__
    return _shm_log


def shm_names():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()
