"""The functions ex-process-pool-manager's checks hand to the student's pools.

They live in their own module beside checks.py, not in checks.py: a function is pickled by
reference (module name + qualified name), and a worker process, under the `spawn` start method a
fresh interpreter, must be able to import that module by name. checks.py puts this directory on
sys.path (after the student's), and a spawned worker receives the parent's sys.path.
Standard library only.
"""

import os
import time

INIT_LOG_ENV = "POOLMGR_INIT_LOG"   # the file record_init() appends to (set by the check)

# Per worker process: how often record_init() ran in it, and with which arguments.
_init_calls = 0
_init_args = None


class Boom(Exception):
    """The exception a check raises inside a with-block (a distinct type, easy to recognise)."""


# -------------------------------------------------------------------- plain tasks

def square(x):
    return x * x


def nap_square(x, seconds):
    """x * x after sleeping `seconds`: work that takes a while."""
    time.sleep(seconds)
    return x * x


def late_square(x):
    """x * x; the lower x, the longer it takes ((6 - x) * 15 ms, at least 0): with one item per
    task, later items finish first."""
    time.sleep(max(0, 6 - x) * 0.015)
    return x * x


def pid_of(x):
    """(x, the pid of the process that ran the call)."""
    time.sleep(0.005)
    return x, os.getpid()


def none_for_even(x):
    """None for even x (a legitimate result, not an error), else x."""
    return None if x % 2 == 0 else x


def fail_some(x):
    """x * x, but ValueError('bad item x') when x % 3 == 1."""
    if x % 3 == 1:
        raise ValueError("bad item %d" % x)
    return x * x


def key_error(x):
    """Always raises KeyError('k<x>') (whose str() is quoted: "'k5'")."""
    raise KeyError("k%d" % x)


def stuck(x):
    """Never returns in any reasonable time: only terminate() ends it."""
    time.sleep(60)
    return x


def burn(n):
    """Pure-Python CPU work: the sum of i * i % 7 for i < n."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


# -------------------------------------------------------------------- initializer

def record_init(*args):
    """An initializer: counts its calls in this process, keeps its arguments and appends
    '<pid> <repr(args)>' to the file named by $POOLMGR_INIT_LOG (one line per call)."""
    global _init_calls, _init_args
    _init_calls += 1
    _init_args = args
    path = os.environ.get(INIT_LOG_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write("%d %r\n" % (os.getpid(), args))


def whoami(x):
    """(x, pid, how many times record_init ran in this process, its arguments)."""
    time.sleep(0.01)
    return x, os.getpid(), _init_calls, _init_args
