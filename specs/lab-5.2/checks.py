"""Checks for lab-5.2: asynchronous file I/O (aiofiles).

The student's API is the docstring of starter/lab-5.2/async_files.py: write_file, read_file,
write_files, read_files (per-file errors, at most `limit` files open at once) and the async
generator iter_chunks.

Every entry point runs under ctx.run_async, so a blocking step on the loop, a coroutine never
awaited, an exception nobody retrieved or a task left pending fails the item with the student's line.
Files live in a directory the check makes inside the run's working directory. Content is generated
from the run's seed; what is on disk is verified with plain reads after the loop has stopped.

Slow files are named pipes (FIFOs) served by the check's threads: a pipe the student reads is
answered `delay` seconds after the student opens it; a pipe the student writes is drained only
`delay` seconds after it was opened, so writing more than a pipe holds (64 KiB) waits that long.
A plain open().read() or write() in a coroutine therefore holds the loop for the whole delay,
whatever the machine's speed: the blocking oracle sees it every time.

Files open at once are counted with an audit hook on "open" (raised by every open(), in whichever
thread aiofiles uses): at each open the check counts the descriptors of this process that point into
the item's directory (/proc/self/fd), so the maximum is exact, not sampled.

Standard library only.
"""
import asyncio
import concurrent.futures
import os
import shutil
import sys
import tempfile
import threading
import time

HINT_BLOCK = ("use `async with aiofiles.open(...) as f:` and `await f.read()` / `await f.write()`; never a "
              "plain open(), read() or write() inside a coroutine (or wrap the whole blocking function in "
              "asyncio.to_thread)")
HINT_AWAIT = "await every aiofiles call (await f.write(data)) and close the file (async with) before returning"
HINT_GATHER = ("gather the per-file coroutines with asyncio.gather(..., return_exceptions=True) (or catch the "
               "exception per file) so that one failure becomes that file's value and the others still run")
HINT_LIMIT = ("share one asyncio.Semaphore(limit) and hold it around the whole open-read/write-close of each "
              "file (async with sem: async with aiofiles.open(...))")
