"""Judgements for ex-threadsafe-dict (the workloads are in checks.py). Runs outside the submission's
process: every verdict comes from what the workload recorded."""
from grade_oracles import exactly_once

INC_HINT = "read, add and write under one hold of the lock: not get() then set()"


def _dups(values):
    seen, dups = set(), set()
    for v in values:
        if v in seen:
            dups.add(v)
        seen.add(v)
    return "%d values, %s returned more than once" % (len(values), sorted(dups)[:5]) if dups else "%d values" % len(values)


def _prefixed(prefix, message):
    return prefix + message if message else None


def _sorted(values):
    """A list the workload recorded, sorted (pairs arrive as lists)."""
    if not isinstance(values, list):
        raise TypeError("expected a list, the run recorded %r" % (values,))
    return sorted(values)


def _pairs(pairs):
    return [tuple(p) if isinstance(p, list) else p for p in _sorted(pairs)]


def _items(rec):
    """What items() returned (see checks._items), sorted: (key, value) tuples when it gave tuples, else
    the entries as they were (lists, which no expected value equals)."""
    return _pairs(rec["items"]) if rec["tuples"] is True else _sorted(rec["items"])


def _expect_items(j, rec, expected, what, hint=None):
    got = _items(rec)
    if rec["tuples"] is not True or got != expected:
        j.fail("%s: expected %r, got %r" % (what, expected, got), hint)


# -- completion ---------------------------------------------------------------------------------

def basic_api(j):
    o = j.obs
    j.expect_eq(o["len_new"], 0, "len() of a new ThreadSafeDict()")
    j.expect_eq(o["get_missing"], None, "get('a') on an empty dict (default None)")
    j.expect_eq(o["get_missing_7"], 7, "get('a', 7) on an empty dict")
    j.expect_eq(o["get_a"], 1, "get('a') after set('a', 1)")
    j.expect(o["in"] == [True, False], "`in`: 'a' should be in the dict and 'b' not")
    _expect_items(j, o["items"], [("a", 1), ("b", 2), ("c", 3)], "items() after update({'b': 2, 'c': 3})")
    j.expect_eq(_sorted(o["keys"]), ["a", "b", "c"], "keys()")
    j.expect_eq(_sorted(o["values"]), [1, 2, 3], "values()")
    j.expect_eq(_sorted(o["iter"]), ["a", "b", "c"], "iterating over the dict (its keys)")
    j.expect_eq(o["snapshot"], {"a": 1, "b": 2, "c": 3}, "snapshot()")
    j.expect_eq(o["str"], str({"a": 1, "b": 2, "c": 3}), "str() (the str of a plain dict with the same items)")
    j.expect_eq(o["snapshot_after_delete"], {"a": 1, "c": 3}, "snapshot() after delete('b')")
    j.expect(o["delete_missing"] == "KeyError", "delete('zzz') of a missing key did not raise KeyError")
    j.expect_eq(o["pop_c"], 3, "pop('c')")
    j.expect_eq(o["pop_c_default"], "gone", "pop('c', 'gone') after 'c' was popped")
    j.expect(o["pop_missing"] == "KeyError", "pop('c') of a missing key, with no default, did not raise KeyError")
    j.expect_eq(o["increment_n"], 1, "increment('n') of a missing key (counts from 0)")
    j.expect_eq(o["increment_n_5"], 6, "increment('n', 5) then")
    j.expect_eq(o["get_n"], 6, "get('n') after the increments")
    j.expect_eq(o["setdefault_missing"], [], "setdefault('s', []) of a missing key returns the default")
    j.expect(o["setdefault_present"] == "stored", "setdefault('s', ...) of a present key must return the "
             "stored value, not the new default")
    j.expect_eq(o["compute_missing"], "computed", "get_or_compute('g', factory) of a missing key returns factory()")
    j.expect_eq(o["compute_present"], "computed",
                "get_or_compute('g', factory) of a present key returns the stored value")
    j.expect_eq(o["factory_calls"], 1, "factory calls for get_or_compute('g') twice (it is stored after the first)")
    j.expect_eq(o["get_g"], "computed", "get('g') after get_or_compute stored it")
    j.expect_eq(o["snapshot_initial"], {"x": 1, "y": 2}, "ThreadSafeDict({'x': 1, 'y': 2}).snapshot()")
    j.expect_eq(o["get_z_locked"], 3, "get('z') after set('z', 3) inside `with d.locked():`")


