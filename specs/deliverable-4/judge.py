"""Judgements for deliverable-4, the parallel log analyser (the workloads are in checks.py). Runs outside
the submission's process: what analyse() must find is computed here from the same seeded generator that
wrote the run's logs (d4_logs.py), and every verdict comes from what the workload recorded.

Standard library only.
"""
import d4_logs
from grade_lib_values import decode as _decode

_EXPECTED = {}


def _want(lines, seed):
    """The generated log's aggregates (the top 10 paths) and its size in bytes."""
    key = (lines, seed)
    if key not in _EXPECTED:
        exp = d4_logs.generate(None, lines, seed)
        _EXPECTED[key] = (exp.result(10), exp.size)
    return _EXPECTED[key]


def _results(j, n):
    results = j.obs["results"]
    j.expect(isinstance(results, list) and len(results) == n,
             "the run recorded %s results of analyse() for %d calls" % (len(results) if isinstance(results, list)
                                                                        else results, n))
    return [_decode(r) for r in results]


def _what(label, workers, pass_workers=True):
    return f"analyse({label}, workers={workers})" if pass_workers else f"analyse({label})"


# --------------------------------------------------------------------------
# completion_quality

def counts_exact(j):
    p = j.params
    want, _ = _want(p["lines"], p["seed"])
    label = f"<{p['lines']}-line log>"
    for workers, got in zip(p["workers"], _results(j, len(p["workers"]))):
        d4_logs.check_counts(j, _what(label, workers, workers != "omitted"), got, want)


def latency_exact(j):
    p = j.params
    want, _ = _want(p["lines"], p["seed"])
    label = f"<{p['lines']}-line log with a slow incident in the middle>"
    for workers, got in zip(p["workers"], _results(j, len(p["workers"]))):
        d4_logs.check_latency(j, _what(label, workers), got, want)


def chunk_edges(j):
    cases = d4_logs.edge_cases()
    wanted = {}
    for (label, name, text, workers, why), got in zip(cases, _results(j, len(cases))):
        if name not in wanted:
            wanted[name] = d4_logs.serial_reference(text.encode("ascii"), 10)
        what = _what(label, workers)
        try:
            d4_logs.check_counts(j, what, got, wanted[name])
            d4_logs.check_latency(j, what, got, wanted[name])
        except j.Failed as exc:
            j.fail(f"{exc.message} [{why}]", exc.hint)


# --------------------------------------------------------------------------
# problem_solving

def no_process_left(j):
    p = j.params
    want, _ = _want(p["lines"], p["seed"])
    before = j.obs["before"]
    j.expect(not before, f"child processes exist before the first call: {sorted(before)} "
                         "(importing loganalyser.py must not start processes)",
             hint="start the workers inside analyse(), never at import")
    calls = j.obs["calls"]
    label = f"<{p['lines']}-line log>"
    for i, workers in enumerate(p["workers"]):
        j.expect(i < len(calls), "the run recorded %d of the %d calls of analyse()" % (len(calls), len(p["workers"])))
        what = _what(label, workers)
        d4_logs.check_counts(j, what, _decode(calls[i]["result"]), want)
        left = calls[i]["left"]
        if left:
            states = {"zombie": "finished, never joined: a zombie", "running": "still running"}
            desc = ", ".join(f"pid {pid} ({states.get(state, state)})" for pid, state in left)
            j.fail(f"after {what} returned, {len(left)} worker process(es) were left: {desc}",
                   hint="use the pool in a with-block (ProcessPoolExecutor or multiprocessing.Pool), "
                        "or close() and join() it, every call; join() every Process you start; "
                        "do not keep a pool in a global between calls")


def work_in_processes(j):
    p = j.params
    want, _ = _want(p["lines"], p["seed"])
    what = _what(f"<{p['lines']}-line log>", p["workers"])
    d4_logs.check_counts(j, what, _decode(j.obs["result"]), want)
    children, parent = j.number("children_cpu_s"), j.number("parent_cpu_s")
    total = children + parent
    share = children / total if total > 0 else 0.0
    need = p["min_children_share"]
    j.expect(children >= p["min_children_cpu_s"] and share >= need,
             f"{what}: worker processes used {children:.2f} s of CPU, this process {parent:.2f} s "
             f"(children's share {share:.0%}, at least {need:.0%} expected): "
             + ("the parsing did not run in worker processes" if share < 0.05 else
                "most of the work was done in this process, not in the workers"),
             hint="threads cannot parse in parallel (the GIL): give each worker process a byte "
                  "range and let it read, parse and count it there; the parent should only add "
                  "up the workers' small partial counts, not read lines or count records")


def parent_memory(j):
    p = j.params
    want, size = _want(p["lines"], p["seed"])
    size_kb = size // 1024
    what = _what(f"<{p['lines']}-line log, {size_kb / 1024:.1f} MB>", p["workers"])
    d4_logs.check_counts(j, what, _decode(j.obs["result"]), want)
    grew = j.number("grew_kb")
    limit = int(size_kb * p["max_growth_of_file"])
    j.expect(grew <= limit,
             f"{what}: this process's resident memory grew by {grew / 1024:.1f} MB at its peak, "
             f"for a {size_kb / 1024:.1f} MB log (at most {limit / 1024:.1f} MB expected): the "
             "parent holds the log, or its lines, in memory",
             hint="do not read the file in the parent: send each worker (path, start, end), let "
                  "it read its own byte range, and send back only its partial counts")
