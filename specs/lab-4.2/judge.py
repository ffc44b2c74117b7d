"""Judgements for lab-4.2, map-reduce with processes (the workloads are in checks.py). Runs outside the
submission's process: the data of every case is planned here, and every verdict comes from what the
workload recorded. The oracle is the grader's own serial map-reduce (`_serial`, the definition in the
starter's docstring), over the same map and reduce functions (lab42_jobs.py), never the student's
map_reduce_serial.

A result crosses the channel tagged (checks.py `_enc`: dicts, lists and tuples, other objects as their
type and repr) and is rebuilt here, so a result compares exactly as it did in the student's process:
int keys stay ints, tuples stay tuples."""

import lab42_jobs as jobs
from lab42_data import data as _data, describe_data as _describe_data, diff, serial as _serial, short as _short
from grade_oracles import max_in_flight

FUNC = "map_reduce"

WORDS = ("the a of to and in is it that was he for on are as with his they at be this from I have "
         "or by one had not but what all were when we there can an your which their said if do will "
         "each about how up out them then she many some so these would other into has more her two "
         "like him see time could no make than first been its who now people my made over did down "
         "only way find use may water long little very after words called just where most know").split()

HINT_WORD_COUNT = ("every line must be mapped exactly once and each word's counts added up across all the "
                   "chunks")
HINT_NUMERIC = ("every item must be mapped exactly once, in whichever chunk it falls, and the values of a key "
                "collected from every chunk")
HINT_ONCE_IN_ORDER = ("call reduce_func exactly once per key, with the complete list of the key's values in "
                      "input order: do not reduce per chunk and then reduce the partial results (that is only "
                      "right for associative reducers such as sum), and merge the chunks' results in chunk "
                      "order, not in the order they finish")
HINT_EDGE = ("empty data gives {}; with fewer items than processes every item is still mapped once (never "
             "make chunks of size 0, and do not let the last chunk drop the remainder)")
HINT_LEFT = ("use the pool in a with-block (it joins the workers, also when a task raised), or close() and "
             "join() it in a finally; never keep pools alive between calls")


# --------------------------------------------------------------------------
# the oracle and data

def _lines(rng, count, min_words=0, max_words=12):
    """`count` lines of words drawn from WORDS, some capitalised, some empty."""
    out = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(min_words, max_words))]
        out.append(" ".join(w.capitalize() if rng.random() < 0.1 else w for w in words))
    return out


def _plan_data(j, spec):
    """A data description of the spec's params as the workload builds it: {lines: N} and {docs: N} are
    drawn here (seeded per run), the others pass as they are."""
    if "lines" in spec:
        return {"text": _lines(j.rng, spec["lines"])}
    if "docs" in spec:
        return {"pairs": [[f"doc{i:03d}", line] for i, line in enumerate(_lines(j.rng, spec["docs"], 1, 8))]}
    return dict(spec)


