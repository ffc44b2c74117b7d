"""Workloads for lab-5.2: asynchronous file I/O (aiofiles). Each records what the student's code did
(ctx.observe); judge.py, which the submission never sees, gives the verdicts.

The student's API is the docstring of starter/lab-5.2/async_files.py: write_file, read_file,
write_files, read_files (per-file errors, at most `limit` files open at once) and the async
generator iter_chunks.

Every entry point runs under ctx.run_async, so a blocking step on the loop, a coroutine never
awaited, an exception nobody retrieved or a task left pending fails the item with the student's line
(the findings a check defers are recorded, and the judge reports them after the contents).
Files live in a directory the check makes inside the run's working directory. Contents are built from
a seed the judge plans (lab52_content.py, shared with the judge); what is on disk is read back with
plain reads after the loop has stopped and recorded as a fingerprint (lab52_content.fingerprint).

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

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.append(_HERE)  # after the student's directory: their files come first

import lab52_content as content  # noqa: E402
from grade_lib_student import run_bounded, student_module  # noqa: E402

HINT_BLOCK = ("use `async with aiofiles.open(...) as f:` and `await f.read()` / `await f.write()`; never a "
              "plain open(), read() or write() inside a coroutine (or wrap the whole blocking function in "
              "asyncio.to_thread)")
PIPE_BUF = content.PIPE_BUF


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    return student_module(ctx, "async_files", ("write_file", "read_file", "write_files", "read_files", "iter_chunks"))


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



def _on_disk(path):
    with open(path, "rb") as fh:
        return fh.read()



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


def _run(ctx, main, p=None, defer=()):
    """ctx.run_async with the item's timeout and slow_ms. Debug mode (which records where each coroutine,
    task and callback was made, so a never-awaited coroutine is named by its line) costs ~0.5 ms per
    task here: only the items that need it (params debug: true) run with it. Findings of the kinds in
    `defer` do not fail the run at once: the check records them (_findings) for the judge, which reports
    them after the results it judges first."""
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



def _findings(ctx):
    """The first run_async finding that _run() deferred ([message, hint]), or None: the judge reports
    it after the results it judges first."""
    failure = ctx.last_async.first_failure(set()) if ctx.last_async else None
    return None if failure is None else [failure[0], failure[1]]


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
        except Exception as exc:   # the judge describes it
            return "error", exc
    return run()


def _outcome(pair):
    """A _call() result as recorded: whether it raised, and the value (or the exception) described."""
    kind, value = pair
    return {"raised": kind != "ok", "value": content.describe(value)}


def _name(d, key):
    """A result's key as recorded: a path of the item's directory relative to it; anything else marked."""
    if isinstance(key, str) and key.startswith(d.path + os.sep):
        return key[len(d.path) + 1:]
    try:
        return "?" + repr(key)[:100]
    except Exception:   # a student's key whose repr raises
        return "?<%s>" % type(key).__name__


def _result(d, value):
    """A read_files() / write_files() result: each key (relative) with its value described."""
    if not isinstance(value, dict):
        return content.describe(value)
    return {"type": "dict", "items": [[_name(d, k), content.describe(v)] for k, v in value.items()]}


def _disk(path):
    """The fingerprint of a file's content on disk (None when there is no such file)."""
    if not os.path.isfile(path):
        return None
    return content.fingerprint(_on_disk(path))


# ---------------------------------------------------------------------------------------------
# completion_quality


def exact(ctx):
    """write_file / read_file of single files, then write_files / read_files of many (contents from the
    judge's seeds)."""
    af = _module(ctx)
    _roundtrip(ctx, af, ctx.params["single"], ctx.inputs["single"])
    _many_files(ctx, af, ctx.params["many"], ctx.inputs["many"])


def _roundtrip(ctx, af, p, seed):
    """write_file / read_file: binary, empty, large, text with \\r\\n and non-ASCII, overwrite, errors."""
    cases, old, new = content.roundtrip(seed, p["big_mb"])
    with _Dir("roundtrip-") as d:
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
        ctx.observe("single.note", _never_awaited_note(ctx))
        ctx.observe("single.async", _findings(ctx))
        ctx.observe("single.cases", {name: {"write": _outcome(report[name][0]), "disk": _disk(d(name)),
                                            "read": _outcome(report[name][1])} for name, _ in cases})
        ctx.observe("single.overwrite", {"write": _outcome(report["overwrite"]), "disk": _disk(d("overwrite.bin")),
                                         "size": os.path.getsize(d("overwrite.bin"))
                                         if os.path.isfile(d("overwrite.bin")) else None})
        ctx.observe("single.missing_read", _outcome(report["missing-read"]))
        ctx.observe("single.missing_dir", _outcome(report["missing-dir"]))


