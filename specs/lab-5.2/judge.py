"""Judgements for lab-5.2 (the workloads are in checks.py). Runs outside the submission's process: the
contents are planned here (a seed per batch; lab52_content.py builds the same files on both sides) and
every verdict comes from what the workload recorded: fingerprints of what the student's code returned
and of what it left on disk (lab52_content.fingerprint), the open-file counts, the chunk sizes, the
times, and the asyncio findings a workload deferred."""
import lab52_content as content

HINT_AWAIT = "await every aiofiles call (await f.write(data)) and close the file (async with) before returning"
HINT_GATHER = ("gather the per-file coroutines with asyncio.gather(..., return_exceptions=True) (or catch the "
               "exception per file) so that one failure becomes that file's value and the others still run")
HINT_LIMIT = ("share one asyncio.Semaphore(limit) and hold it around the whole open-read/write-close of each "
              "file (async with sem: async with aiofiles.open(...))")
HINT_NEWLINE = 'open text files with encoding="utf-8" and newline="" so that no line ending is translated'


# ---------------------------------------------------------------------------------------------
# helpers


def _seed(j):
    return j.rng.getrandbits(48)


def _same(fp, want):
    """fp (a recorded description) is exactly `want`: same type, length and content."""
    return (isinstance(fp, dict) and fp.get("type") == type(want).__name__ and fp.get("len") == len(want)
            and fp.get("sha") == content.digest(want))


def _diff(fp, want):
    """Describes how the recorded content differs from `want` (bytes or str), without printing megabytes."""
    if fp is None:
        return "nothing (there is no such file)"
    if fp.get("type") != type(want).__name__:
        return "a %s instead of %s" % (fp.get("type"), type(want).__name__)
    if _same(fp, want):
        return "the same content"
    unit = "bytes" if isinstance(want, (bytes, bytearray)) else "characters"
    n = fp["len"]
    if n != len(want):
        short = n < len(want) and content.digest(want[:n]) == fp["sha"]
        return "%d %s instead of %d%s" % (n, unit, len(want), " (truncated)" if short else "")
    got = content.data_of(fp)
    if got is not None:
        i = 0
        step = 65536
        while step:                # the first differing block, then narrower
            while got[i:i + step] == want[i:i + step]:
                i += step
            step //= 16
        return "same length, first difference at offset %d: %r instead of %r" % (i, got[i:i + 8], want[i:i + 8])
    size = content.BLOCK
    for b, (h, head) in enumerate(fp["blocks"]):
        part = want[b * size:(b + 1) * size]
        if content.block_hash(part) == h:
            continue
        seen = content.head_value(head, isinstance(want, str))
        for k in range(min(len(seen), len(part))):
            if seen[k] != part[k]:
                at = b * size + k
                return "same length, first difference at offset %d: %r instead of %r" % (
                    at, seen[k:k + 8], want[at:at + 8])
        return "same length, first difference between offsets %d and %d" % (b * size + len(seen),
                                                                           b * size + len(part) - 1)
    return "same length, different content"


def _is_exc(desc):
    return isinstance(desc, dict) and bool(desc.get("exc"))


def _raised(desc, kind):
    """The recorded value is an exception of class `kind` (a builtin), or of a subclass of it."""
    return _is_exc(desc) and "builtins.%s" % kind in desc.get("mro", [])


def _shown(desc):
    """The value as the old messages showed it: an exception's text, else its repr."""
    return desc["error"] if _is_exc(desc) else desc.get("repr", "")


def _came_back(desc, want):
    return desc["error"] if _is_exc(desc) else _diff(desc, want)


def _number(desc):
    """The number the student's code returned (None for anything else)."""
    return desc.get("value") if isinstance(desc, dict) and not desc.get("exc") else None


def _returned(desc, n):
    v = _number(desc)
    return v is not None and v == n


def _items(res):
    """A recorded read_files() / write_files() result as {relative path: description}, None when it was
    not a dict."""
    if not isinstance(res, dict) or res.get("type") != "dict" or "items" not in res:
        return None
    return {k: v for k, v in res["items"]}


def _keys(res, want):
    items = _items(res)
    if items is None:
        return "a %s" % res.get("type")
    return "%d keys, %d of them not among the paths given, %d paths missing" % (
        len(items), len(set(items) - set(want)), len(set(want) - set(items)))


