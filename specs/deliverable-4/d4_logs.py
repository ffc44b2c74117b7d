"""The generated logs of deliverable-4 and how a result is compared with them: shared by the workloads
(checks.py, which write the logs into the run's directory) and the judgements (judge.py, which compute what
the analyser must find from the same generator, without the file). Standard library only.

The expected aggregates of a generated log come from the generator's own columns, not from parsing the
file, so they are independent of any parser; the small hand-made files of `chunk-edges` are judged against
a plain serial parser written here.
"""
import random
from collections import Counter

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
        self.size = 0
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
                latency[f"p{p}"] = nearest_rank(self.latencies, count, p)
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


def nearest_rank(histogram, count, pct):
    rank = (pct * count + 99) // 100
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("empty histogram")


class _Sink:
    """A file that keeps nothing (generate() without a path)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, text):
        pass


def generate(path, lines, seed, incident=(0.55, 0.8)):
    """Writes a log of `lines` lines to `path` (nothing when it is None: the judge wants only the
    aggregates, which come from the generator's columns, never from the file); returns its Expected
    aggregates, with the file's size in bytes.

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
    with (open(path, "w", encoding="ascii", newline="\n") if path else _Sink()) as fh:
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
            text = "\n".join(rows)
            exp.size += len(text) + 1
            fh.write(text)
            fh.write("\n")
    exp.lines = lines
    for counter in (exp.levels, exp.services, exp.paths, statuses, latencies):
        for key in [key for key, n in counter.items() if n <= 0]:
            del counter[key]
    exp.statuses = Counter({int(k): n for k, n in statuses.items()})
    exp.latencies = Counter({int(k): n for k, n in latencies.items()})
    return exp


# --------------------------------------------------------------------------
# a plain serial parser, for the small hand-made files

def serial_reference(data, top):
    """The aggregates of a log given as bytes."""
    exp = Expected()
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
# the hand-made files of chunk-edges

def aligned_text(lines):
    """`lines` records of exactly the same length: every cut at size * i // parts, for any parts
    that divides `lines`, falls exactly on a line start."""
    rng = random.Random(lines)
    return "".join("2024-05-01T00:%02d:%02d.%03dZ %s %s %04d /api/v2/%s/get %s\n" % (
        i // 60000 % 60, i // 1000 % 60, i % 1000, rng.choice(["INFO", "WARN", "DBUG"]),
        rng.choice(["auth", "cart", "user"]), rng.randrange(10000),
        rng.choice(["aaaa", "bbbb", "cccc", "dddd"]), rng.choice(["200", "404", "500"])) for i in range(lines))


def edge_cases():
    """(label, file name, text, workers, why) of the hand-made files, in the order they are analysed."""
    cases = []

    def add(label, text, workers, why):
        cases.append((label, "edge-%d.log" % len(cases), text, workers, why))

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
    aligned = aligned_text(5040)
    for w in (2, 3, 4):
        cases.append(("<5040 lines of equal length, cuts on line starts>", "aligned.log", aligned, w,
                      "a cut that falls exactly on a line start must not move to the next line"))
    return cases


# --------------------------------------------------------------------------
# comparing results

COUNT_FIELDS = ("lines", "malformed", "levels", "services", "statuses", "top_paths")
LATENCY_FIELDS = ("count", "mean", "p50", "p95", "p99", "max")


def normalise_top(value):
    try:
        return [tuple(x) for x in value]
    except TypeError:
        return value


def diff_counter(got, want):
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


def check_counts(t, what, got, want):
    """Fails `t` (a check's ctx or a judgement's j) unless the counts of `got` are those of `want`."""
    t.expect(isinstance(got, dict), f"{what} returned {type(got).__name__}, expected a dict",
               hint="return a dict with the keys listed in the starter's docstring")
    for field in COUNT_FIELDS:
        t.expect(field in got, f"{what}: the result has no key {field!r} "
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
        t.fail(f"{what}: lines: expected {want['lines']}, got {lines!r}{why}",
                 hint="every line must be read by exactly one worker: move each cut to the start of "
                      "the next line (seek to cut - 1 and read to the end of that line), so that a "
                      "line belongs to the range in which it starts; a cut that already is at a "
                      "line start must stay there")
    t.expect(malformed == want["malformed"],
               f"{what}: malformed: expected {want['malformed']}, got {malformed!r}",
               hint="a line is a record only with exactly 6 whitespace-separated fields (split() "
                    "with no argument: tabs and runs of spaces count as one separator) and digits "
                    "only in latency_ms and status; blank lines are malformed lines; a line cut in "
                    "two at a range boundary shows up here")
    for field in ("levels", "services", "statuses"):
        t.expect(got[field] == want[field],
                   f"{what}: {field} differ{diff_counter(got[field], want[field])}",
                   hint="count only valid records; statuses keyed by int, levels and services by str")
    top = normalise_top(got["top_paths"])
    t.expect(top == want["top_paths"],
               f"{what}: top_paths: expected {want['top_paths'][:4]}..., got {top[:4] if isinstance(top, list) else top!r}...",
               hint="count every path in every range, merge the counts, then sort by count "
                    "(descending) and path (ascending) and keep the first `top`")


def check_latency(t, what, got, want):
    """Fails `t` unless the latency block of `got` is that of `want`."""
    t.expect(isinstance(got, dict) and isinstance(got.get("latency_ms"), dict),
               f"{what}: the result has no dict under 'latency_ms'",
               hint="return latency_ms: {count, mean, p50, p95, p99, max}")
    lat, wl = got["latency_ms"], want["latency_ms"]
    for field in LATENCY_FIELDS:
        t.expect(field in lat, f"{what}: latency_ms has no key {field!r}",
                   hint="latency_ms holds count, mean, p50, p95, p99 and max")
    t.expect(lat["count"] == wl["count"],
               f"{what}: latency_ms count: expected {wl['count']}, got {lat['count']!r}",
               hint="one latency per valid record")
    if wl["mean"] is None:
        t.expect(lat["mean"] is None, f"{what}: latency_ms mean: expected None (no records), "
                                        f"got {lat['mean']!r}", hint="no records: mean is None")
    else:
        ok = isinstance(lat["mean"], (int, float)) and abs(lat["mean"] - wl["mean"]) <= 1e-6 * max(1.0, wl["mean"])
        t.expect(ok, f"{what}: latency_ms mean: expected {wl['mean']:.6f}, got {lat['mean']!r}",
                   hint="the mean of all latencies is their total divided by their count: add the "
                        "workers' totals and counts, do not average their means")
    wrong = [f"{f}: expected {wl[f]}, got {lat[f]!r}" for f in ("p50", "p95", "p99", "max")
             if lat[f] != wl[f]]
    t.expect(not wrong, f"{what}: latency_ms {'; '.join(wrong)}",
               hint="a percentile of the whole file is not a combination of the workers' "
                    "percentiles: let each worker return a histogram {latency: count} (or its "
                    "latencies), add them up, and take the nearest-rank percentile of the total: "
                    "the value at rank ceil(p / 100 * count) in sorted order")