HINT_NEWLINE = 'open text files with encoding="utf-8" and newline="" so that no line ending is translated'
PIPE_BUF = 65536          # what a Linux pipe holds before a writer blocks


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    af = ctx.student("async_files")
    for name in ("write_file", "read_file", "write_files", "read_files", "iter_chunks"):
        ctx.expect(hasattr(af, name), "async_files.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return af


class _Dir:
    """A fresh directory inside the run's working directory, removed afterwards."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix, dir=os.getcwd())

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def _blob(rng, n):
    """n seeded bytes, cheap for large n: 64 KiB blocks that differ in their first 4 bytes (so a chunk
    written twice, skipped or out of place shows)."""
    if n <= 65536:
        return rng.randbytes(n)
    block = rng.randbytes(65536)
    parts = [i.to_bytes(4, "big") + block[4:] for i in range(n // 65536 + 1)]
    return b"".join(parts)[:n]


_WORDS = ["alpha", "beta", "caf\u00e9", "stra\u00dfe", "\u4e2d\u6587", "\U0001F642", "tab\there", "x", ""]


def _text(rng, lines):
    """Text with mixed line endings (\\n, \\r\\n, a lone \\r) and non-ASCII characters."""
    out = []
    for _ in range(lines):
        out.append(" ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 8))))
        out.append(rng.choice(["\n", "\r\n", "\n", "\r\n", "\r"]))
    return "".join(out)


def _on_disk(path):
    with open(path, "rb") as fh:
        return fh.read()


def _diff(got, want):
    """Describes how `got` differs from `want` (bytes or str), without printing megabytes."""
    if type(got) is not type(want):
        return "a %s instead of %s" % (type(got).__name__, type(want).__name__)
    if got == want:
        return "the same content"
    unit = "bytes" if isinstance(want, (bytes, bytearray)) else "characters"
    if len(got) != len(want):
        short = len(got) < len(want) and want[:len(got)] == got
        return "%d %s instead of %d%s" % (len(got), unit, len(want), " (truncated)" if short else "")
    i = 0
    step = 65536
    while step:                # the first differing block, then narrower
        while got[i:i + step] == want[i:i + step]:
            i += step
        step //= 16
    return "same length, first difference at offset %d: %r instead of %r" % (i, got[i:i + 8], want[i:i + 8])


def _same(got, want):
    return type(got) is type(want) and got == want


class _Pipes:
    """Named pipes standing in for slow files (see the module docstring)."""

    def __init__(self, directory):
        self.dir = directory
        self.threads = []
        self.closing = False
        self.received = {}     # pipe the student wrote -> the bytes the check read from it

    def to_read(self, name, data, delay, gate=None):
        """A pipe the student reads: `data` is written `delay` s after the student opens it. With a
        `gate` (threading.Event), only the first `gate[1]` bytes come first; the rest once the gate is
        set (or after gate[2] s)."""
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        self._start(self._serve, path, data, delay, gate)
        return path

    def to_write(self, name, delay):
        """A pipe the student writes: the check opens it, waits `delay` s, then drains it to EOF."""
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        self.received[path] = None
        self._start(self._drain, path, delay)
        return path

    def _start(self, fn, *args):
        t = threading.Thread(target=fn, args=args, name="slow-file", daemon=True)
        t.start()
        self.threads.append((t, args[0]))

    def _serve(self, path, data, delay, gate):
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError:
            return
        try:
            if self.closing:
                return
            time.sleep(delay)
            view = memoryview(data)
            if gate is not None:
                event, first, wait = gate
                self._write_all(fd, view[:first])
                event.released_by_timeout = not event.wait(wait)
                view = view[first:]
            self._write_all(fd, view)
        except OSError:        # the reader went away (BrokenPipeError)
            pass
        finally:
            os.close(fd)

    @staticmethod
    def _write_all(fd, view):
        while len(view):
            view = view[os.write(fd, view):]

    def _drain(self, path, delay):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        chunks = []
        try:
            if self.closing:
                return
            time.sleep(delay)
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
        finally:
            os.close(fd)
        self.received[path] = b"".join(chunks)

    def close(self):
        """Releases the threads whose pipe the student never opened (they then skip their delay), and
        waits for every thread."""
        self.closing = True
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            alive = [(t, path) for t, path in self.threads if t.is_alive()]
            if not alive:
                return
            for _, path in alive:
                for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
                    try:
                        os.close(os.open(path, flags))
                    except OSError:
                        pass
            alive[0][0].join(0.01)


class _OpenCounter:
    """The most files under `root` open at the same moment, from an audit hook on "open"."""

    _installed = None

    def __init__(self, root):
        self.root = os.path.realpath(root) + os.sep
        self.max = 0
        self.opens = 0
        self.active = False
        self._lock = threading.Lock()
        if _OpenCounter._installed is None:
            sys.addaudithook(_OpenCounter._hook)
        _OpenCounter._installed = self

    @staticmethod
    def _hook(event, args):
        self = _OpenCounter._installed
        if event != "open" or self is None or not self.active:
            return
        path = args[0]
        if isinstance(path, int) or path is None:
            return
        try:
            path = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if not (path + os.sep).startswith(self.root) and not path.startswith(self.root):
            return
        n = self.count() + 1      # the files open right now, and this one
        with self._lock:
            self.opens += 1
            self.max = max(self.max, n)

    def count(self):
        n = 0
        try:
            fds = os.listdir("/proc/self/fd")
        except OSError:
            return 0
        for fd in fds:
            try:
                if os.readlink("/proc/self/fd/" + fd).startswith(self.root):
                    n += 1
            except OSError:
                pass
        return n

    def reset(self):
        with self._lock:
            self.max = 0
            self.opens = 0


def _expect_contents(ctx, got, want, what):
    """got: a read_files() result; want: path -> content."""
    ctx.expect(isinstance(got, dict) and set(got) == set(want),
               "%s should return a dict with one key per path; got %s" % (what, _keys(got, want)))
    for path, data in want.items():
        v = got[path]
        ctx.expect(_same(v, data), "%s: %s came back as %s" % (
            what, os.path.basename(path), _exc_text(v) if isinstance(v, BaseException) else _diff(v, data)))


def _run(ctx, main, p=None, defer=()):
    """ctx.run_async with the item's timeout and slow_ms. Debug mode (which records where each coroutine,
    task and callback was made, so a never-awaited coroutine is named by its line) costs ~0.5 ms per
    task here: only the items that need it (params debug: true) run with it. Findings of the kinds in
    `defer` do not fail the run at once: the check judges the results first, then calls _deferred()."""
    p = ctx.params if p is None else p
    executor = _warm_executor()

    async def watched():
        asyncio.get_running_loop().set_default_executor(executor)
        return await main()
    return ctx.run_async(watched, timeout=p["timeout"], slow_ms=p["slow_ms"], debug=p.get("debug", False),
                         allow=defer)


def _warm_executor():
    """The loop's default executor (where aiofiles and asyncio.to_thread run file calls), with every
    thread already started. A pool starts its threads lazily, inside submit(), and Thread.start() waits
    until the new thread runs: on a loaded machine that can hold the loop for a quarter of a second, which
    the blocking oracle would pin on the student's first aiofiles call. The threads are named like the
    loop's own (asyncio_N), so the harness treats them as the default executor."""
    n = min(32, (os.cpu_count() or 1) + 4)       # what asyncio's default executor uses
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=n, thread_name_prefix="asyncio")
    barrier = threading.Barrier(n, timeout=5)
    futures = [executor.submit(barrier.wait) for _ in range(n)]   # every thread busy at once: n threads
    concurrent.futures.wait(futures, timeout=10)
    return executor