def _one_key_per_path(j, res, want, message):
    """The result's items when it has one key per path of `want`; else fails with `message` % _keys."""
    items = _items(res)
    j.expect(items is not None and set(items) == set(want), message % _keys(res, want))
    return items


def _expect_contents(j, got, want, what):
    """got: a recorded read_files() result; want: name -> content."""
    items = _one_key_per_path(j, got, want, "%s should return a dict with one key per path; got %%s" % what)
    for name, data in want.items():
        j.expect(_same(items[name], data), "%s: %s came back as %s" % (what, name, _came_back(items[name], data)))


def _deferred(j, key):
    """Fails with the asyncio finding the workload deferred (recorded under `key`), if any."""
    failure = j.obs[key]
    if failure:
        j.fail(failure[0], failure[1])


# ---------------------------------------------------------------------------------------------
# completion_quality


def plan_exact(j):
    return {"single": _seed(j), "many": _seed(j)}


def exact(j):
    _roundtrip(j, j.params["single"], j.inputs["single"])
    _many_files(j, j.params["many"], j.inputs["many"])


def _roundtrip(j, p, seed):
    cases, old, new = content.roundtrip(seed, p["big_mb"])
    note, rec = j.obs["single.note"], j.obs["single.cases"]
    for name, data in cases:
        wrote, stored, got = rec[name]["write"], rec[name]["disk"], rec[name]["read"]
        what = "%s (%d %s)" % (name, len(data), "characters" if isinstance(data, str) else "bytes")
        j.expect(not wrote["raised"], "write_file(%s) raised %s" % (what, _shown(wrote["value"])))
        j.expect(_returned(wrote["value"], len(data)), "write_file(%s) returned %s, not len(data) = %d"
                 % (what, _shown(wrote["value"]), len(data)))
        want = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        j.expect(_same(stored, want), "after write_file(%s) returned, the file holds %s%s"
                 % (what, _diff(stored, want), note),
                 hint=HINT_NEWLINE if isinstance(data, str) else HINT_AWAIT)
        j.expect(not got["raised"], "read_file(%s) raised %s" % (what, _shown(got["value"])))
        want_back = data if isinstance(data, str) else bytes(data)
        j.expect(_same(got["value"], want_back), "read_file(%s%s) returned %s"
                 % (what, ", binary=False" if isinstance(data, str) else "", _diff(got["value"], want_back)),
                 hint=HINT_NEWLINE if isinstance(data, str) else
                 "open with 'rb' and return await f.read(): the whole file, as bytes")
    over = j.obs["single.overwrite"]
    j.expect(not over["write"]["raised"] and _returned(over["write"]["value"], len(new)) and _same(over["disk"], new),
             "write_file() of 10 bytes over an existing %d-byte file left %d bytes: it must truncate "
             "the old content" % (len(old), over["size"] or 0), hint="open with 'wb' (or 'w'), not 'r+b' or 'ab'")
    for key, call in (("single.missing_read", "read_file() of a missing file"),
                      ("single.missing_dir", "write_file() into a missing directory")):
        o = j.obs[key]
        j.expect(o["raised"] and _raised(o["value"], "FileNotFoundError"),
                 "%s should raise FileNotFoundError; it %s"
                 % (call, "raised " + _shown(o["value"]) if o["raised"] else "returned %s" % o["value"].get("repr")))
    _deferred(j, "single.async")


def _many_files(j, p, seed):
    files = content.mixed_files(seed, p["files"], p["big_every"], p["big_kb"])
    binary = {k: v for k, v in files.items() if not isinstance(v, str)}
    text = {k: v for k, v in files.items() if isinstance(v, str)}
    _deferred(j, "many.async")
    w = _one_key_per_path(j, j.obs["many.write"], files, "write_files() of %d files should return a dict with "
                          "one key per path; got %%s" % len(files))
    bad = [k for k, v in files.items() if not _returned(w[k], len(v))]
    j.expect(not bad, "write_files(): %d file(s) got a value other than len(data), first %s -> %s"
             % (len(bad), bad[0] if bad else "", _shown(w[bad[0]]) if bad else ""))
    disk = j.obs["many.disk"]
    for name, data in files.items():
        want = data.encode("utf-8") if isinstance(data, str) else data
        j.expect(_same(disk[name], want), "after write_files() returned, %s holds %s" % (name, _diff(disk[name], want)),
                 hint=HINT_AWAIT)
    for key, want, how in (("many.read_binary", binary, "read_files(paths)"),
                           ("many.read_text", text, "read_files(paths, binary=False)")):
        got = _one_key_per_path(j, j.obs[key], want, "%s of %d files should return a dict with one key per path; "
                                "got %%s" % (how, len(want)))
        for name, data in want.items():
            j.expect(_same(got[name], data), "%s: %s came back as %s" % (how, name, _came_back(got[name], data)),
                     hint=HINT_NEWLINE if isinstance(data, str) else None)