def atomic_ops(j):
    threads, ops, keys = j.params["threads"], j.params["ops"], j.params["keys"]
    increments, counts = j.obs["increments"], j.obs["counts"]
    j.expect_eq(len(increments), threads, "threads whose increments were recorded")
    per_key = {}
    for i, out in enumerate(increments):
        j.expect_eq(len(out), ops, "increment() calls recorded for thread %d" % i)
        for k, (key, v) in enumerate(out):
            j.expect_eq(key, "k%d" % ((i + k) % keys), "key of thread %d's increment #%d" % (i, k + 1))
            per_key.setdefault(key, []).append(v)
    for key in sorted(per_key):
        n = len(per_key[key])
        value = counts.get(key)
        j.expect(value == n, "%s: %d increments from %d threads left the value at %r (lost updates)"
                 % (key, n, threads, value), hint=INC_HINT)
        j.expect(sorted(per_key[key]) == list(range(1, n + 1)),
                 "%s: increment() returned %s; every call must return a different new value 1..%d "
                 "(two calls saw the same old value)" % (key, _dups(per_key[key]), n))

    # setdefault: each object is recorded by index (thread i passed object i; others come after).
    n_sd = j.params.get("sd_keys", 1)
    setdefaults = j.obs["setdefaults"]
    j.expect_eq(len(setdefaults), n_sd, "keys raced with setdefault()")
    for k, sd in enumerate(setdefaults):
        got, stored = sd["got"], sd["stored"]
        j.expect_eq(len(got), threads, "setdefault('shared-%d') results recorded" % k)
        j.expect(all(g == stored for g in got),
                 "%d threads called setdefault('shared-%d', <their own object>) at once and got %d different "
                 "objects back; all must get the one that was stored" % (threads, k, len(set(got))),
                 hint="check for the key and store the default under one hold of the lock")
        j.expect(isinstance(stored, int) and 0 <= stored < threads,
                 "setdefault('shared-%d', <their own object>) from %d threads stored an object none of them "
                 "passed" % (k, threads), hint="check for the key and store the default under one hold of the lock")

    # pop: each key is taken by exactly one thread.
    n_pop, popped = j.params["pop_keys"], j.obs["popped"]
    j.expect_eq(len(popped), threads, "threads whose pop() results were recorded")
    j.oracle(_prefixed("values popped by %d racing threads: " % threads,
                       exactly_once(list(range(n_pop)), [v for t in popped for v in t], what="value")),
             hint="pop() must look the key up and remove it under one hold of the lock")


def update_atomic(j):
    writers, readers, rounds = j.params["writers"], j.params["readers"], j.params["rounds"]
    reads, seen = j.obs["reads"], j.obs["seen"]
    j.expect_eq(len(reads), readers, "readers whose reads were recorded")
    for r, n in enumerate(reads):
        j.expect(isinstance(n, int) and n >= 5, "reader-%d read the dict %r times, at least 5 expected" % (r, n))
    torn = ["%s returned x=%r, y=%r, z=%r" % tuple(s) for s in seen if len(set(s[1:])) != 1]
    j.expect(not torn, "while writers called update({'x': v, 'y': v, 'z': v}), a reader saw them disagree: %s "
             "(update() is not atomic: another thread saw it half done)" % "; ".join(torn[:3]),
             hint="apply the whole update under one hold of the lock (self._dict.update(other) inside it)")
    written = set(range(writers * rounds + 1))
    strange = [s for s in seen if not (isinstance(s[1], int) and s[1] in written)]
    j.expect(not strange, "a reader saw a value no writer wrote: %s returned x=%r, y=%r, z=%r"
             % (tuple(strange[0]) if strange else ("", None, None, None)))
    last = sorted((i + 1) * rounds for i in range(writers))
    final = j.obs["final"]
    v = final.get("x") if isinstance(final, dict) else None
    j.expect(isinstance(final, dict) and sorted(final) == ["x", "y", "z"] and v in last
             and final.get("y") == v and final.get("z") == v,
             "after every writer's last update(), snapshot() returned %r: expected x, y and z equal to one "
             "writer's last value (%s)" % (final, ", ".join(map(str, last))),
             hint="apply the whole update under one hold of the lock (self._dict.update(other) inside it)")