def _deferred(ctx):
    """Fails with the first finding that _run() deferred, if any."""
    failure = ctx.last_async.first_failure(set())
    if failure:
        ctx.fail(failure[0], failure[1])


def _never_awaited_note(ctx):
    found = ctx.last_async.never_awaited if ctx.last_async else []
    if not found:
        return ""
    f = found[0]
    where = " at %s:%d in %s" % (f["file"], f["line"], f["function"]) if f.get("file") else ""
    return " (a coroutine created%s was never awaited: the write it stood for never ran)" % where


def _call(coro_fn, *args, **kwargs):
    """Awaits coro_fn(*args, **kwargs); returns ("ok", value) or ("error", exception)."""
    async def run():
        try:
            return "ok", await coro_fn(*args, **kwargs)
        except Exception as exc:   # the check describes it
            return "error", exc
    return run()


def _exc_text(exc):
    return "%s: %s" % (type(exc).__name__, exc)


# ---------------------------------------------------------------------------------------------
# completion_quality


def exact(ctx):
    """write_file / read_file of single files, then write_files / read_files of many: all exact."""
    af = _module(ctx)
    _roundtrip(ctx, af, ctx.params["single"])
    _many_files(ctx, af, ctx.params["many"])


def _roundtrip(ctx, af, p):
    """write_file / read_file: binary, empty, large, text with \\r\\n and non-ASCII, overwrite, errors."""
    rng = ctx.rng
    big = p["big_mb"] << 20
    with _Dir("roundtrip-") as d:
        cases = [
            ("all-bytes.bin", bytes(range(256)) * 4 + rng.randbytes(1000)),
            ("empty.bin", b""),
            ("big.bin", _blob(rng, big + rng.randrange(1, 4096))),
            ("bytearray.bin", bytearray(rng.randbytes(5000))),
            ("text.txt", _text(rng, 400)),
            ("crlf-only.txt", "one\r\ntwo\r\n\r\nthree\rfour\n"),
            ("empty.txt", ""),
        ]
        old = _blob(rng, 300000)
        new = rng.randbytes(10)
        report = {}

        async def main():
            for name, data in cases:
                wrote = await _call(af.write_file, d(name), data)
                got = await _call(af.read_file, d(name), binary=not isinstance(data, str))
                report[name] = (wrote, got)
            await af.write_file(d("overwrite.bin"), old)
            report["overwrite"] = await _call(af.write_file, d("overwrite.bin"), new)
            report["missing-read"] = await _call(af.read_file, d("no-such-file.bin"))
            report["missing-dir"] = await _call(af.write_file, d("no-such-dir", "x.bin"), b"x")
            return report
        _run(ctx, main, p, defer=("never_awaited",))
        note = _never_awaited_note(ctx)

        for name, data in cases:
            (wk, wrote), (rk, got) = report[name]
            what = "%s (%d %s)" % (name, len(data), "characters" if isinstance(data, str) else "bytes")
            ctx.expect(wk == "ok", "write_file(%s) raised %s" % (what, _exc_text(wrote) if wk != "ok" else ""))
            ctx.expect(wrote == len(data), "write_file(%s) returned %r, not len(data) = %d"
                       % (what, wrote, len(data)))
            stored = _on_disk(d(name))
            want = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            ctx.expect(stored == want, "after write_file(%s) returned, the file holds %s%s"
                       % (what, _diff(stored, want), note),
                       hint=HINT_NEWLINE if isinstance(data, str) else HINT_AWAIT)
            ctx.expect(rk == "ok", "read_file(%s) raised %s" % (what, _exc_text(got) if rk != "ok" else ""))
            want_back = data if isinstance(data, str) else bytes(data)
            ctx.expect(_same(got, want_back), "read_file(%s%s) returned %s"
                       % (what, ", binary=False" if isinstance(data, str) else "", _diff(got, want_back)),
                       hint=HINT_NEWLINE if isinstance(data, str) else
                       "open with 'rb' and return await f.read(): the whole file, as bytes")
        ctx.expect(report["overwrite"] == ("ok", 10) and _on_disk(d("overwrite.bin")) == new,
                   "write_file() of 10 bytes over an existing 300000-byte file left %d bytes: it must truncate "
                   "the old content" % os.path.getsize(d("overwrite.bin")), hint="open with 'wb' (or 'w'), not 'r+b' or 'ab'")
        kind, exc = report["missing-read"]
        ctx.expect(kind == "error" and isinstance(exc, FileNotFoundError),
                   "read_file() of a missing file should raise FileNotFoundError; it %s"
                   % ("raised " + _exc_text(exc) if kind == "error" else "returned %r" % (exc,)))
        kind, exc = report["missing-dir"]
        ctx.expect(kind == "error" and isinstance(exc, FileNotFoundError),
                   "write_file() into a missing directory should raise FileNotFoundError; it %s"
                   % ("raised " + _exc_text(exc) if kind == "error" else "returned %r" % (exc,)))
        _deferred(ctx)