BAD_READ = {"missing-1.bin": "FileNotFoundError", "a-directory": "IsADirectoryError",
            "missing-2.bin": "FileNotFoundError"}
BAD_WRITE = {"no-such-dir/x.bin": "FileNotFoundError", "a-directory": "IsADirectoryError"}


def plan_per_file_errors(j):
    return {"seed": _seed(j)}


def per_file_errors(j):
    readable, _, writable = content.errors(j.inputs["seed"], j.params["good"])
    paths = list(BAD_READ) + list(readable)
    wfiles = list(BAD_WRITE) + list(writable)
    read, write = j.obs["read"], j.obs["write"]
    j.expect(not read["raised"], "read_files() of %d files, %d of them missing or a directory, raised %s instead "
             "of returning the error as those files' values: one failing file stopped them all"
             % (len(paths), len(BAD_READ), _shown(read["value"]) if read["raised"] else ""), hint=HINT_GATHER)
    r = _one_key_per_path(j, read["value"], paths, "read_files() of %d paths should return one key per path; got %%s"
                          % len(paths))
    for name, kind in BAD_READ.items():
        j.expect(_raised(r[name], kind), "read_files(): the value for %s should be the %s raised opening it; got %s"
                 % (name, kind, _shown(r[name]) if _is_exc(r[name]) else r[name].get("repr", "")[:80]))
    for name, data in readable.items():
        j.expect(_same(r[name], data), "read_files(): %s, a good file beside failing ones, came back as %s"
                 % (name, _came_back(r[name], data)), hint=HINT_GATHER)
    j.expect(not write["raised"], "write_files() of %d files, %d of them unwritable, raised %s instead of returning "
             "the error as those files' values" % (len(wfiles), len(BAD_WRITE),
                                                   _shown(write["value"]) if write["raised"] else ""), hint=HINT_GATHER)
    w = _one_key_per_path(j, write["value"], wfiles, "write_files() of %d paths should return one key per path; "
                          "got %%s" % len(wfiles))
    for name, kind in BAD_WRITE.items():
        j.expect(_raised(w[name], kind), "write_files(): the value for %s should be the %s raised opening it; got %s"
                 % (name, kind, w[name].get("repr")))
    disk = j.obs["disk"]
    for name, data in writable.items():
        j.expect(_returned(w[name], len(data)) and _same(disk[name], data),
                 "write_files(): %s, a good file beside failing ones, was not written whole (value %s)"
                 % (name, w[name].get("repr")), hint=HINT_GATHER)
    _deferred(j, "async")


def open_limit(j):
    p = j.params
    n = p["files"]
    names = ["f%03d.bin" % i for i in range(n)]
    calls = j.obs["calls"]
    for what, limit in (("write", p["limit"]), ("read", p["limit"]), ("read-one", 1)):
        c = calls[what]
        most, opens, items = c["max"], c["opens"], _items(c["result"])
        call = "%s_files(%d files, limit=%d)" % (what.split("-")[0], n, limit)
        failed = [v for v in (items or {}).values() if _is_exc(v)]
        j.expect(items is not None and len(items) == n and not failed,
                 "%s failed for some files: %s" % (call, failed[0]["error"] if failed else
                                                   "%d results" % len(items) if items is not None
                                                   else c["result"].get("repr", "")[:80]))
        j.expect(set(items) == set(names), call + " should return one key per path; got %s" % _keys(c["result"], names))
        j.expect(opens >= n, "%s opened only %d files" % (call, opens))
        j.expect(most <= limit, "%s had %d files open at the same moment: the limit is %d"
                 % (call, most, limit), hint=HINT_LIMIT)
        if limit > 1:
            j.expect(most >= 2, "%s never had two files open at once: the files were handled one after "
                     "another, not concurrently" % call,
                     hint="start a task per file (asyncio.gather) and let the semaphore bound them")