def _many_files(ctx, af, p, seed):
    """write_files then read_files (bytes and text) on many files of mixed sizes."""
    with _Dir("many-") as d:
        files = {d(name): data for name, data in content.mixed_files(seed, p["files"], p["big_every"],
                                                                     p["big_kb"]).items()}
        binary = [k for k, v in files.items() if not isinstance(v, str)]
        text = [k for k, v in files.items() if isinstance(v, str)]

        async def main():
            w = await af.write_files(files, limit=p["limit"])
            rb = await af.read_files(binary, limit=p["limit"])
            rt = await af.read_files(text, limit=p["limit"], binary=False)
            return w, rb, rt
        # Every finding is deferred (recorded) so that the judge reports it after the single files'
        # results, as when this part ran only once they had passed.
        w, rb, rt = _run(ctx, main, p, defer=("never_awaited", "unretrieved", "blocking", "pending"))
        ctx.observe("many.async", _findings(ctx))
        ctx.observe("many.write", _result(d, w))
        ctx.observe("many.disk", {os.path.basename(path): _disk(path) for path in files})
        ctx.observe("many.read_binary", _result(d, rb))
        ctx.observe("many.read_text", _result(d, rt))


def per_file_errors(ctx):
    """A missing file, a directory and a missing parent directory among good files (contents from the
    judge's seed): each failure should be that file's value, every other file still read or written."""
    af = _module(ctx)
    p = ctx.params
    readable, order, writable = content.errors(ctx.inputs["seed"], p["good"])
    with _Dir("errors-") as d:
        for name, data in readable.items():
            with open(d(name), "wb") as fh:
                fh.write(data)
        os.mkdir(d("a-directory"))
        bad_read = [d("missing-1.bin"), d("a-directory"), d("missing-2.bin")]
        # failures first: gather without return_exceptions raises at once
        paths = bad_read + [d(name) for name in order]
        bad_write = [d("no-such-dir", "x.bin"), d("a-directory")]
        wfiles = dict((k, b"doomed") for k in bad_write)
        wfiles.update((d(name), data) for name, data in writable.items())

        async def main():
            return (await _call(af.read_files, paths, limit=p["limit"]),
                    await _call(af.write_files, wfiles, limit=p["limit"]))
        (rk, r), (wk, w) = _run(ctx, main, defer=("pending",))
        ctx.observe("read", {"raised": rk != "ok", "value": _result(d, r)})
        ctx.observe("write", {"raised": wk != "ok", "value": _result(d, w)})
        ctx.observe("disk", {name: _disk(d(name)) for name in writable})
        ctx.observe("async", _findings(ctx))


def open_limit(ctx):
    """write_files / read_files of many files with a small limit: the most files open at once (counted at
    every open), the number of opens and the results, for each call. (The contents, drawn here, are not
    judged: files written and read exactly are exact's.)"""
    af = _module(ctx)
    p = ctx.params
    with _Dir("limit-") as d:
        counter = _OpenCounter(d.path)
        files = {d(name): data for name, data in content.limit_files(ctx.rng, p["files"]).items()}
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
                seen[what] = {"max": counter.max, "opens": counter.opens, "result": _result(d, res)}
        _run(ctx, main)
        ctx.observe("calls", seen)


def iter_chunks(ctx):
    """Chunks of regular files and of a slow file whose rest arrives only once a first chunk was yielded
    (or after stream_wait); chunk_size 0. (Closing the file when the generator is closed early is part of
    the API but not checked: CPython closes a dropped file object at once.)"""
    af = _module(ctx)
    p = ctx.params
    cases, head, stream = content.chunk_cases(ctx.inputs["seed"], p["big_mb"], p["stream_chunk"])
    with _Dir("chunks-") as d:
        for name, data, _ in cases:
            with open(d(name), "wb") as fh:
                fh.write(data)
        pipes = _Pipes(d.path)
        cs = p["stream_chunk"]
        gate = threading.Event()
        gate.released_by_timeout = None
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
            except Exception as exc:   # described by the judge
                out["zero"] = "%s: %s" % (type(exc).__name__, exc)
        try:
            _run(ctx, main)
        finally:
            pipes.close()
        ctx.observe("chunks", {name: _chunks(out[name]) for name in [c[0] for c in cases] + ["stream"]})
        ctx.observe("released_by_timeout", gate.released_by_timeout)
        ctx.observe("zero", out["zero"])