def _mixed_files(rng, d, n, big_every, big_kb):
    files = {}
    for i in range(n):
        if i % 7 == 3:
            files[d("f%03d.txt" % i)] = _text(rng, rng.randrange(0, 60))
        elif big_every and i % big_every == 0:
            files[d("f%03d.bin" % i)] = _blob(rng, big_kb * 1024 + rng.randrange(1000))
        else:
            files[d("f%03d.bin" % i)] = rng.randbytes(rng.randrange(0, 40000))
    return files


def _many_files(ctx, af, p):
    """write_files then read_files (bytes and text) on many files of mixed sizes: every one exact."""
    with _Dir("many-") as d:
        files = _mixed_files(ctx.rng, d, p["files"], p["big_every"], p["big_kb"])
        binary = {k: v for k, v in files.items() if not isinstance(v, str)}
        text = {k: v for k, v in files.items() if isinstance(v, str)}

        async def main():
            w = await af.write_files(files, limit=p["limit"])
            rb = await af.read_files(list(binary), limit=p["limit"])
            rt = await af.read_files(list(text), limit=p["limit"], binary=False)
            return w, rb, rt
        w, rb, rt = _run(ctx, main, p)

        ctx.expect(isinstance(w, dict) and set(w) == set(files),
                   "write_files() of %d files should return a dict with one key per path; got %s"
                   % (len(files), _keys(w, files)))
        bad = [k for k, v in files.items() if w[k] != len(v)]
        ctx.expect(not bad, "write_files(): %d file(s) got a value other than len(data), first %s -> %r"
                   % (len(bad), bad[:1] and os.path.basename(bad[0]), bad[:1] and w[bad[0]]))
        for path, data in files.items():
            want = data.encode("utf-8") if isinstance(data, str) else data
            stored = _on_disk(path)
            ctx.expect(stored == want, "after write_files() returned, %s holds %s"
                       % (os.path.basename(path), _diff(stored, want)), hint=HINT_AWAIT)
        for got, want, how in ((rb, binary, "read_files(paths)"), (rt, text, "read_files(paths, binary=False)")):
            ctx.expect(isinstance(got, dict) and set(got) == set(want),
                       "%s of %d files should return a dict with one key per path; got %s"
                       % (how, len(want), _keys(got, want)))
            for path, data in want.items():
                ctx.expect(_same(got[path], data), "%s: %s came back as %s"
                           % (how, os.path.basename(path), _exc_text(got[path]) if isinstance(got[path], BaseException)
                              else _diff(got[path], data)),
                           hint=HINT_NEWLINE if isinstance(data, str) else None)


