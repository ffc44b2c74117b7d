"""Lab 5.2's test data and content fingerprints, shared by the workloads (checks.py, in the run) and the
judgements (judge.py, outside it).

The judge plans one seed per batch of files; both sides build the same contents from it with the
generators below (megabytes need not cross the JSON channel as inputs). What the student's code wrote or
returned crosses it as a fingerprint: type, length, SHA-256, and the content itself when it is short,
else per block of BLOCK units a short hash and the first HEAD units (enough for the judge to say where a
long content first differs). Standard library only; nothing here is secret.
"""
import base64
import hashlib
import math
import random

BLOCK = 4096     # units (bytes or characters) per block of a long content's fingerprint
HEAD = 16        # units of each block kept in the fingerprint


# ---------------------------------------------------------------------------------------------
# test data (one random.Random per planned seed)


def blob(rng, n):
    """n seeded bytes, cheap for large n: 64 KiB blocks that differ in their first 4 bytes (so a chunk
    written twice, skipped or out of place shows)."""
    if n <= 65536:
        return rng.randbytes(n)
    block = rng.randbytes(65536)
    parts = [i.to_bytes(4, "big") + block[4:] for i in range(n // 65536 + 1)]
    return b"".join(parts)[:n]


WORDS = ["alpha", "beta", "caf\u00e9", "stra\u00dfe", "\u4e2d\u6587", "\U0001F642", "tab\there", "x", ""]


def text(rng, lines):
    """Text with mixed line endings (\\n, \\r\\n, a lone \\r) and non-ASCII characters."""
    out = []
    for _ in range(lines):
        out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 8))))
        out.append(rng.choice(["\n", "\r\n", "\n", "\r\n", "\r"]))
    return "".join(out)


def roundtrip(seed, big_mb):
    """exact, single files: [(name, data)], the old content of the overwritten file, the new one."""
    rng = random.Random(seed)
    big = big_mb << 20
    cases = [
        ("all-bytes.bin", bytes(range(256)) * 4 + rng.randbytes(1000)),
        ("empty.bin", b""),
        ("big.bin", blob(rng, big + rng.randrange(1, 4096))),
        ("bytearray.bin", bytearray(rng.randbytes(5000))),
        ("text.txt", text(rng, 400)),
        ("crlf-only.txt", "one\r\ntwo\r\n\r\nthree\rfour\n"),
        ("empty.txt", ""),
    ]
    old = blob(rng, 300000)
    new = rng.randbytes(10)
    return cases, old, new


def mixed_files(seed, n, big_every, big_kb):
    """exact, many files: name -> bytes or str, of mixed sizes."""
    rng = random.Random(seed)
    files = {}
    for i in range(n):
        if i % 7 == 3:
            files["f%03d.txt" % i] = text(rng, rng.randrange(0, 60))
        elif big_every and i % big_every == 0:
            files["f%03d.bin" % i] = blob(rng, big_kb * 1024 + rng.randrange(1000))
        else:
            files["f%03d.bin" % i] = rng.randbytes(rng.randrange(0, 40000))
    return files


def errors(seed, good):
    """per_file_errors: the good files to read (name -> bytes), their order among the paths, the good
    files to write."""
    rng = random.Random(seed)
    readable = {"g%02d.bin" % i: rng.randbytes(rng.randrange(100, 20000)) for i in range(good)}
    order = list(readable)
    rng.shuffle(order)
    writable = {"w%02d.bin" % i: rng.randbytes(rng.randrange(100, 20000)) for i in range(good)}
    return readable, order, writable


def limit_files(rng, n):
    """open_limit: name -> bytes (drawn in the run: the verdict does not depend on them)."""
    return {"f%03d.bin" % i: rng.randbytes(rng.randrange(1000, 30000)) for i in range(n)}


def chunk_cases(seed, big_mb, stream_chunk):
    """iter_chunks: [(name, data, chunk_size)] of regular files, the head sent before the gate, and the
    slow file's whole content."""
    rng = random.Random(seed)
    cases = [("big.bin", blob(rng, (big_mb << 20) + 123), 65536),
             ("odd.bin", rng.randbytes(10007), 1000),
             ("one.bin", b"z", 4096),
             ("empty.bin", b"", 4096)]
    head = 3 * stream_chunk + 100
    stream = rng.randbytes(head + 5 * stream_chunk)
    return cases, head, stream


PIPE_BUF = 65536          # what a Linux pipe holds before a writer blocks


def slow(seed, big_mb, small, reads, writes):
    """slow_files: every content, by role."""
    rng = random.Random(seed)
    big = blob(rng, big_mb << 20)
    slow_data = [rng.randbytes(rng.randrange(1000, 8000)) for _ in range(3)]
    small_files = {"s%02d.bin" % i: rng.randbytes(rng.randrange(100, 5000)) for i in range(small)}
    write_data = rng.randbytes(4 * PIPE_BUF)
    rdata = {"r%02d.fifo" % i: rng.randbytes(rng.randrange(500, 4000)) for i in range(reads)}
    wdata = {"w%02d.fifo" % i: rng.randbytes(2 * PIPE_BUF + i) for i in range(writes)}
    return {"big": big, "slow_data": slow_data, "small": small_files, "write_data": write_data,
            "rdata": rdata, "wdata": wdata}


# ---------------------------------------------------------------------------------------------
# fingerprints


def _raw(value):
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)


def digest(value):
    """SHA-256 (hex) of bytes-like or str content (a str as UTF-8)."""
    return hashlib.sha256(_raw(value)).hexdigest()


def block_hash(part):
    return hashlib.blake2b(_raw(part), digest_size=6).hexdigest()


def head_text(part):
    """A block's first HEAD units as JSON keeps them (hex for bytes)."""
    return part[:HEAD] if isinstance(part, str) else bytes(part[:HEAD]).hex()


def head_value(text_or_hex, as_str):
    return text_or_hex if as_str else bytes.fromhex(text_or_hex)


def fingerprint(value):
    """bytes, bytearray or str content as the judge compares it."""
    fp = {"type": type(value).__name__, "len": len(value), "sha": digest(value), "repr": repr(value[:60])[:80]}
    if len(value) <= BLOCK:
        fp["data"] = value if isinstance(value, str) else base64.b64encode(bytes(value)).decode("ascii")
    else:
        fp["blocks"] = [[block_hash(value[i:i + BLOCK]), head_text(value[i:i + BLOCK])]
                        for i in range(0, len(value), BLOCK)]
    return fp


def data_of(fp):
    """The whole content of a short fingerprint (None for a long one)."""
    if "data" not in fp:
        return None
    return fp["data"] if fp["type"] == "str" else base64.b64decode(fp["data"])


def describe(value):
    """Any value the student's code returned: a content's fingerprint, an exception's type (with its
    classes, so that a subclass of FileNotFoundError counts as one) and text, else its type and repr."""
    if isinstance(value, (bytes, bytearray, str)):
        return fingerprint(value)
    if isinstance(value, BaseException):
        return {"type": type(value).__name__, "exc": True, "error": "%s: %s" % (type(value).__name__, value),
                "mro": ["%s.%s" % (c.__module__, c.__qualname__) for c in type(value).__mro__],
                "repr": repr(value)[:200]}
    try:
        text_ = repr(value)[:200]
    except Exception:   # a student's object whose repr raises
        text_ = "<%s>" % type(value).__name__
    number = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return {"type": type(value).__name__, "repr": text_, "value": value if number else None}