def snapshot_iteration(j):
    writers, readers, rounds, width = j.params["writers"], j.params["readers"], j.params["rounds"], j.params["width"]
    errors = j.obs["errors"]
    j.expect(not errors, "while %d threads added and deleted keys, iterating raised: %s" % (writers, errors[0]
             if errors else ""),
             hint="return a copy made under the lock (list(self._dict.items())), never the live dict or a view")
    passes = j.obs["passes"]
    j.expect_eq(len(passes), readers, "readers whose passes were recorded")
    for i, n in enumerate(passes):
        j.expect(isinstance(n, int) and n >= 3, "reader-%d went over the dict %r times, at least 3 expected" % (i, n))
    sizes = j.obs["sizes"]
    lo, hi = width, width + 4 * writers     # each writer holds at most 4 keys of its own at a time
    for what in ("for key in d", "d.items()", "d.keys()", "d.values()"):
        got = sizes.get(what)
        j.expect(bool(got), "%s was never read to the end" % what)
        bad = [n for n in got if not lo <= n <= hi]
        j.expect(not bad, "while %d threads added and deleted keys, %s returned %d entries: the dict held "
                 "between %d and %d at any one moment (a copy must be taken at one moment)"
                 % (writers, what, bad[0] if bad else 0, lo, hi),
                 hint="return a copy made under the lock (list(self._dict.items())), never the live dict or a view")
    expected = sorted(["base%d" % k for k in range(width)] +
                      ["w%d_%d" % (i, k) for i in range(writers) for k in range(max(0, rounds - 3), rounds)])
    j.expect_eq(_sorted(j.obs["keys_after_writers"]), expected, "keys() once every writer had finished")
    ks, vs, its = j.obs["taken_before"]
    got, want = (_sorted(ks), _sorted(vs), _items(its)), (["a", "b"], [1, 2], [("a", 1), ("b", 2)])
    if its["tuples"] is not True or got != want:
        j.fail("%s: expected %r, got %r" % ("keys(), values(), items() taken before set('c', 3) and set('a', 100)",
                                            want, got), hint="return lists copied under the lock, not views of the live dict")
    j.expect_eq(j.obs["snapshot_before"], {"a": 1, "b": 2}, "snapshot() taken before set('c', 3) and set('a', 100)")
    j.expect(j.obs["snapshot_key_in_dict"] is False,
             "adding a key to the dict returned by snapshot() changed the ThreadSafeDict", hint="snapshot() returns a copy")
    error = j.obs["iterator_error"]
    if error is not None:
        j.fail("an iterator taken with iter(d) raised RuntimeError (%s) after a key was added" % error,
               hint="__iter__ iterates over a copy of the keys")
    j.expect_eq(_sorted(j.obs["iterator_keys"]), ["a", "b"], "the keys an iterator taken before set('c', 3) yields")


# -- problem solving ------------------------------------------------------------------------------

def reentrant_locked(j):
    o = j.obs
    j.expect_eq(o["inside"], (2, 2, 3, 3, True),
                "get('a'), get('b'), get('c'), len(d), 'a' in d inside `with d.locked():`")
    j.expect_eq(o["snapshot_inside"], {"a": 2, "b": 2, "c": 3}, "snapshot() inside `with d.locked():`")
    _expect_items(j, o["items_inside"], [("a", 2), ("b", 2), ("c", 3)], "items() inside the block")
    j.expect_eq(o["pop_inside"], 2, "pop('b') inside the block")
    j.expect_eq(o["compute_inside"], 20,
                "get_or_compute('f', lambda: d.get('a') * 10) inside the block (the factory reads d)")
    j.expect_eq(o["compute_outside"], 23,
                "get_or_compute('g', factory) whose factory calls get() and increment() on the same dict")
    during = o["holder_saw_other"]
    j.expect(o["set_done_during_block"] is False and during is None,
             "another thread's set('other', 1) completed while a thread was inside `with d.locked():` "
             "(it saw other=%r): locked() must hold the same lock as the methods" % (during,),
             hint="locked() holds self._lock, the one every method takes")
    j.expect_eq(o["other_after"], 1, "get('other') once the block ended and set('other', 1) went through")


