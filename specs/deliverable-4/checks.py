"""Checks for deliverable-4, the parallel log analyser (`loganalyser.py`).

Standard library only. Every log is generated here, deterministically from a seed in
the item's params, into the run's temporary directory (TMPDIR, which the grader gives
each run). The expected aggregates of a generated log come from the generator's own
columns, not from parsing the file, so they are independent of any parser; the small
hand-made files of `chunk-edges` are judged against a plain serial parser written here.
"""

import os
import random
import re
import tempfile
import threading
import time
import traceback
from collections import Counter

MODULE = "loganalyser"
PERCENTILES = (50, 95, 99)

# --------------------------------------------------------------------------
# the generated log

LEVELS = ["DEBUG"] * 10 + ["INFO"] * 70 + ["WARN"] * 15 + ["ERROR"] * 5
SERVICES = ["auth", "billing", "search", "catalog", "cart", "gateway", "users", "media",
            "orders", "pricing", "reviews", "shipping"]
VERBS = ["list", "get", "create", "update", "delete", "search", "export", "health"]
STATUSES = (["200"] * 600 + ["201"] * 50 + ["204"] * 20 + ["301"] * 5 + ["304"] * 30 + ["400"] * 20
            + ["401"] * 10 + ["403"] * 5 + ["404"] * 40 + ["409"] * 3 + ["429"] * 5 + ["500"] * 8
            + ["502"] * 3 + ["503"] * 3)
MALFORMED_EVERY = 1500      # about one line in this many is not a record
ODD_SPACING_EVERY = 2500    # about one record in this many uses tabs or several spaces


def _latency_table(rng, median, sigma, size=4096):
    """Latencies (ms, as text) drawn once; lines pick from the table uniformly (fast)."""
    return [str(min(60000, int(rng.lognormvariate(0.0, sigma) * median))) for _ in range(size)]


def _malformed_line(rng, fields):
    """A line that is not a valid record, made from a record's fields."""
    kind = rng.randrange(8)
    if kind == 0:
        return ""
    if kind == 1:
        return "   "
    if kind == 2:
        return " ".join(fields[:3])                          # truncated
    if kind == 3:
        return " ".join(fields[:3] + ["-"] + fields[4:])     # latency missing
    if kind == 4:
        return " ".join(fields[:5] + ["5xx"])                # status not a number
    if kind == 5:
        return " ".join(fields[:4] + ["GET", fields[4], fields[5]])  # 7 fields
    if kind == 6:
        return " ".join(fields[:3] + ["-12"] + fields[4:])   # negative latency
    return "#" + " ".join(fields[:2]) + " log rotated"       # a comment-like line (4 fields)


class Expected:
    """What the analyser must find, accumulated while the file is written."""

    def __init__(self):
        self.lines = 0
        self.malformed = 0
        self.levels, self.services, self.statuses = Counter(), Counter(), Counter()
        self.latencies, self.paths = Counter(), Counter()

    def result(self, top):
        count = sum(self.latencies.values())
        latency = {"count": count, "mean": None, "max": None}
        latency.update({f"p{p}": None for p in PERCENTILES})
        if count:
            latency["mean"] = sum(v * k for v, k in self.latencies.items()) / count
            latency["max"] = max(self.latencies)
            for p in PERCENTILES:
                latency[f"p{p}"] = _nearest_rank(self.latencies, count, p)
        ranked = sorted(self.paths.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "lines": self.lines,
            "malformed": self.malformed,
            "levels": dict(self.levels),
            "services": dict(self.services),
            "statuses": dict(self.statuses),
            "latency_ms": latency,
            "top_paths": [tuple(kv) for kv in ranked[:top]],
        }


def _nearest_rank(histogram, count, pct):
    rank = (pct * count + 99) // 100
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("empty histogram")


