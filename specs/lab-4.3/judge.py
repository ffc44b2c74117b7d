"""Judgements for lab-4.3 (the workloads are in checks.py). Runs outside the submission's process: the
plans choose the seeds of the run's values, lab43_data.py draws the same values here as in the run,
and every verdict compares what the workload recorded with what is computed here (Python's sum, the
transform and the histogram done serially)."""
import lab43_data

ITEM_SIZE = 8
SENTINEL = 0x5A5A_5A5A_5A5A_5A5A   # the items past `length` in the check's segments (checks.Segment)
GUARD = 3


def _seed(j):
    return j.rng.getrandbits(32)


def _result(result):
    """(True, the int) for an int result, else (False, its repr, its type name)."""
    if "int" in result:
        return True, int(result["int"]), "int"
    return False, result["repr"], result["type"]


def _equals(result, expected):
    """result == expected, as Python compares them: a float equal to the int counts (sum_correct alone
    requires an int)."""
    if "int" in result:
        return int(result["int"]) == expected
    if result["type"] == "float":
        return float(result["repr"]) == expected
    return False


def _shown(result):
    """A result as the old messages showed it (its repr)."""
    return result["int"] if "int" in result else result["repr"]


def _caller_segment(j, facts, what):
    """After a call on the check's segment: still there, and mapped once (by the check) only."""
    j.expect(facts["exists"] is True,
             f"{what}: the caller's segment {facts['name']} was unlinked by the call",
             hint="the caller created that segment and unlinks it; a worker or the function "
                  "only attaches to it by name, and close()s its handle")
    extra = facts["extra_mappings"]
    j.expect(extra <= 0,
             f"{what}: the segment {facts['name']} is still mapped {extra} more time(s) in the "
             "calling process after the call returned: a SharedMemory handle was not closed",
             hint="close() every SharedMemory you open, in a finally (after releasing the "
                  "memoryviews over its buf)")


# --------------------------------------------------------------------------
# completion_quality

def plan_sum_correct(j):
    return {"seeds": [_seed(j) for _ in j.params["cases"]]}


def sum_correct(j):
    cases, results = j.params["cases"], j.obs["results"]
    j.expect_eq(len(results), len(cases), "parallel_sum calls recorded")
    for case, seed, result in zip(cases, j.inputs["seeds"], results):
        values = lab43_data.values(case["values"], seed)
        workers = case.get("workers", "default")
        if workers == "default":
            what = f"parallel_sum({lab43_data.short(values)})"
        else:
            what = f"parallel_sum({lab43_data.short(values)}, workers={workers})"
        expected = sum(values)
        is_int, got, kind = _result(result)
        j.expect(is_int, f"{what} returned {got} ({kind}), expected the int {expected}",
                 hint="return the total as a Python int (add the workers' partial sums)")
        if got != expected:
            diff = got - expected
            hint = ("every item must be read by exactly one worker: slice i is "
                    "[length*i // n, length*(i+1) // n), end excluded")
            j.fail(f"{what}: expected {expected}, got {got} (off by {diff:+d})", hint=hint)


def plan_transform_correct(j):
    return {"seeds": [_seed(j) for _ in j.params["cases"]]}


def transform_correct(j):
    cases, recorded = j.params["cases"], j.obs["cases"]
    j.expect_eq(len(recorded), len(cases), "transform_in_place calls recorded")
    for (length, factor, offset, workers), seed, rec in zip(cases, j.inputs["seeds"], recorded):
        items = lab43_data.items(length, 10 ** 9, seed)
        what = (f"transform_in_place({rec['name']!r}, length={length}, factor={factor}, "
                f"offset={offset}, workers={workers})")
        _caller_segment(j, rec, what)
        after = rec["after"]
        j.expect_eq(len(after), length + GUARD, f"{what}: items read back from the segment")
        for i in range(length):
            want = items[i] * factor + offset
            if after[i] != want:
                bad = [k for k in range(length) if after[k] != items[k] * factor + offset]
                twice = [k for k in bad if after[k] == (items[k] * factor + offset) * factor + offset]
                untouched = [k for k in bad if after[k] == items[k]]
                detail = []
                if untouched:
                    detail.append(f"{len(untouched)} never transformed (first at index {untouched[0]})")
                if twice:
                    detail.append(f"{len(twice)} transformed twice (first at index {twice[0]})")
                j.fail(f"{what}: item {i} should be {items[i]} * {factor} + {offset} = {want}, "
                       f"found {after[i]}; {len(bad)} of {length} items wrong"
                       + (f": {', '.join(detail)}" if detail else ""),
                       hint="each index in [0, length) must be transformed by exactly one "
                            "worker, exactly once: slices [lo, hi) that meet end to end, "
                            "end excluded")
        for g in range(GUARD):
            j.expect(after[length + g] == SENTINEL,
                     f"{what}: the item at index {length + g}, past length={length}, was "
                     f"changed (from {SENTINEL} to {after[length + g]})",
                     hint="only the first `length` items are yours: the segment may be "
                          "longer; stop at index length - 1")


def plan_histogram_counts(j):
    return {"seeds": [[_seed(j) for _ in range(case.get("repeat", 1))] for case in j.params["cases"]]}