def client_side_compound(j):
    threads, ops = j.params["threads"], j.params["ops"]
    j.expect_eq(j.obs["done"], [ops] * threads, "`with d.locked():` blocks each thread finished")
    j.expect_eq(j.obs["value"], threads * ops, "value after %d threads x %d `with d.locked(): d.set('k', "
                "d.get('k', 0) + 1)`" % (threads, ops), hint="locked() must hold the lock the methods use")


CALLBACK_OPS = ["get('x')", "set('y', 2)", "increment('n')", "len(d)", "items()", "get_or_compute('b', lambda: 'fast')"]


def callback_outside_lock(j):
    limit, ops = j.params["op_timeout"], j.obs["during_factory"]
    for what, returned, _ in ops:
        j.expect(returned, "while the factory of get_or_compute('a', ...) was running, another thread's %s did not "
                 "return within %.1f s: the dict's lock is held while user code runs" % (what, limit),
                 hint="call the factory after releasing the lock; store its result under the lock afterwards")
    j.expect_eq([op[0] for op in ops], CALLBACK_OPS, "operations run while the factory of get_or_compute('a') ran")
    # What the other keys' calls returned. The key being computed may or may not show meanwhile (the
    # contract says nothing about it): len() may count it, items() may list it.
    results = {what: value for what, _, value in ops}
    hint = "while one key's factory runs, every other key is read, written and computed as usual"
    for what, want in (("get('x')", 1), ("increment('n')", 1), ("get_or_compute('b', lambda: 'fast')", "fast")):
        j.expect_eq(results[what], want, "%s while the factory of get_or_compute('a', ...) was running" % what,
                    hint=hint)
    j.expect(results["len(d)"] in (3, 4), "len(d) while the factory of get_or_compute('a', ...) was running, with "
             "x, y and n stored: expected 3, got %r" % (results["len(d)"],), hint=hint)
    others = [p for p in _pairs(results["items()"]) if p[0] != "a"]
    j.expect_eq(others, [("n", 1), ("x", 1), ("y", 2)],
                "items() (other than 'a') while the factory of get_or_compute('a', ...) was running", hint=hint)
    j.expect_eq(j.obs["computed"], "slow", "get_or_compute('a', factory) once the factory returned")
    j.expect_eq(j.obs["after"], ("slow", "fast", 2), "get('a'), get('b'), get('y') after")


def compute_once(j):
    waiters, calls = j.params["waiters"], j.obs["calls"]
    j.expect(len(calls) == 1, "%d threads called get_or_compute('k', factory) while its factory was running; "
             "the factory ran %d times (%s): a missing key's factory must run once, the others wait for it"
             % (waiters + 1, len(calls), ", ".join(map(str, calls))),
             hint="remember which keys are being computed (a dict of Events); a second caller waits on the "
                  "Event, outside the lock, then reads the stored value")
    early = j.number("returned_early")
    j.expect(early == 0, "get_or_compute('k', ...) returned in %d racing thread(s) before the running factory "
             "had finished" % early)
    # Objects by index: 0 is the object the factory made; any other index another object.
    returned, stored = j.obs["returned"], j.obs["stored"]
    j.expect_eq(len(returned), waiters + 1, "get_or_compute('k') results recorded")
    j.expect(all(v == returned[0] for v in returned) and stored == returned[0],
             "racing get_or_compute('k') calls returned %d different values; all must return the stored one"
             % len(set(returned)))
    j.expect(stored == 0 and j.obs["made"] == 1,
             "racing get_or_compute('k') calls all returned an object its factory did not return")
    j.expect(j.obs["failing_factory"] == "ValueError",
             "get_or_compute('e', factory) whose factory raised ValueError did not raise it")
    j.expect(j.obs["failed_key_in_dict"] is False, "a factory that raised left the key 'e' in the dict")
    j.expect_eq(j.obs["after_failure"], "second try", "get_or_compute('e', factory) after an earlier factory for "
                "'e' raised (it must not wait for the failed one forever)")
