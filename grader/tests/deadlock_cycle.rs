//! The watchdog's wait-for cycle (grade_deadlock.find_wait_cycle) on states made by hand: a stale edge
//! (a thread seen waiting for a lock it has acquired since) is no deadlock, a real cycle between two
//! student threads is one, named with both threads.
mod common;

const STUDENT: &str = r#"import threading

a, b = threading.Lock(), threading.Lock()
ready = threading.Barrier(2)


def one():
    with a:
        ready.wait()
        with b:
            pass


def two():
    with b:
        ready.wait()
        with a:
            pass
"#;

const DRIVER: &str = r#"import json, sys, threading, time
harness, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [harness, root]
import grade_instrument as gi, grade_deadlock, grade_waits
gi.install(root + "/")
import student
out = {}


class Lock:
    _owner = None


class Stale:
    """The waits as a snapshot taken a moment ago saw them; `get` reads them as they are now."""
    def __init__(self, then, now):
        self.then, self.now = then, now
    def keys(self):
        return self.then.keys()
    def __getitem__(self, k):
        return self.then[k]
    def __iter__(self):
        return iter(self.then)
    def get(self, k, default=None):
        return self.now.get(k, default)


# Thread 1 was waiting for L when the snapshot was read; it has acquired L since (its wait cleared first).
live = grade_waits.state.waiting
lock = Lock()
lock._owner = 1
grade_waits.state.waiting = Stale({1: (lock, ("s.py", 3, "f"))}, {})
out["acquired since"] = len(grade_deadlock.find_wait_cycle() or [])
# Two threads each waiting for the other's lock, stable: a cycle.
l1, l2 = Lock(), Lock()
l1._owner, l2._owner = 2, 1
both = {1: (l1, ("s.py", 3, "f")), 2: (l2, ("s.py", 4, "g"))}
grade_waits.state.waiting = Stale(both, both)
out["fake cycle"] = len(grade_deadlock.find_wait_cycle() or [])
# The same cycle of which one edge is gone by the time it is read again.
grade_waits.state.waiting = Stale(both, {1: both[1]})
out["broken since"] = len(grade_deadlock.find_wait_cycle() or [])
grade_waits.state.waiting = live

# A real deadlock between two of the student's threads.
for f in (student.one, student.two):
    threading.Thread(target=f, daemon=True).start()
cycle = None
for _ in range(100):
    cycle = grade_deadlock.find_wait_cycle()
    if cycle:
        break
    time.sleep(0.02)
out["real"] = grade_deadlock.describe_cycle(cycle)["summary"] if cycle else None
print(json.dumps(out))
"#;

#[test]
fn a_wait_for_cycle_counts_only_when_every_edge_still_holds() {
    let v = common::run_driver(&[("student.py", STUDENT)], DRIVER);
    assert_eq!(v["acquired since"], 0, "a thread that acquired the lock it waited for is not waiting on itself: {v}");
    assert_eq!(v["fake cycle"], 2, "{v}");
    assert_eq!(v["broken since"], 0, "{v}");
    let real = v["real"].as_str().unwrap_or_default();
    assert!(real.starts_with("deadlock: ") && real.matches(" waits at student.py:").count() == 2, "{v}");
    assert!(real.contains("a (threading.Lock, student.py:3) held by") && real.contains("b (threading.Lock, student.py:3) held by"), "{v}");
}