def plan_iter_chunks(j):
    return {"seed": _seed(j)}


def iter_chunks(j):
    p = j.params
    cases, head, stream = content.chunk_cases(j.inputs["seed"], p["big_mb"], p["stream_chunk"])
    chunks = j.obs["chunks"]
    for name, data, size in cases:
        c = chunks[name]
        wrong = [t for t, _ in c["types"] if t != "bytes"]
        j.expect(not wrong, "iter_chunks(%s) yielded %s, not bytes" % (name, wrong[0] if wrong else ""))
        big = [n for n, _ in c["lens"] if n > size or n < 1]
        j.expect(not big, "iter_chunks(%s, chunk_size=%d) yielded a chunk of %d bytes: each must hold "
                 "1 to chunk_size bytes" % (name, size, big[0] if big else 0))
        j.expect(sum(n * count for n, count in c["lens"]) == len(data) and _same(c["joined"], data),
                 "iter_chunks(%s, chunk_size=%d): the chunks add up to %s" % (name, size, _diff(c["joined"], data)))
    joined = chunks["stream"]["joined"]
    j.expect(_same(joined, stream), "iter_chunks() of a slow file: the chunks add up to %s"
             % (_diff(joined, stream) if joined is not None else "no bytes"))
    j.expect(j.obs["released_by_timeout"] is False,
             "iter_chunks() of a slow file yielded nothing until the whole file had arrived (the file sent "
             "%d bytes, then waited %.1f s for a first chunk of %d): it must yield each chunk as soon as it "
             "is read, not read the whole file first" % (head, p["stream_wait"], p["stream_chunk"]),
             hint="loop: chunk = await f.read(chunk_size); if not chunk: break; yield chunk")
    zero = j.obs["zero"]
    j.expect(zero == "ValueError", "iter_chunks(path, chunk_size=0) should raise ValueError; got %s" % zero)


# ---------------------------------------------------------------------------------------------
# problem_solving


def plan_slow_files(j):
    return {"seed": _seed(j)}


def slow_files(j):
    p = j.params
    data = content.slow(j.inputs["seed"], p["big_mb"], p["small"], p["reads"], p["writes"])
    big, slow_data, write_data = data["big"], data["slow_data"], data["write_data"]
    back = j.obs["big_back"]
    j.expect(_same(back, big), "the big file (%d MiB) read back as %s" % (p["big_mb"], _diff(back, big)))
    got = j.obs["slow_read"]
    j.expect(_same(got, slow_data[0]), "read_file() of a slow file returned %s" % _diff(got, slow_data[0]))
    received = j.obs["slow_received"] or content.fingerprint(b"")
    j.expect(_same(received, write_data), "write_file() to a slow file delivered %s" % _diff(received, write_data))
    want = dict(data["small"])
    want["many.fifo"] = slow_data[1]
    _expect_contents(j, j.obs["mixed_read"], want, "read_files() of a slow file and %d small ones" % len(data["small"]))
    chunks = j.obs["slow_chunks"]
    j.expect(_same(chunks, slow_data[2]), "iter_chunks() of a slow file added up to %s" % _diff(chunks, slow_data[2]))
    rdata, wdata = data["rdata"], data["wdata"]
    _expect_contents(j, j.obs["read"], rdata, "read_files() of %d slow files" % len(rdata))
    w, delivered = _items(j.obs["write"]), j.obs["received"]
    j.expect(w is not None and all(k in w and _returned(w[k], len(v)) and _same(delivered[k], v)
                                   for k, v in wdata.items()),
             "write_files() to %d slow files did not deliver every content exactly" % len(wdata))
    took = j.obs["took"]
    tdelay, limit = p["timed_delay"], p["limit"]
    for what, n in (("read", len(rdata)), ("write", len(wdata))):
        serial = n * tdelay
        t = took[what]
        j.expect(isinstance(t, (int, float)) and not isinstance(t, bool), "`took.%s` should be a number" % what)
        j.expect(t < p["max_fraction"] * serial,
                 "%s_files() of %d slow files (each answers after %.2f s), limit=%d, took %.2f s; one after "
                 "another takes %.2f s, %d at a time about %.2f s: the files were not handled concurrently"
                 % (what, n, tdelay, limit, t, serial, limit, -(-n // limit) * tdelay),
                 hint="start a coroutine per file and gather them; bound them with a Semaphore(limit)")
