"""Judgements for lab-4.4, IPC patterns (the workloads are in checks.py). Runs outside the submission's
process: every verdict comes from what the workload recorded of each call."""

from grade_oracles import exactly_once, fifo_per_key
from lab44_cases import fingerprint as _fingerprint, left_hints as _left_hints, stream_case as _stream_case


def _where(j):
    sm = j.obs["start_method"]
    return f" (start method {sm})" if sm else ""


def _prefixed(what, message):
    """An oracle's message (None when the history is right) prefixed with the call it judges."""
    return f"{what}: {message}" if message else None


def _calls(j, want):
    """The workload's records of its calls, one per case in `want` (the cases' own fields)."""
    calls = j.obs["calls"]
    j.expect(len(calls) == len(want), f"{len(want)} calls were to be made, {len(calls)} were recorded")
    return calls


# --------------------------------------------------------------------------
# the patterns, one judgement each (shared by the fork and the spawn items)

def _pingpong(j, rec, n, where):
    what = f"pipe_pingpong({n}){where}"
    j.expect(rec["n"] == n, f"{what}: the record is of pipe_pingpong({rec['n']})")
    got = rec["replies"]
    j.expect(rec["type"] == "list" and isinstance(got, list),
             f"{what} returned {rec['type']}, expected a list",
             hint="return the replies in a list, in the order they arrived")
    j.expect(len(got) == n, f"{what} returned {len(got)} replies, expected {n} (one per ping)",
             hint="send one number at a time and recv() its reply before the next send")
    pids = set()
    for i, reply in enumerate(got):
        ok = isinstance(reply, list) and len(reply) == 2
        j.expect(ok, f"{what}: reply #{i} is {reply!r}, expected a pair (i * i, child_pid)",
                 hint="the child sends back the tuple (i * i, os.getpid())")
        j.expect(reply[0] == i * i,
                 f"{what}: reply #{i} is {tuple(reply)!r}, expected ({i * i}, <child pid>): "
                 "the replies are out of step with the pings",
                 hint="one ping, then its reply: never send twice without receiving")
        pids.add(reply[1] if not isinstance(reply[1], list) else repr(reply[1]))
    if n:
        j.expect(len(pids) == 1, f"{what}: the replies carry {len(pids)} different pids "
                                 f"({sorted(pids, key=repr)[:4]}), expected one child process",
                 hint="one child answers every ping")
        pid = pids.pop()
        j.expect(isinstance(pid, int) and not isinstance(pid, bool) and pid != j.obs["pid"],
                 f"{what}: the replies were made by pid {pid!r}, which is the calling process "
                 "itself, not a child", hint="the squares must be computed in the child process")


def _stream(j, rec, case, where):
    items, label = _stream_case(case)
    what = f"pipe_stream({label}){where}"
    j.expect(rec["label"] == label, f"{what}: the record is of pipe_stream({rec['label']})")
    got = rec["items"]
    j.expect(rec["type"] == "list" and isinstance(got, list),
             f"{what} returned {rec['type']}, expected a list", hint="return the received items in a list")
    sent = [_fingerprint(x) for x in items]
    keys = [g[0] for g in got]
    if keys == [s[0] for s in sent]:
        return
    for i, (a, b) in enumerate(zip(got, sent)):
        if a[0] != b[0]:
            j.fail(f"{what}: item #{i} received was {a[1]}, expected {b[1]} "
                   f"({len(got)} received, {len(items)} sent)",
                   hint="one producer over one pipe keeps the order: receive until EOFError, "
                        "and do not treat any item (None included) as an end marker")
    j.fail(f"{what}: received {len(got)} items, {len(items)} were sent "
           f"({'the first ' + str(len(got)) + ' match' if len(got) < len(items) else 'extra items at the end'})",
           hint="keep receiving until recv() raises EOFError: the items may contain None, so a "
                "None sentinel would stop early")


def _fan_in(j, rec, producers, items_each, where):
    what = f"queue_fan_in({producers}, {items_each}){where}"
    j.expect(rec["producers"] == producers and rec["items_each"] == items_each,
             f"{what}: the record is of queue_fan_in({rec['producers']}, {rec['items_each']})")
    j.expect(rec["type"] == "list", f"{what} returned {rec['type']}, expected a list",
             hint="return the items in the order get() returned them")
    if rec["items"] is None:
        j.fail(f"{what}: the items are not (producer, seq) pairs: first {rec['first']}")
    consumed = [tuple(x) for x in rec["items"]]
    produced = [(p, s) for p in range(producers) for s in range(items_each)]
    if _sorted(consumed) != produced:  # the oracle's message says which item and how
        j.oracle(_prefixed(what, exactly_once(produced, consumed, what="item (producer, seq)")),
                 hint="get() exactly producers * items_each items: each producer puts each of "
                      "its items once")
        j.fail(f"{what}: {len(consumed)} items received, {len(produced)} expected")
    j.oracle(_prefixed(what, fifo_per_key(consumed, key=lambda x: x[0], seq=lambda x: x[1])),
             hint="a Queue keeps the order of the items put by one process: return the items "
                  "in the order get() gave them, do not sort or regroup them")


def _sorted(items):
    """sorted(items), or None when they cannot be ordered (not all pairs of numbers)."""
    try:
        return sorted(items)
    except TypeError:
        return None


def _hashable(x):
    return tuple(_hashable(v) for v in x) if isinstance(x, list) else x