def _runs(values):
    """Run-length encoding: [[value, count], ...] (a million 1-byte chunks stay small)."""
    out = []
    for v in values:
        if out and out[-1][0] == v:
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out


def _chunks(chunks):
    """What an iter_chunks() yielded: each chunk's type and length (run-length encoded) and the
    fingerprint of their concatenation (None when they cannot be joined as bytes)."""
    try:
        joined = content.fingerprint(b"".join(chunks))
    except TypeError:     # a chunk that is not bytes-like (the judge names its type)
        joined = None
    return {"types": _runs([type(c).__name__ for c in chunks]),
            "lens": _runs([len(c) if isinstance(c, (bytes, bytearray, str)) else -1 for c in chunks]),
            "joined": joined}


# ---------------------------------------------------------------------------------------------
# problem_solving


def slow_files(ctx):
    """Slow files (named pipes that answer after a delay) on the watched loop. First a mixed batch at once:
    a big regular file written and read back, and slow files read, written and streamed; no step of the
    loop may take `slow_ms` (a plain open()/read()/write() on a slow file holds it for the whole delay:
    that fails the run here). Then read_files / write_files over many slow files, timed: the judge
    compares the wall times with the sum of the delays."""
    af = _module(ctx)
    p = ctx.params
    delay, tdelay, limit = p["delay"], p["timed_delay"], p["limit"]
    data = content.slow(ctx.inputs["seed"], p["big_mb"], p["small"], p["reads"], p["writes"])
    with _Dir("slow-") as d:
        pipes = _Pipes(d.path)
        big, slow_data = data["big"], data["slow_data"]
        slow_read = pipes.to_read("one.fifo", slow_data[0], delay)
        slow_many = pipes.to_read("many.fifo", slow_data[1], delay)
        slow_chunks = pipes.to_read("chunks.fifo", slow_data[2], delay)
        small = {d(name): body for name, body in data["small"].items()}
        for path, body in small.items():
            with open(path, "wb") as fh:
                fh.write(body)
        slow_write = pipes.to_write("w.fifo", delay)
        write_data = data["write_data"]
        rpaths = [pipes.to_read(name, body, tdelay) for name, body in data["rdata"].items()]
        wdata = {pipes.to_write(name, tdelay): body for name, body in data["wdata"].items()}
        took = {}

        async def main():
            async def chunks():
                return b"".join([c async for c in af.iter_chunks(slow_chunks, 1024)])
            mixed = await asyncio.gather(
                af.write_file(d("big.bin"), big), af.read_file(slow_read), af.write_file(slow_write, write_data),
                af.read_files([slow_many] + list(small), limit=limit), chunks())
            back = await af.read_file(d("big.bin"))
            t0 = time.monotonic()
            r = await af.read_files(rpaths, limit=limit)
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
        ctx.observe("big_back", content.describe(back))
        ctx.observe("slow_read", content.describe(mixed[1]))
        received = pipes.received.get(slow_write)
        ctx.observe("slow_received", None if received is None else content.fingerprint(received))
        ctx.observe("mixed_read", _result(d, mixed[3]))
        ctx.observe("slow_chunks", content.describe(mixed[4]))
        ctx.observe("read", _result(d, r))
        ctx.observe("write", _result(d, w))
        ctx.observe("received", {os.path.basename(path): None if pipes.received.get(path) is None
                                 else content.fingerprint(pipes.received[path]) for path in wdata})
        ctx.observe("took", took)


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
            w, r = run_bounded(main, p["call_timeout"])
            if any(r.get(path) != data for path, data in zip(paths, slow)) or \
                    any(r.get(path) != data or w.get(path) != len(data) for path, data in files.items()):
                raise AssertionError("read_files()/write_files() returned wrong contents")
        finally:
            pipes.close()
            shutil.rmtree(d, ignore_errors=True)
    return workload
