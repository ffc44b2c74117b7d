//! Primitives named as the student's code names them: the harness's instrumentation (grade_instrument.py,
//! grade_names.py) run on a student file that makes primitives every way a lab does.
mod common;

const STUDENT: &str = r#"import queue
import threading
from threading import Lock


class Account:
    def __init__(self, name):
        self.name = name
        self._lock = threading.Lock()


class Table:
    def __init__(self, n):
        self.forks = []
        for i in range(n):
            self.forks.append(threading.Lock())
        self.by_name = {k: threading.RLock() for k in ("a", "b")}


def dine(n):
    forks = [threading.Lock() for _ in range(n)]
    return forks


def make():
    a, b = Account("a"), Account("b")
    q = queue.Queue()
    cond = threading.Condition()
    x, y = Lock(), threading.Semaphore(2)
    t = Table(3)
    locks = {}
    for key in ("p", "q"):
        locks[key] = threading.Event()
    return {
        "accounts": [a._lock, b._lock],
        "queue": [q.mutex, q.not_empty, q.not_full, q.all_tasks_done],
        "cond": [cond, cond._lock],
        "pair": [x, y],
        "table": [t.forks[0], t.forks[2], t.by_name["b"]],
        "keyed": [locks["q"]],
    }, q


def consume(q):
    return q.get()


class Sneaky:
    @property
    def __dict__(self):
        raise SystemExit("the grader ran the student's property")

    def __init__(self):
        self.items = []
        self.items.append(threading.Lock())
"#;

/// A file whose source is gone by the time it makes its lock.
const GONE: &str = "import threading\n\n\ndef late():\n    return threading.Lock()\n";

const DRIVER: &str = r#"import json, os, sys, threading, time
harness, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [harness, root]
import grade_instrument as gi, grade_deadlock
gi.install(root + "/")
import student, gone
os.remove(os.path.join(root, "gone.py"))
made, q = student.make()
made["unreadable"] = [gone.late()]
made["sneaky"] = student.Sneaky().items
out = {k: [p.describe() for p in v] for k, v in made.items()}
out["first dinner"] = [f.describe() for f in student.dine(2)]
kept = student.dine(2)
out["second dinner, first kept"] = [f.describe() for f in student.dine(2)]
waiter = threading.Thread(target=student.consume, args=(q,), daemon=True)
waiter.start()
time.sleep(0.3)
out["blocked"] = grade_deadlock.waiting_text(waiter.ident, q.not_empty)
print(json.dumps(out))
"#;

#[test]
fn primitives_are_named_by_the_students_expressions() {
    let v = common::run_driver(&[("student.py", STUDENT), ("gone.py", GONE)], DRIVER);
    let names = |k: &str| -> Vec<String> { v[k].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect() };
    // Two objects made on one line stay apart.
    assert_eq!(names("accounts"), ["self._lock (threading.Lock, student.py:9)", "self._lock #2 (threading.Lock, student.py:9)"]);
    // A library's inner primitives are the student's object, of the type the student made.
    assert_eq!(names("queue"), vec!["q (queue.Queue, student.py:27)"; 4]);
    assert_eq!(names("cond"), vec!["cond (threading.Condition, student.py:28)"; 2]);
    assert_eq!(names("pair"), ["x (Lock, student.py:29)", "y (threading.Semaphore, student.py:29)"]);
    assert_eq!(
        names("table"),
        ["self.forks[0] (threading.Lock, student.py:16)", "self.forks[2] (threading.Lock, student.py:16)", "self.by_name['b'] (threading.RLock, student.py:17)"]
    );
    assert_eq!(names("keyed"), ["locks['q'] (threading.Event, student.py:33)"]);
    // Code whose source cannot be read keeps the numbered form.
    let unreadable = &names("unreadable")[0];
    assert!(unreadable.starts_with("Lock#") && unreadable.ends_with(" (created at gone.py:5 in late)"), "{unreadable}");
    // Naming reads no property of the student's: the list's length is not known, the index is not said.
    assert_eq!(names("sneaky"), ["self.items[…] (threading.Lock, student.py:55)"]);
    // Each dinner's forks by index; a name is taken again once its first holder is gone, not while it lives.
    assert_eq!(names("first dinner"), ["forks[0] (threading.Lock, student.py:21)", "forks[1] (threading.Lock, student.py:21)"]);
    assert_eq!(names("second dinner, first kept"), ["forks[0] #2 (threading.Lock, student.py:21)", "forks[1] #2 (threading.Lock, student.py:21)"]);
    // A thread blocked inside the library is shown at the student's call.
    assert_eq!(v["blocked"], "q.get() (queue.Queue, student.py:27)");
}
