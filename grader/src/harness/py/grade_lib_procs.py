"""The course's check library: the worker processes of the student's code, read from /proc (workloads of
lab-1.2, lab-4.x, ex-process-pool-manager, deliverable-4).

Child and descendant processes with their state (a zombie: finished, never joined) and command line,
the CPU time of reaped children, and multiprocessing's own long-lived helpers (the resource tracker, a
fork server), which are not the student's workers. Standard library only; nothing here imports the
harness.
"""
import os
import time

HELPER_WORDS = ("resource_tracker", "forkserver")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def is_helper_cmd(cmd):
    """Whether a command line is one of multiprocessing's helpers (resource tracker, fork server)."""
    return any(word in cmd for word in HELPER_WORDS)


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field i + 3 of proc(5) at index i), or None
    when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
        return stat[stat.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return None


def _cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()


def proc_state(pid):
    """(state letter, cmdline) of a process from /proc, or None when it is gone."""
    try:
        rest = _stat_fields(pid)
        return None if rest is None else (rest[0], _cmdline(pid))
    except (OSError, ValueError, IndexError):
        return None


def proc_table(cpu=False):
    """{pid: (ppid, state, cmdline)} of every process, from /proc; cpu: (ppid, state, cmdline, cutime +
    cstime in seconds), the CPU time of its reaped children last."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            rest = _stat_fields(entry)
            if rest is None:
                continue
            row = (int(rest[1]), rest[0], _cmdline(entry))
            table[int(entry)] = row + ((int(rest[13]) + int(rest[14])) / TICK,) if cpu else row
        except (OSError, ValueError, IndexError):
            continue
    return table


def descendants(table):
    """The rows of `table` (see proc_table) of every descendant of this process: with the forkserver
    start method the workers are children of the fork server, itself a child of this process."""
    kids = {}
    for pid, row in table.items():
        kids.setdefault(row[0], []).append(pid)
    found, todo = {}, [os.getpid()]
    while todo:
        for pid in kids.get(todo.pop(), ()):
            if pid not in found:
                found[pid] = table[pid]
                todo.append(pid)
    return found


def my_children():
    """{pid: (state, cmdline)} of this process's direct children, zombies included, helpers not."""
    me = str(os.getpid())
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        rest = _stat_fields(entry)
        if rest is None or len(rest) < 2 or rest[1] != me:
            continue
        info = proc_state(entry)
        if info is None or is_helper_cmd(info[1]):
            continue
        found[int(entry)] = info
    return found


def kids(pid):
    """Direct children of `pid` (zombies included), from /proc/PID/task/*/children: cheap enough to poll."""
    found = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return found
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as fh:
                found.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return found


def live_and_zombies():
    """(live descendants, zombie children) of this process: sorted pids, multiprocessing's helpers left
    out (the resource tracker, the fork server; the fork server's children do count)."""
    me = os.getpid()
    live, zombies, todo, seen = [], [], [me], {me}
    while todo:
        parent = todo.pop()
        for pid in kids(parent):
            if pid in seen:
                continue
            seen.add(pid)
            info = proc_state(pid)
            if info is None:
                continue
            state, cmd = info
            if state in ("Z", "X"):
                if parent == me:
                    zombies.append(pid)
                continue
            todo.append(pid)
            if not (parent == me and is_helper_cmd(cmd)):
                live.append(pid)
    return sorted(live), sorted(zombies)


def check_start_method(ctx):
    """The item's start method is in force (a grader fault otherwise, never the student's)."""
    import multiprocessing
    want = ctx.start_method
    if want and multiprocessing.get_start_method() != want:
        raise RuntimeError(f"grader: start method is {multiprocessing.get_start_method()!r}, "
                           f"the item asks for {want!r}")


def start_method_note(ctx):
    """' (start method spawn)' for an item with a start method, else ''."""
    return f" (start method {ctx.start_method})" if ctx.start_method else ""


def stop_resource_tracker(timeout):
    """Lets this process's resource tracker exit now, before the check returns.

    The tracker (started by the first SharedMemory of this process, or under spawn by its first
    semaphore: a pool's queue or lock) exits once every process holding its pipe has closed it, which
    is normally when this process exits, after the check; on a loaded machine it can then outlive the
    harness's grace period and be reported as a stray process. Closing our end of the pipe here lets it
    exit (and print its warnings, if something is still registered) while the check is still running.
    Private API of CPython 3.11's multiprocessing.resource_tracker.
    """
    import gc
    from multiprocessing import resource_tracker
    gc.collect()  # semaphores and segments no longer referenced unregister themselves first
    tracker = resource_tracker._resource_tracker
    with tracker._lock:
        fd, pid = tracker._fd, tracker._pid
        if fd is None:
            return
        tracker._fd = tracker._pid = None
        os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)


def reap(pids):
    """Kills and reaps the child processes `pids` (left behind by the student's code), and drops them
    from multiprocessing's own list of children, so that the next call is judged on its own."""
    import multiprocessing.process
    for pid in pids:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    for proc in list(getattr(multiprocessing.process, "_children", ())):
        if proc.pid in pids:
            multiprocessing.process._children.discard(proc)


def helpers_children_cpu():
    """{pid: CPU seconds of its reaped children} of each of multiprocessing's helpers that is a child of this
    process: workers forked by a fork server are its children, so their time shows in its cutime/cstime."""
    me = os.getpid()
    return {pid: row[3] for pid, row in descendants(proc_table(cpu=True)).items()
            if row[0] == me and is_helper_cmd(row[2])}


class CpuClock:
    """The CPU time used from its start by this process's reaped children (and a fork server's) and by
    this process itself. os.times() counts a child's time once it has ended and been waited for; threads,
    or a pool that computes nothing while the parent counts, leave it at zero and spend it here."""

    def __init__(self):
        self.helpers, self.times = helpers_children_cpu(), os.times()

    def read(self):
        """(children's CPU seconds, this process's CPU seconds) since the start."""
        t1, h1 = os.times(), helpers_children_cpu()
        t0, h0 = self.times, self.helpers
        children = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
        children += sum(max(0.0, cpu - h0.get(pid, 0.0)) for pid, cpu in h1.items())
        return children, (t1.user - t0.user) + (t1.system - t0.system)