def _keys(got, want):
    if not isinstance(got, dict):
        return "a %s" % type(got).__name__
    return "%d keys, %d of them not among the paths given, %d paths missing" % (
        len(got), len(set(got) - set(want)), len(set(want) - set(got)))


def per_file_errors(ctx):
    """A missing file, a directory and a missing parent directory among good files: each failure is that
    file's value (an OSError), every other file is still read or written."""
    af = _module(ctx)
    p = ctx.params
    rng = ctx.rng
    with _Dir("errors-") as d:
        good = {d("g%02d.bin" % i): rng.randbytes(rng.randrange(100, 20000)) for i in range(p["good"])}
        for path, data in good.items():
            with open(path, "wb") as fh:
                fh.write(data)
        os.mkdir(d("a-directory"))
        bad_read = {d("missing-1.bin"): FileNotFoundError, d("a-directory"): IsADirectoryError,
                    d("missing-2.bin"): FileNotFoundError}
        goods = list(good)
        rng.shuffle(goods)
        paths = list(bad_read) + goods          # failures first: gather without return_exceptions raises at once
        wgood = {d("w%02d.bin" % i): rng.randbytes(rng.randrange(100, 20000)) for i in range(p["good"])}
        bad_write = {d("no-such-dir", "x.bin"): FileNotFoundError, d("a-directory"): IsADirectoryError}
        wfiles = dict((k, b"doomed") for k in bad_write)
        wfiles.update(wgood)

        async def main():
            return (await _call(af.read_files, paths, limit=p["limit"]),
                    await _call(af.write_files, wfiles, limit=p["limit"]))
        (rk, r), (wk, w) = _run(ctx, main, defer=("pending",))

        ctx.expect(rk == "ok", "read_files() of %d files, %d of them missing or a directory, raised %s instead "
                   "of returning the error as those files' values: one failing file stopped them all"
                   % (len(paths), len(bad_read), _exc_text(r) if rk != "ok" else ""), hint=HINT_GATHER)
        ctx.expect(isinstance(r, dict) and set(r) == set(paths),
                   "read_files() of %d paths should return one key per path; got %s" % (len(paths), _keys(r, paths)))
        for path, kind in bad_read.items():
            ctx.expect(isinstance(r[path], kind), "read_files(): the value for %s should be the %s raised "
                       "opening it; got %s" % (os.path.basename(path), kind.__name__,
                                               _exc_text(r[path]) if isinstance(r[path], BaseException)
                                               else repr(r[path])[:80]))
        for path, data in good.items():
            ctx.expect(_same(r[path], data), "read_files(): %s, a good file beside failing ones, came back as %s"
                       % (os.path.basename(path), _exc_text(r[path]) if isinstance(r[path], BaseException)
                          else _diff(r[path], data)), hint=HINT_GATHER)
        ctx.expect(wk == "ok", "write_files() of %d files, %d of them unwritable, raised %s instead of returning "
                   "the error as those files' values" % (len(wfiles), len(bad_write),
                                                         _exc_text(w) if wk != "ok" else ""), hint=HINT_GATHER)
        ctx.expect(isinstance(w, dict) and set(w) == set(wfiles),
                   "write_files() of %d paths should return one key per path; got %s" % (len(wfiles), _keys(w, wfiles)))
        for path, kind in bad_write.items():
            ctx.expect(isinstance(w[path], kind), "write_files(): the value for %s should be the %s raised "
                       "opening it; got %r" % (os.path.relpath(path, d.path), kind.__name__, w[path]))
        for path, data in wgood.items():
            ctx.expect(w[path] == len(data) and os.path.exists(path) and _on_disk(path) == data,
                       "write_files(): %s, a good file beside failing ones, was not written whole (value %r)"
                       % (os.path.basename(path), w[path]), hint=HINT_GATHER)
        _deferred(ctx)