def _histogram_verdict(j, run, items, bins, workers):
    """Fails with the most specific message for a wrong histogram."""
    length = len(items)
    expected = [0] * bins
    for x in items:
        expected[x % bins] += 1
    what = f"histogram({run['name']!r}, length={length}, bins={bins}, workers={workers})"
    _caller_segment(j, run, what)
    got = run["counts"]
    j.expect(run["list"] is True and isinstance(got, list) and len(got) == bins
             and all(isinstance(c, int) for c in got),
             f"{what} returned {run['repr'] or repr(got)}, expected a list of {bins} int counts",
             hint="return list(counts), one count per remainder 0 .. bins-1")
    if got == expected:
        return
    total = sum(got)
    if total < length and workers > 1 and run["single"] == expected:
        j.fail(f"{what}: {length - total} of {length} counts were lost (they add up to "
               f"{total}): expected {expected}, got {got}; with workers=1 the counts are "
               "right, so concurrent updates of the shared counters overwrote each other",
               hint="`counts[b] += 1` on a shared multiprocessing.Array is a read and then "
                    "a write; two processes interleave between them and one update is "
                    "lost. Hold counts.get_lock() around every update, or better, count in "
                    "a local list and add it in once under the lock")
    if total < length:
        j.fail(f"{what}: {length - total} of {length} items were not counted (the counts add "
               f"up to {total}): expected {expected}, got {got}",
               hint="the slices [lo, hi) must meet end to end and cover [0, length) exactly "
                    "once, end excluded")
    if total > length:
        j.fail(f"{what}: the counts add up to {total}, more than the {length} items: "
               f"{total - length} item(s) counted twice: expected {expected}, got {got}",
               hint="each index in [0, length) belongs to exactly one worker's slice, end "
                    "excluded")
    j.fail(f"{what}: expected {expected}, got {got}",
           hint="count x into bin x % bins (Python's %, never negative for bins > 0)")


def histogram_counts(j):
    planned = [(case, seed) for case, seeds in zip(j.params["cases"], j.inputs["seeds"]) for seed in seeds]
    runs = j.obs["runs"]
    j.expect_eq(len(runs), len(planned), "histogram calls recorded")
    for (case, seed), run in zip(planned, runs):
        items = lab43_data.items(case["length"], 10 ** 6, seed)
        _histogram_verdict(j, run, items, case["bins"], case["workers"])


# --------------------------------------------------------------------------
# problem_solving

def plan_segments_cleaned(j):
    return {"seeds": [_seed(j) for _ in j.params["sum_cases"]]}


def segments_cleaned(j):
    cases, recorded = j.params["sum_cases"], j.obs["cases"]
    j.expect_eq(len(recorded), len(cases), "parallel_sum calls recorded")
    for case, seed, rec in zip(cases, j.inputs["seeds"], recorded):
        values = lab43_data.values(case["values"], seed)
        what = f"parallel_sum({lab43_data.short(values)}, workers={case['workers']})"
        error, left = rec["error"], rec["left"]
        how = "raised" if error is not None else "returned"
        j.expect(not left,
                 f"after {what} {how}, {len(left)} segment(s) it created were left in /dev/shm: "
                 f"{', '.join(left)} (removed by the grader)",
                 hint="the process that creates a segment unlink()s it exactly once, in a "
                      "finally, so that an exception on the way does not leak it")
        if case.get("raises"):
            j.expect(error is not None,
                     f"{what}: an item does not fit in a signed 64-bit integer, but the call "
                     f"returned {error is None and _shown(rec['result'])} instead of raising",
                     hint="array('q', values) raises OverflowError for such a value: let it "
                          "reach the caller (after cleaning up)")
        else:
            j.expect(error is None, f"{what} raised {error}")
            expected = sum(values)
            j.expect(_equals(rec["result"], expected), f"{what}: expected {expected!r}, got {_shown(rec['result'])}")
        new_maps = rec["new_maps"]
        j.expect(not new_maps,
                 f"after {what} {how}, this process still maps {len(new_maps)} shared-memory "
                 f"segment(s): {', '.join(new_maps)}: a SharedMemory handle was not closed",
                 hint="close() the parent's SharedMemory too (after releasing its memoryviews), "
                      "in a finally")


def plan_no_copy_per_worker(j):
    return {"seed": _seed(j)}


def no_copy_per_worker(j):
    n, workers = j.params["items"], j.params["workers"]
    base = j.obs["baseline_peaks"]
    j.expect(base, "grader: the baseline worker was not seen")
    baseline = max(base)
    what = f"parallel_sum(<{n} ints>, workers={workers})"
    expected = sum(lab43_data.large(n, j.inputs["seed"]))
    j.expect(_equals(j.obs["result"], expected), f"{what}: expected {expected!r}, got {_shown(j.obs['result'])}")
    peaks = j.obs["worker_peaks"]
    j.expect(peaks, f"{what}: no spawned worker process was seen while the call ran "
                    "(this item runs under the spawn start method)",
             hint="sum the slices in worker processes (a pool, or Process objects) of the "
                  "default context, so that they follow the start method")
    share_kb = n * ITEM_SIZE // workers // 1024
    budget = baseline + j.params["slack_kb"] + j.params["share_factor"] * share_kb
    pid, peak = max(peaks, key=lambda p: p[1])
    j.expect(peak <= budget,
             f"{what}: a worker (pid {pid}) peaked at {peak / 1024:.1f} MiB resident, "
             f"{(peak - baseline) / 1024:.1f} MiB above a bare worker ({baseline / 1024:.1f} MiB); "
             f"reading its {share_kb / 1024:.1f} MiB share of the data in place allows at most "
             f"{(budget - baseline) / 1024:.1f} MiB more: the data was copied into the worker "
             f"({len(peaks)} worker(s) seen)",
             hint="copy the values once, into one SharedMemory segment, and send each worker "
                  "only the segment's name and its [lo, hi) bounds; read the items through "
                  "shm.buf.cast('q') (sum(view[lo:hi]) copies nothing). Passing the list or a "
                  "slice of it pickles a copy into every worker, and view.tolist() copies too")