def _manager(j, rec, workers, keys, where):
    what = f"manager_shared_dict({workers}, {keys}){where}"
    j.expect(rec["workers"] == workers and rec["keys"] == keys,
             f"{what}: the record is of manager_shared_dict({rec['workers']}, {rec['keys']})")
    j.expect(rec["type"] == "dict" and rec["entries"] is not None,
             f"{what} returned {rec['type']}, expected a plain dict "
             "(a proxy dies with its manager)",
             hint="copy the shared dict into a plain dict of plain lists before the manager "
                  "shuts down: {k: sorted(v) for k, v in shared.items()}")
    got = {_hashable(k): (kind, value) for k, kind, value in rec["entries"]}
    j.expect(len(got) == len(rec["entries"]) and set(got) == set(range(keys)),
             f"{what}: the keys are {sorted(got, key=repr)[:8]!r}, expected 0..{keys - 1}",
             hint="one key per number in range(keys)")
    pairs = []
    for k in range(keys):
        kind, value = got[k]
        j.expect(kind == "list" and isinstance(value, list),
                 f"{what}: the value of key {k} is {kind}, expected a list", hint="plain lists of worker numbers")
        pairs.extend((k, _hashable(w)) for w in value)
    produced = [(k, w) for k in range(keys) for w in range(workers)]
    if _sorted(pairs) != produced:
        empty = keys > 0 and workers > 0 and not pairs
        j.oracle(_prefixed(what, exactly_once(produced, pairs, what="(key, worker)")),
                 hint=("every list came back empty: shared[k].append(w) appends to a copy that "
                       "the proxy returned, not to the shared value; write it back: "
                       "shared[k] = shared[k] + [w]") if empty else
                      ("shared[k] = shared[k] + [w] is a read then a write, two calls to the "
                       "manager: hold a manager Lock around both, or another worker's update "
                       "to the same key is lost"))
        j.fail(f"{what}: {len(pairs)} (key, worker) entries, {len(produced)} expected")
    for k in range(keys):
        value = got[k][1]
        j.expect(value == sorted(value), f"{what}: the list of key {k} is {value!r}, "
                                         "expected it sorted", hint="sort each list")


# --------------------------------------------------------------------------
# completion_quality (default start method) and problem_solving (spawn)

def pingpong(j):
    where = _where(j)
    for rec, n in zip(_calls(j, j.params["cases"]), j.params["cases"]):
        _pingpong(j, rec, n, where)


def stream(j):
    where = _where(j)
    for rec, case in zip(_calls(j, j.params["cases"]), j.params["cases"]):
        _stream(j, rec, case, where)


def fan_in(j):
    where = _where(j)
    for rec, (producers, items_each) in zip(_calls(j, j.params["cases"]), j.params["cases"]):
        _fan_in(j, rec, producers, items_each, where)


def manager_dict(j):
    where = _where(j)
    for rec, (workers, keys) in zip(_calls(j, j.params["cases"]), j.params["cases"]):
        _manager(j, rec, workers, keys, where)


def spawn_all(j):
    """The four patterns under the item's start method (spawn), each judged on its own: every
    failure is reported together (a call that hung or raised failed the run already)."""
    p = j.params
    where = _where(j)
    patterns = [
        ("pipe_pingpong", lambda rec: _pingpong(j, rec, p["pingpong"], where)),
        ("pipe_stream", lambda rec: _stream(j, rec, p["stream"], where)),
        ("queue_fan_in", lambda rec: _fan_in(j, rec, *p["fan_in"], where)),
        ("manager_shared_dict", lambda rec: _manager(j, rec, *p["manager"], where)),
    ]
    records = j.obs["patterns"]
    j.expect_eq([r["pattern"] for r in records], [name for name, _ in patterns], "patterns recorded")
    failures, hints, failed = [], [], []
    for (name, judge), rec in zip(patterns, records):
        try:
            judge(rec["call"])
            if rec["left"] is not None:
                failures.append(f"child processes left behind {rec['left']['text']}")
                hints.extend(_left_hints(rec["left"]))
        except j.Failed as exc:
            failures.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
        if len(failures) > len(failed):
            failed.append(name)
    if failures:
        ok = [name for name, _ in patterns if name not in failed]
        j.fail(f"{len(failures)} of {len(patterns)} patterns failed under spawn: "
               + " | ".join(failures) + (f" (passed: {', '.join(ok)})" if ok else ""),
               hint=" ".join(dict.fromkeys(hints)))


def clean_exit(j):
    before = j.obs["before"]
    j.expect(before is None, f"child processes exist before the first call: {before} "
                             "(importing ipc.py must not start processes)",
             hint="start processes inside the functions, never at import")
    p = j.params
    want = [f"pipe_pingpong({p['pingpong']})", f"pipe_stream([{p['stream']} items])",
            f"queue_fan_in({p['fan_in'][0]}, {p['fan_in'][1]})",
            f"manager_shared_dict({p['manager'][0]}, {p['manager'][1]})"]
    calls = j.obs["calls"]
    j.expect_eq([c["call"] for c in calls], want, "calls made")
    problems, hints = [], []
    for c in calls:
        if c["left"] is not None:
            problems.append(c["left"]["text"])
            hints.extend(_left_hints(c["left"]))
    if problems:
        j.fail("child processes left behind: " + "; ".join(problems), hint=" ".join(dict.fromkeys(hints)))