class _Other:
    """An object of a type the workload could not record as data: its type name and repr."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text


def _dec(value):
    """A recorded result, rebuilt (checks.py `_enc`, reversed)."""
    if not isinstance(value, dict):
        return value
    if "dict" in value:
        return {_dec(k): _dec(v) for k, v in value["dict"]}
    if "tuple" in value:
        return tuple(_dec(v) for v in value["tuple"])
    if "list" in value:
        return [_dec(v) for v in value["list"]]
    return _Other(value["other"], value["repr"])


def _type_name(value):
    return value.type_name if isinstance(value, _Other) else type(value).__name__


def _call_repr(data, map_func, reduce_func, num_processes):
    args = f"{_describe_data(data)}, {map_func.__name__}, {reduce_func.__name__}"
    if num_processes == "default":
        return f"{FUNC}({args})"
    return f"{FUNC}({args}, num_processes={num_processes})"


def _diff(got, expected):
    """The first differences between two result dicts, in words."""
    return diff(got, expected, _type_name)


def _cases(j):
    """Each case of the params with its planned data: (case, data, map_func, reduce_func, procs, what)."""
    out = []
    for case, spec in zip(j.params["cases"], j.inputs["data"]):
        data = _data(spec)
        map_func, reduce_func = getattr(jobs, case["map"]), getattr(jobs, case["reduce"])
        procs = case.get("processes", "default")
        out.append((case, data, map_func, reduce_func, procs, _call_repr(data, map_func, reduce_func, procs)))
    return out


def _plan_cases(j):
    return {"data": [_plan_data(j, case["data"]) for case in j.params["cases"]]}


def _outcomes(j, key, count):
    """The calls' outcomes the workload recorded under `key`, one by one, up to `count`: a call that hung or
    raised (recorded as `failed`, with its message) fails the run there; the workload stops after it."""
    outcomes = j.obs[key]
    for i in range(count):
        j.expect(i < len(outcomes), "the run recorded %d of %d calls of map_reduce" % (len(outcomes), count))
        if "failed" in outcomes[i]:
            j.fail(outcomes[i]["failed"], outcomes[i].get("hint"))
        yield outcomes[i]


def _check_cases(j, hint):
    cases = _cases(j)
    for (case, data, map_func, reduce_func, _, what), out in zip(cases, _outcomes(j, "results", len(cases))):
        got, expected = _dec(out["result"]), _serial(data, map_func, reduce_func)
        j.expect(got == expected, f"{what}: not the serial result: {_diff(got, expected)}",
                 hint=case.get("hint", hint))


# --------------------------------------------------------------------------
# completion_quality

def plan_word_count(j):
    return _plan_cases(j)


def word_count(j):
    _check_cases(j, HINT_WORD_COUNT)


def plan_numeric_jobs(j):
    return _plan_cases(j)


def numeric_jobs(j):
    _check_cases(j, HINT_NUMERIC)


def plan_reduce_once_in_order(j):
    return _plan_cases(j)


def reduce_once_in_order(j):
    _check_cases(j, HINT_ONCE_IN_ORDER)


def plan_edge_cases(j):
    return _plan_cases(j)


def edge_cases(j):
    _check_cases(j, HINT_EDGE)


# --------------------------------------------------------------------------
# problem_solving

def plan_no_process_left(j):
    return _plan_cases(j)


def no_process_left(j):
    before = j.obs["before"]
    j.expect(not before, f"child processes alive before the first call: {before} "
                         "(importing mapreduce.py must not start processes)",
             hint="start worker processes inside map_reduce, not at import")
    cases = _cases(j)
    for (case, data, map_func, reduce_func, _, what), call in zip(cases, _outcomes(j, "calls", len(cases))):
        got = _dec(call.get("result"))
        if case.get("raises"):
            j.expect("raised" in call,
                     f"{what}: map_func raised MapFailure on item 13, but map_reduce returned "
                     f"{_short(got)} instead of raising it",
                     hint="let the worker's exception reach the caller (pool.map and "
                          "future.result() re-raise it); never swallow it")
            how = "raised"
        else:
            expected = _serial(data, map_func, reduce_func)
            j.expect("result" in call and got == expected,
                     f"{what}: not the serial result: {_diff(got, expected)}")
            how = "returned"
        left = call["left"]
        j.expect(not left,
                 f"after {what} {how}, {len(left)} worker process(es) were still alive "
                 f"(pids {', '.join(map(str, left))})", hint=HINT_LEFT)


def map_error(j):
    data = _data(j.params["data"])
    what = _call_repr(data, jobs.failing_map, jobs.sum_reduce, j.params["processes"])
    out = j.obs["outcome"]
    j.expect("raised" in out,
             f"{what}: failing_map raises MapFailure (a ValueError) on item 13, but map_reduce "
             f"returned {_short(_dec(out.get('returned')))}",
             hint="do not catch exceptions from the workers and carry on: a result computed "
                  "without some items is wrong; let the exception reach the caller")
    j.expect(out["value_error"] is True,
             f"{what}: failing_map raised MapFailure (a ValueError) on item 13; the caller got "
             f"{out['raised']}: {out['text']} instead",
             hint="let the worker's exception through unchanged (pool.map re-raises it in "
                  "the parent), do not wrap it in another type")


def plan_spawn_start_method(j):
    return _plan_cases(j)


def spawn_start_method(j):
    j.expect(j.obs["start_method"] == "spawn",
             f"spec error: this item must run with start_method: spawn, not {j.obs['start_method']}")
    no_process_left(j)


def _max_overlap(spans):
    """The largest number of spans (pid, start, end) in progress at one instant."""
    return max_in_flight((start, end) for _, start, end in spans)


def parallel_map(j):
    """Up to `attempts` calls: one in which two map calls overlapped in time is enough (outside load can
    keep one worker off the CPU for a whole call); serial work never overlaps."""
    data = _data(j.params["data"])
    procs, need = j.params["processes"], j.params["min_overlap"]
    what = _call_repr(data, jobs.span_map, jobs.span_reduce, procs)
    expected_keys = {n % 8 for n in data} | {"span"}
    me = j.number("pid")
    attempts = j.obs["attempts"]
    seen = []
    for out in _outcomes(j, "attempts", max(1, len(attempts))):
        got = _dec(out["result"])
        j.expect(isinstance(got, dict) and set(got) == expected_keys and
                 isinstance(got.get("span"), list) and len(got["span"]) == len(data) and
                 all(isinstance(s, (tuple, list)) and len(s) == 3 for s in got["span"]),
                 f"{what}: expected the keys {sorted(expected_keys, key=str)} with {len(data)} "
                 f"spans, got {_short(got)}",
                 hint="every item must be mapped exactly once")
        spans = got["span"]
        pids = {pid for pid, _, _ in spans}
        j.expect(me not in pids,
                 f"{what}: {sum(1 for p, _, _ in spans if p == me)} of {len(spans)} map calls ran "
                 "in the calling process itself, not in a worker process",
                 hint="threads cannot run Python code in parallel (the GIL): apply map_func in "
                      "the worker processes")
        most = _max_overlap(spans)
        if most >= need:
            return
        seen.append((most, len(pids)))
    j.expect_eq(len(seen), j.params["attempts"], "calls of map_reduce without overlapping map calls")
    j.fail(f"{what}: in {len(seen)} calls, at most {max(m for m, _ in seen)} map call(s) ran at "
           f"the same time ({len(data)} calls per run, in "
           f"{'/'.join(str(p) for _, p in seen)} process(es)); {need} expected with "
           f"num_processes={procs}",
           hint="submit every chunk before waiting for any result (pool.map, or submit() then "
                "collect the futures); pool.apply() and result() right after submit() run one "
                "chunk at a time")
