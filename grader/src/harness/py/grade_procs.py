"""This process's children and its threads' and processes' state, read from /proc (Linux). Standard library only."""
import os


def children(zombies=False, pid=None):
    """(pid, cmdline) of the children of `pid` (default: this process) that are alive, or with
    zombies=True only those that exited and were never waited for (their cmdline is empty)."""
    me = os.getpid() if pid is None else pid
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:  # no descriptor left (the student's code took them): nothing can be seen
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
            state, ppid = rest[0], int(rest[1])
            if ppid != me or (state in ("Z", "X")) != zombies:
                continue
            with open("/proc/%s/cmdline" % entry, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue
        found.append((int(entry), cmd))
    return found


def descendants(pid=None):
    """(pid, cmdline) of every live process below `pid` (default: this process)."""
    out, frontier = [], [os.getpid() if pid is None else pid]
    while frontier:
        kids = children(pid=frontier.pop())
        out.extend(kids)
        frontier.extend(p for p, _ in kids)
    return out


def status_kb(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS: resident now; VmHWM: the peak), 0 when unreadable."""
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def thread_state(native_id):
    """R (running or waiting for a core), S (sleeping), D (in uninterruptible I/O), ... of a thread."""
    try:
        with open("/proc/self/task/%d/stat" % native_id) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "S"  # unknown: do not excuse it