def open_limit(ctx):
    """write_files / read_files of many files with a small limit: never more than `limit` files open at
    once (counted at every open), and more than one (they run concurrently)."""
    af = _module(ctx)
    p = ctx.params
    rng = ctx.rng
    with _Dir("limit-") as d:
        counter = _OpenCounter(d.path)
        files = {d("f%03d.bin" % i): rng.randbytes(rng.randrange(1000, 30000)) for i in range(p["files"])}
        seen = {}

        async def main():
            for what, limit in (("write", p["limit"]), ("read", p["limit"]), ("read-one", 1)):
                counter.reset()
                counter.active = True
                try:
                    if what == "write":
                        res = await af.write_files(files, limit=limit)
                    else:
                        res = await af.read_files(list(files), limit=limit)
                finally:
                    counter.active = False
                seen[what] = (counter.max, counter.opens, res)
        _run(ctx, main)

    n = len(files)
    for what, limit in (("write", p["limit"]), ("read", p["limit"]), ("read-one", 1)):
        most, opens, res = seen[what]
        call = "%s_files(%d files, limit=%d)" % (what.split("-")[0], n, limit)
        ctx.expect(isinstance(res, dict) and len(res) == n and not any(isinstance(v, BaseException)
                                                                         for v in res.values()),
                   "%s failed for some files: %s" % (call, next((_exc_text(v) for v in res.values()
                                                                 if isinstance(v, BaseException)), res)
                                                    if isinstance(res, dict) else repr(res)[:80]))
        ctx.expect(opens >= n, "%s opened only %d files" % (call, opens))
        ctx.expect(most <= limit, "%s had %d files open at the same moment: the limit is %d"
                   % (call, most, limit), hint=HINT_LIMIT)
        if limit > 1:
            ctx.expect(most >= 2, "%s never had two files open at once: the files were handled one after "
                       "another, not concurrently" % call,
                       hint="start a task per file (asyncio.gather) and let the semaphore bound them")