def generate(path, lines, seed, incident=(0.55, 0.8)):
    """Writes a log of `lines` lines to `path`; returns its Expected aggregates.

    Lines: `<ISO time> <LEVEL> <service> <latency_ms> <path> <status>`. Latencies come
    from a fast table in most of the file and from a slow one during an "incident"
    (the fraction `incident` of the file), so different parts of the file have very
    different percentiles: merging the workers' percentiles cannot give the right ones.
    About one line in MALFORMED_EVERY is not a record, and some records are separated
    by tabs or several spaces.
    """
    rng = random.Random(seed)
    paths = [f"/api/v2/{s}/{v}" for s in SERVICES for v in VERBS]
    path_table = [p for p in paths for _ in range(rng.randint(1, 40))]
    normal = _latency_table(rng, 38, 0.7)
    slow = _latency_table(rng, 420, 0.5)
    exp = Expected()
    statuses, latencies = Counter(), Counter()  # keyed by text while writing: faster
    block = 10000
    inc_lo, inc_hi = int(incident[0] * lines), int(incident[1] * lines)
    seconds = ["2024-05-01T%02d:%02d:%02d." % (s // 3600 % 24, s // 60 % 60, s % 60)
               for s in range(2 * lines // 1000 + 1)]
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for b in range(0, lines, block):
            k = min(block, lines - b)
            lv = rng.choices(LEVELS, k=k)
            sv = rng.choices(SERVICES, k=k)
            pa = rng.choices(path_table, k=k)
            st = rng.choices(STATUSES, k=k)
            la = rng.choices(slow if inc_lo <= b < inc_hi else normal, k=k)
            ts = [f"{seconds[ms // 1000]}{ms % 1000:03d}Z" for ms in range(2 * b, 2 * (b + k), 2)]
            rows = list(map(" ".join, zip(ts, lv, sv, la, pa, st)))
            exp.levels.update(lv)
            exp.services.update(sv)
            exp.paths.update(pa)
            statuses.update(st)
            latencies.update(la)
            bad = rng.sample(range(k), max(1, k // MALFORMED_EVERY))
            for i in rng.sample(range(k), max(1, k // ODD_SPACING_EVERY)):
                sep = rng.choice(["  ", "\t", " \t "])
                rows[i] = sep.join((ts[i], lv[i], sv[i], la[i], pa[i], st[i]))
            for i in bad:
                rows[i] = _malformed_line(rng, [ts[i], lv[i], sv[i], la[i], pa[i], st[i]])
                exp.levels[lv[i]] -= 1
                exp.services[sv[i]] -= 1
                exp.paths[pa[i]] -= 1
                statuses[st[i]] -= 1
                latencies[la[i]] -= 1
            exp.malformed += len(bad)
            fh.write("\n".join(rows))
            fh.write("\n")
    exp.lines = lines
    for counter in (exp.levels, exp.services, exp.paths, statuses, latencies):
        for key in [key for key, n in counter.items() if n <= 0]:
            del counter[key]
    exp.statuses = Counter({int(k): n for k, n in statuses.items()})
    exp.latencies = Counter({int(k): n for k, n in latencies.items()})
    return exp


def _workdir():
    """A directory of this run's own (the grader points TMPDIR at the run's temporary directory)."""
    return tempfile.mkdtemp(prefix="logs-")


def _log(ctx, lines, seed, name="app.log"):
    path = os.path.join(_workdir(), name)
    exp = generate(path, lines, seed)
    return path, exp


# --------------------------------------------------------------------------
# a plain serial parser, for the small hand-made files

def serial_reference(path, top):
    exp = Expected()
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    exp.lines = len(lines)
    for raw in lines:
        f = raw.decode("ascii").split()
        if len(f) != 6 or not (f[3].isascii() and f[3].isdigit()) or not (f[5].isascii() and f[5].isdigit()):
            exp.malformed += 1
            continue
        exp.levels[f[1]] += 1
        exp.services[f[2]] += 1
        exp.latencies[int(f[3])] += 1
        exp.paths[f[4]] += 1
        exp.statuses[int(f[5])] += 1
    return exp.result(top)


# --------------------------------------------------------------------------
# calling the student's code

def _student_line(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == MODULE + ".py"]
    if not frames:
        return ""
    return f" (at {MODULE}.py:{frames[-1].lineno} in {frames[-1].name})"


def _worker_line(exc):
    """' in a worker process (at loganalyser.py:LINE in FUNC)' from a pool's remote traceback."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in a worker process (at {MODULE}.py:{line} in {func})"


def _call(ctx, what, fn, timeout):
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised below, in the check's thread
            box["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        ctx.fail(f"{what} did not return within {timeout} s",
                 hint="a worker that never ends, a result never sent, or parsing far slower than "
                      "expected (one task per line?)")
    if "error" in box:
        exc = box["error"]
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower():
            ctx.fail(f"{what} raised {text}{_student_line(exc)}",
                     hint="what goes to a worker process is pickled: the worker function must be "
                          "defined at the top level of loganalyser.py, and its arguments (a path "
                          "and two offsets) must be plain values, not open files")
        remote = _worker_line(exc)
        if remote:
            ctx.fail(f"{what} raised {text}{remote}",
                     hint="the pool re-raises a worker's exception in the parent; the line above "
                          "is where the worker raised it")
        raise exc
    return box.get("value")


def _analyse(ctx, path, workers, label, timeout, pass_workers=True):
    mod = ctx.student(MODULE)
    fn = getattr(mod, "analyse", None)
    ctx.expect(callable(fn), "loganalyser.py defines no function analyse()",
               hint="define analyse(path, workers=None, top=10) at module level")
    if pass_workers:
        what = f"analyse({label}, workers={workers})"
        return what, _call(ctx, what, lambda: fn(path, workers=workers), timeout)
    what = f"analyse({label})"
    return what, _call(ctx, what, lambda: fn(path), timeout)


# --------------------------------------------------------------------------
# comparing results

COUNT_FIELDS = ("lines", "malformed", "levels", "services", "statuses", "top_paths")
LATENCY_FIELDS = ("count", "mean", "p50", "p95", "p99", "max")


def _normalise_top(value):
    try:
        return [tuple(x) for x in value]
    except TypeError:
        return value


def _diff_counter(got, want):
    """' (DEBUG: expected 5983, got 5980; ...)' for the first few keys that differ."""
    if not isinstance(got, dict):
        return f" (got a {type(got).__name__}, expected a dict)"
    keys = sorted(set(got) | set(want), key=repr)
    diffs = []
    for k in keys:
        if got.get(k) != want.get(k):
            if k not in got:
                diffs.append(f"{k!r} missing (expected {want[k]})")
            elif k not in want:
                diffs.append(f"unexpected key {k!r} ({got[k]})")
            else:
                diffs.append(f"{k!r}: expected {want[k]}, got {got[k]}")
    more = f"; {len(diffs) - 3} more" if len(diffs) > 3 else ""
    return " (" + "; ".join(diffs[:3]) + more + ")"


def _check_counts(ctx, what, got, want):
    ctx.expect(isinstance(got, dict), f"{what} returned {type(got).__name__}, expected a dict",
               hint="return a dict with the keys listed in the starter's docstring")
    for field in COUNT_FIELDS:
        ctx.expect(field in got, f"{what}: the result has no key {field!r} "
                                 f"(keys: {sorted(map(str, got))})",
                   hint="return every key listed in the starter's docstring")
    lines, malformed = got["lines"], got["malformed"]
    if lines != want["lines"]:
        extra = lines - want["lines"] if isinstance(lines, int) else None
        why = ""
        if extra is not None and extra > 0:
            why = (f" ({extra:+d}: lines counted twice by two workers, lines cut in two at a range "
                   "edge, or the empty piece after a final newline counted as a line)")
        elif extra is not None:
            why = f" ({extra:+d}: lines that no worker read, or a last line without a newline missed)"
        ctx.fail(f"{what}: lines: expected {want['lines']}, got {lines!r}{why}",
                 hint="every line must be read by exactly one worker: move each cut to the start of "
                      "the next line (seek to cut - 1 and read to the end of that line), so that a "
                      "line belongs to the range in which it starts; a cut that already is at a "
                      "line start must stay there")
    ctx.expect(malformed == want["malformed"],
               f"{what}: malformed: expected {want['malformed']}, got {malformed!r}",
               hint="a line is a record only with exactly 6 whitespace-separated fields (split() "
                    "with no argument: tabs and runs of spaces count as one separator) and digits "
                    "only in latency_ms and status; blank lines are malformed lines; a line cut in "
                    "two at a range boundary shows up here")
    for field in ("levels", "services", "statuses"):
        ctx.expect(got[field] == want[field],
                   f"{what}: {field} differ{_diff_counter(got[field], want[field])}",
                   hint="count only valid records; statuses keyed by int, levels and services by str")
    top = _normalise_top(got["top_paths"])
    ctx.expect(top == want["top_paths"],
               f"{what}: top_paths: expected {want['top_paths'][:4]}..., got {top[:4] if isinstance(top, list) else top!r}...",
               hint="count every path in every range, merge the counts, then sort by count "
                    "(descending) and path (ascending) and keep the first `top`")


def _check_latency(ctx, what, got, want):
    ctx.expect(isinstance(got, dict) and isinstance(got.get("latency_ms"), dict),
               f"{what}: the result has no dict under 'latency_ms'",
               hint="return latency_ms: {count, mean, p50, p95, p99, max}")
    lat, wl = got["latency_ms"], want["latency_ms"]
    for field in LATENCY_FIELDS:
        ctx.expect(field in lat, f"{what}: latency_ms has no key {field!r}",
                   hint="latency_ms holds count, mean, p50, p95, p99 and max")
    ctx.expect(lat["count"] == wl["count"],
               f"{what}: latency_ms count: expected {wl['count']}, got {lat['count']!r}",
               hint="one latency per valid record")
    if wl["mean"] is None:
        ctx.expect(lat["mean"] is None, f"{what}: latency_ms mean: expected None (no records), "
                                        f"got {lat['mean']!r}", hint="no records: mean is None")
    else:
        ok = isinstance(lat["mean"], (int, float)) and abs(lat["mean"] - wl["mean"]) <= 1e-6 * max(1.0, wl["mean"])
        ctx.expect(ok, f"{what}: latency_ms mean: expected {wl['mean']:.6f}, got {lat['mean']!r}",
                   hint="the mean of all latencies is their total divided by their count: add the "
                        "workers' totals and counts, do not average their means")
    wrong = [f"{f}: expected {wl[f]}, got {lat[f]!r}" for f in ("p50", "p95", "p99", "max")
             if lat[f] != wl[f]]
    ctx.expect(not wrong, f"{what}: latency_ms {'; '.join(wrong)}",
               hint="a percentile of the whole file is not a combination of the workers' "
                    "percentiles: let each worker return a histogram {latency: count} (or its "
                    "latencies), add them up, and take the nearest-rank percentile of the total: "
                    "the value at rank ceil(p / 100 * count) in sorted order")


# --------------------------------------------------------------------------
# completion_quality

def counts_exact(ctx):
    """Line, malformed, level, service, status and path counts on a generated log."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    label = f"<{p['lines']}-line log>"
    for workers in p["workers"]:
        what, got = _analyse(ctx, path, workers, label, p["call_timeout"],
                             pass_workers=workers != "omitted")
        _check_counts(ctx, what, got, want)


def latency_exact(ctx):
    """The latency block (count, mean, nearest-rank p50/p95/p99, max) on a generated log."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    label = f"<{p['lines']}-line log with a slow incident in the middle>"
    for workers in p["workers"]:
        what, got = _analyse(ctx, path, workers, label, p["call_timeout"])
        _check_latency(ctx, what, got, want)


def _aligned_log(path, lines):
    """`lines` records of exactly the same length: every cut at size * i // parts, for any parts
    that divides `lines`, falls exactly on a line start."""
    rng = random.Random(lines)
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for i in range(lines):
            fh.write("2024-05-01T00:%02d:%02d.%03dZ %s %s %04d /api/v2/%s/get %s\n" % (
                i // 60000 % 60, i // 1000 % 60, i % 1000, rng.choice(["INFO", "WARN", "DBUG"]),
                rng.choice(["auth", "cart", "user"]), rng.randrange(10000),
                rng.choice(["aaaa", "bbbb", "cccc", "dddd"]), rng.choice(["200", "404", "500"])))


def _edge_files(directory):
    """(label, path, workers, why) of the hand-made files."""
    files = []

    def add(label, text, workers, why):
        path = os.path.join(directory, f"edge-{len(files)}.log")
        with open(path, "w", encoding="ascii", newline="\n") as fh:
            fh.write(text)
        files.append((label, path, workers, why))

    rec = "2024-05-01T00:00:00.000Z INFO auth %d /api/v2/auth/login %d"
    add("<empty file>", "", 2, "an empty file has no lines: every count 0, latency values None")
    add("<one record, no final newline>", rec % (17, 200), 2,
        "a last line without a newline is still a line")
    add("<3 records, 8 workers>", "\n".join(rec % (i, 200) for i in (5, 6, 7)) + "\n", 8,
        "more workers than lines: most ranges are empty")
    add("<blank, malformed and tab-separated lines, no final newline>",
        "\n".join([rec % (10, 200), "", "   ", "garbage", rec.replace(" ", "\t") % (30, 404),
                   rec % (20, 500) + " extra", "x INFO auth - /a 200", rec % (40, 201)]), 3,
        "blank lines are malformed lines; tabs separate fields like spaces")
    big = "2024-05-01T00:00:01.000Z WARN media 250 /api/v2/media/" + "x" * 200000 + " 200"
    add("<a 200 KB line among short ones>",
        "\n".join([rec % (1, 200), big, rec % (2, 200), rec % (3, 304)]) + "\n", 4,
        "a line longer than a whole range: cuts fall inside it")
    path = os.path.join(directory, "aligned.log")
    _aligned_log(path, 5040)
    for w in (2, 3, 4):
        files.append((f"<5040 lines of equal length, cuts on line starts>", path, w,
                      "a cut that falls exactly on a line start must not move to the next line"))
    return files


def chunk_edges(ctx):
    """Hand-made files whose shapes break naive byte-range splitting."""
    directory = _workdir()
    for label, path, workers, why in _edge_files(directory):
        want = serial_reference(path, 10)
        what, got = _analyse(ctx, path, workers, label, ctx.params["call_timeout"])
        try:
            _check_counts(ctx, what, got, want)
            _check_latency(ctx, what, got, want)
        except Exception as exc:
            if type(exc).__name__ == "CheckFailed":
                exc.message += f" [{why}]"
            raise


# --------------------------------------------------------------------------
# problem_solving

_HELPER_WORDS = ("resource_tracker", "forkserver")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children_of(pid):
    """{pid: (state, cmdline, cutime + cstime)} of the direct children of `pid`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
            if int(rest[1]) != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            found[int(entry)] = (rest[0], cmd, (int(rest[13]) + int(rest[14])) / _TICK)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _workers_left():
    """{pid: state} of this process's children (zombies too), multiprocessing's helpers excepted."""
    return {pid: st for pid, (st, cmd, _) in _children_of(os.getpid()).items()
            if not any(w in cmd for w in _HELPER_WORDS)}


def no_process_left(ctx):
    """Right after each call, no worker process is left: none running, none unjoined."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    before = _workers_left()
    ctx.expect(not before, f"child processes exist before the first call: {sorted(before)} "
                           "(importing loganalyser.py must not start processes)",
               hint="start the workers inside analyse(), never at import")
    for workers in p["workers"]:
        what, got = _analyse(ctx, path, workers, f"<{p['lines']}-line log>", p["call_timeout"])
        _check_counts(ctx, what, got, want)
        left = _workers_left()
        if left:
            deadline = time.monotonic() + p["settle_s"]
            while time.monotonic() < deadline and any(s not in "ZX" for s in left.values()):
                time.sleep(0.02)
                left = _workers_left()
            desc = ", ".join(f"pid {pid} ({'finished, never joined: a zombie' if s in 'ZX' else 'still running'})"
                             for pid, s in sorted(left.items()))
            ctx.fail(f"after {what} returned, {len(left)} worker process(es) were left: {desc}",
                     hint="use the pool in a with-block (ProcessPoolExecutor or multiprocessing.Pool), "
                          "or close() and join() it, every call; join() every Process you start; "
                          "do not keep a pool in a global between calls")


def _helpers_children_cpu():
    return {pid: row[2] for pid, row in _children_of(os.getpid()).items()
            if any(w in row[1] for w in _HELPER_WORDS)}


def work_in_processes(ctx):
    """The work runs in worker processes: their CPU time (os.times) outweighs the parent's."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    h0, t0 = _helpers_children_cpu(), os.times()
    what, got = _analyse(ctx, path, p["workers"], f"<{p['lines']}-line log>", p["call_timeout"])
    t1, h1 = os.times(), _helpers_children_cpu()
    _check_counts(ctx, what, got, want)
    children = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    children += sum(max(0.0, cpu - h0.get(pid, 0.0)) for pid, cpu in h1.items())
    parent = (t1.user - t0.user) + (t1.system - t0.system)
    total = children + parent
    share = children / total if total > 0 else 0.0
    need = p["min_children_share"]
    ctx.expect(children >= p["min_children_cpu_s"] and share >= need,
               f"{what}: worker processes used {children:.2f} s of CPU, this process {parent:.2f} s "
               f"(children's share {share:.0%}, at least {need:.0%} expected): "
               + ("the parsing did not run in worker processes" if share < 0.05 else
                  "most of the work was done in this process, not in the workers"),
               hint="threads cannot parse in parallel (the GIL): give each worker process a byte "
                    "range and let it read, parse and count it there; the parent should only add "
                    "up the workers' small partial counts, not read lines or count records")


def _status_kb(field):
    with open("/proc/self/status") as fh:
        m = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M)
    return int(m.group(1)) if m else None


def parent_memory(ctx):
    """The parent does not hold the log: its peak resident memory grows far less than the file size.

    The peak (VmHWM) is reset just before the call (/proc/self/clear_refs), so the
    number is the call's own peak, whatever ran before. Worker processes are not
    counted: each holds its own range.
    """
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    size_kb = os.path.getsize(path) // 1024
    ctx.student(MODULE)  # imported before the measurement
    rss0 = _status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError as exc:
        raise RuntimeError(f"grader: cannot reset the peak RSS: {exc}")
    what, got = _analyse(ctx, path, p["workers"], f"<{p['lines']}-line log, {size_kb / 1024:.1f} MB>",
                         p["call_timeout"])
    peak = _status_kb("VmHWM")
    _check_counts(ctx, what, got, want)
    grew = max(0, peak - rss0)
    limit = int(size_kb * p["max_growth_of_file"])
    ctx.expect(grew <= limit,
               f"{what}: this process's resident memory grew by {grew / 1024:.1f} MB at its peak, "
               f"for a {size_kb / 1024:.1f} MB log (at most {limit / 1024:.1f} MB expected): the "
               "parent holds the log, or its lines, in memory",
               hint="do not read the file in the parent: send each worker (path, start, end), let "
                    "it read its own byte range, and send back only its partial counts")


# --------------------------------------------------------------------------
# performance (throughput)

def bench_analyse(ctx):
    """The timed workload: analyse(path) with the default workers on a generated log."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    mod = ctx.student(MODULE)
    label = f"<{p['lines']}-line log>"
    what, got = _analyse(ctx, path, None, label, p["call_timeout"], pass_workers=False)
    _check_counts(ctx, what, got, want)
    fn = mod.analyse

    def run():
        got = fn(path)
        if not isinstance(got, dict) or got.get("lines") != want["lines"] \
                or got.get("levels") != want["levels"]:
            ctx.fail(f"analyse({label}) returned wrong counts",
                     hint="a fast wrong answer earns no performance points")

    return run
