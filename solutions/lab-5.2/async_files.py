"""Lab 5.2: asynchronous file I/O with aiofiles (reference solution).

Ordinary file calls (open(), f.read(), f.write()) block the thread that makes them, and in a
coroutine that thread is the event loop's: while one file is read, no other task runs. aiofiles
runs each file operation in a worker thread (the loop's default executor) and lets the coroutine
await it, so the loop keeps running. The grader relies on exactly this API:

async def write_file(path, data) -> int
    Writes `data` to `path`, creating the file or truncating an existing one, and returns
    len(data). `data` is bytes-like (written in binary mode) or str (written as UTF-8 text with
    newline="", so that "\\r\\n" and "\\r" are stored as given). When the coroutine returns, every byte
    is on disk and the file is closed. Errors (FileNotFoundError for a missing directory,
    IsADirectoryError, PermissionError...) propagate to the caller.

async def read_file(path, binary=True) -> bytes | str
    The whole content of `path`: bytes exactly as stored, or with binary=False a str decoded as
    UTF-8 with newline="" (no newline translation). FileNotFoundError etc. propagate.

async def write_files(files, limit=8) -> dict
    `files` maps path -> data (as for write_file). Writes them all concurrently, with never more
    than `limit` files open at the same moment. Returns {path: len(data)} for the files written
    and {path: the exception} for each file that failed: one failing file never stops the others.
    ValueError if limit < 1.

async def read_files(paths, limit=8, binary=True) -> dict
    The same for reading: {path: content} for each file read, {path: the exception} (such as
    FileNotFoundError or IsADirectoryError) for each one that failed; never more than `limit`
    files open at once. ValueError if limit < 1.

async def iter_chunks(path, chunk_size=65536)
    An async generator: `async for chunk in iter_chunks(path)` yields the file's bytes in chunks
    of at most chunk_size bytes, each as soon as it has been read (the file is never read whole
    into memory first), until the end of the file. The file is closed when the generator ends or
    is closed early (break out of the loop, aclose()). ValueError if chunk_size < 1.

Rules the grader checks:
  - content read back equals content written, byte for byte (empty, binary, large, text with
    "\\r\\n", non-ASCII);
  - the event loop is never blocked: no plain open()/read()/write() in a coroutine. Paths may be
    slow devices (the grader uses named pipes that answer after a delay), so even opening a file
    can take long; every blocking step must run off the loop (aiofiles, or asyncio.to_thread);
  - many files are handled concurrently, but never more than `limit` open at once;
  - every coroutine is awaited (an un-awaited write writes nothing).
"""
import asyncio

import aiofiles


def _check_limit(limit):
    if limit < 1:
        raise ValueError("limit must be at least 1, not %r" % (limit,))


async def write_file(path, data):
    if isinstance(data, str):
        async with aiofiles.open(path, "w", encoding="utf-8", newline="") as f:
            await f.write(data)
    else:
        async with aiofiles.open(path, "wb") as f:
            await f.write(data)
    return len(data)


async def read_file(path, binary=True):
    if binary:
        async with aiofiles.open(path, "rb") as f:
            return await f.read()
    async with aiofiles.open(path, "r", encoding="utf-8", newline="") as f:
        return await f.read()


async def _bounded_all(jobs, limit):
    """Runs (key, coroutine function, args) jobs concurrently, at most `limit` at once; a failing
    job's exception becomes its value."""
    _check_limit(limit)
    sem = asyncio.Semaphore(limit)

    async def one(fn, args):
        async with sem:
            return await fn(*args)

    keys = [key for key, _, _ in jobs]
    values = await asyncio.gather(*(one(fn, args) for _, fn, args in jobs), return_exceptions=True)
    return dict(zip(keys, values))


async def write_files(files, limit=8):
    return await _bounded_all([(path, write_file, (path, data)) for path, data in files.items()], limit)


async def read_files(paths, limit=8, binary=True):
    return await _bounded_all([(path, read_file, (path, binary)) for path in paths], limit)


async def iter_chunks(path, chunk_size=65536):
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1, not %r" % (chunk_size,))
    async with aiofiles.open(path, "rb") as f:
        while True:
            chunk = await f.read(chunk_size)
            if not chunk:
                return
            yield chunk