def iter_chunks(ctx):
    """Chunks are at most chunk_size and add up to the file; a slow file's first chunk arrives before the
    rest is written (streaming); chunk_size < 1 is a ValueError. (Closing the file when the generator is
    closed early is part of the API but not checked: CPython closes a dropped file object at once.)"""
    af = _module(ctx)
    p = ctx.params
    rng = ctx.rng
    with _Dir("chunks-") as d:
        cases = [("big.bin", _blob(rng, (p["big_mb"] << 20) + 123), 65536),
                 ("odd.bin", rng.randbytes(10007), 1000),
                 ("one.bin", b"z", 4096),
                 ("empty.bin", b"", 4096)]
        for name, data, _ in cases:
            with open(d(name), "wb") as fh:
                fh.write(data)
        pipes = _Pipes(d.path)
        cs = p["stream_chunk"]
        gate = threading.Event()
        gate.released_by_timeout = None
        head = 3 * cs + 100
        stream = rng.randbytes(head + 5 * cs)
        fifo = pipes.to_read("stream.fifo", stream, 0.0, gate=(gate, head, p["stream_wait"]))
        out = {}

        async def main():
            for name, _, size in cases:
                out[name] = [c async for c in af.iter_chunks(d(name), size)]
            got = []
            async for c in af.iter_chunks(fifo, cs):
                got.append(c)
                gate.set()        # the slow file sends the rest only now (or after stream_wait)
            out["stream"] = got
            bad = af.iter_chunks(d("one.bin"), 0)
            try:
                await bad.__anext__()
                out["zero"] = "no error"
                await bad.aclose()
            except ValueError:
                out["zero"] = "ValueError"
            except Exception as exc:   # described below
                out["zero"] = _exc_text(exc)
        try:
            _run(ctx, main)
        finally:
            pipes.close()

        for name, data, size in cases:
            chunks = out[name]
            ctx.expect(all(isinstance(c, bytes) for c in chunks), "iter_chunks(%s) yielded %s, not bytes"
                       % (name, next((type(c).__name__ for c in chunks if not isinstance(c, bytes)), "")))
            big = [len(c) for c in chunks if len(c) > size or not c]
            ctx.expect(not big, "iter_chunks(%s, chunk_size=%d) yielded a chunk of %d bytes: each must hold "
                       "1 to chunk_size bytes" % (name, size, big[0] if big else 0))
            joined = b"".join(chunks)
            ctx.expect(joined == data, "iter_chunks(%s, chunk_size=%d): the chunks add up to %s"
                       % (name, size, _diff(joined, data)))
        ctx.expect(b"".join(out["stream"]) == stream, "iter_chunks() of a slow file: the chunks add up to %s"
                   % _diff(b"".join(out["stream"]), stream))
        ctx.expect(gate.released_by_timeout is False,
                   "iter_chunks() of a slow file yielded nothing until the whole file had arrived (the file sent "
                   "%d bytes, then waited %.1f s for a first chunk of %d): it must yield each chunk as soon as it "
                   "is read, not read the whole file first" % (head, p["stream_wait"], cs),
                   hint="loop: chunk = await f.read(chunk_size); if not chunk: break; yield chunk")
        ctx.expect(out["zero"] == "ValueError", "iter_chunks(path, chunk_size=0) should raise ValueError; got %s"
                   % out["zero"])


# ---------------------------------------------------------------------------------------------
# problem_solving


def slow_files(ctx):
    """Slow files (named pipes that answer after a delay) on the watched loop. First a mixed batch at once:
    a big regular file written and read back, and slow files read, written and streamed; no step of the
    loop may take `slow_ms` (a plain open()/read()/write() on a slow file holds it for the whole delay).
    Then read_files / write_files over many slow files: their delays must overlap (up to `limit` at once),
    so the wall time is far below the sum of the delays."""
    af = _module(ctx)
    p = ctx.params
    rng = ctx.rng
    delay, tdelay, limit = p["delay"], p["timed_delay"], p["limit"]
    with _Dir("slow-") as d:
        pipes = _Pipes(d.path)
        big = _blob(rng, p["big_mb"] << 20)
        slow_data = [rng.randbytes(rng.randrange(1000, 8000)) for _ in range(3)]
        slow_read = pipes.to_read("one.fifo", slow_data[0], delay)
        slow_many = pipes.to_read("many.fifo", slow_data[1], delay)
        slow_chunks = pipes.to_read("chunks.fifo", slow_data[2], delay)
        small = {d("s%02d.bin" % i): rng.randbytes(rng.randrange(100, 5000)) for i in range(p["small"])}
        for path, data in small.items():
            with open(path, "wb") as fh:
                fh.write(data)
        slow_write = pipes.to_write("w.fifo", delay)
        write_data = rng.randbytes(4 * PIPE_BUF)
        rdata = {}
        for i in range(p["reads"]):
            data = rng.randbytes(rng.randrange(500, 4000))
            rdata[pipes.to_read("r%02d.fifo" % i, data, tdelay)] = data
        wdata = {pipes.to_write("w%02d.fifo" % i, tdelay): rng.randbytes(2 * PIPE_BUF + i) for i in range(p["writes"])}
        took = {}

        async def main():
            async def chunks():
                return b"".join([c async for c in af.iter_chunks(slow_chunks, 1024)])
            mixed = await asyncio.gather(
                af.write_file(d("big.bin"), big), af.read_file(slow_read), af.write_file(slow_write, write_data),
                af.read_files([slow_many] + list(small), limit=limit), chunks())
            back = await af.read_file(d("big.bin"))
            t0 = time.monotonic()
            r = await af.read_files(list(rdata), limit=limit)
            t1 = time.monotonic()
            w = await af.write_files(wdata, limit=limit)
            took["read"], took["write"] = t1 - t0, time.monotonic() - t1
            return mixed, back, r, w
        try:
            mixed, back, r, w = _run(ctx, main, defer=("blocking",))
        finally:
            pipes.close()
        if ctx.last_async.blocking:        # first, and with this lab's hint
            ctx.fail(ctx.last_async.first_failure(set())[0], HINT_BLOCK)
        ctx.expect(back == big, "the big file (%d MiB) read back as %s" % (p["big_mb"], _diff(back, big)))
        ctx.expect(_same(mixed[1], slow_data[0]), "read_file() of a slow file returned %s" % _diff(mixed[1], slow_data[0]))
        ctx.expect(pipes.received.get(slow_write) == write_data, "write_file() to a slow file delivered %s"
                   % _diff(pipes.received.get(slow_write) or b"", write_data))
        want = dict(small)
        want[slow_many] = slow_data[1]
        _expect_contents(ctx, mixed[3], want, "read_files() of a slow file and %d small ones" % len(small))
        ctx.expect(mixed[4] == slow_data[2], "iter_chunks() of a slow file added up to %s" % _diff(mixed[4], slow_data[2]))
        _expect_contents(ctx, r, rdata, "read_files() of %d slow files" % len(rdata))
        ctx.expect(isinstance(w, dict) and all(w.get(k) == len(v) and pipes.received.get(k) == v
                                               for k, v in wdata.items()),
                   "write_files() to %d slow files did not deliver every content exactly" % len(wdata))
        for what, n in (("read", len(rdata)), ("write", len(wdata))):
            serial = n * tdelay
            ctx.expect(took[what] < p["max_fraction"] * serial,
                       "%s_files() of %d slow files (each answers after %.2f s), limit=%d, took %.2f s; one after "
                       "another takes %.2f s, %d at a time about %.2f s: the files were not handled concurrently"
                       % (what, n, tdelay, limit, took[what], serial, limit, -(-n // limit) * tdelay),
                       hint="start a coroutine per file and gather them; bound them with a Semaphore(limit)")


# ---------------------------------------------------------------------------------------------
# performance


def bench_files(ctx):
    """Timed: read_files over slow files and small regular files, then write_files of the small files."""
    af = ctx.student("async_files")
    p = ctx.params
    rng = ctx.rng
    slow = [rng.randbytes(rng.randrange(500, 4000)) for _ in range(p["slow"])]
    small = [rng.randbytes(rng.randrange(500, 8000)) for _ in range(p["small"])]
    base = tempfile.mkdtemp(prefix="bench-", dir=os.getcwd())
    counter = {"n": 0}

    def workload():
        counter["n"] += 1
        d = os.path.join(base, str(counter["n"]))
        os.mkdir(d)
        pipes = _Pipes(d)
        try:
            paths = [pipes.to_read("s%02d.fifo" % i, data, p["delay"]) for i, data in enumerate(slow)]
            files = {os.path.join(d, "f%02d.bin" % i): data for i, data in enumerate(small)}

            async def main():
                w = await af.write_files(files, limit=p["limit"])
                r = await af.read_files(paths + list(files), limit=p["limit"])
                return w, r
            w, r = _run_bounded(main, p["call_timeout"])
            if any(r.get(path) != data for path, data in zip(paths, slow)) or \
                    any(r.get(path) != data or w.get(path) != len(data) for path, data in files.items()):
                raise AssertionError("read_files()/write_files() returned wrong contents")
        finally:
            pipes.close()
            shutil.rmtree(d, ignore_errors=True)
    return workload


def _run_bounded(main, limit):
    """asyncio.run(main()) for a timed workload, but a call that does not finish within `limit` seconds
    fails at once (a hanging submission must not cost the item's whole timeout). Its tasks are abandoned
    with the loop, not awaited: their cancellation might hang too."""
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(main())
        loop.run_until_complete(asyncio.wait([task], timeout=limit))
        if not task.done():
            raise AssertionError("one call of the workload did not finish within %.1f s (the reference needs a "
                                 "fraction of that): it hangs" % limit)
        return task.result()
    finally:
        executor = getattr(loop, "_default_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        loop.close()
