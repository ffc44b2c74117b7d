"""lab-4.4's pipe_stream cases, how an item is recorded and its advice on children left behind, shared by
checks.py (the items the workload sends, the items it received; what only the run can see) and judge.py
(the items every verdict expects; the other verdicts). Standard library only."""
import hashlib


def stream_case(case):
    """Items of a pipe_stream case and their description: {small: N} tuples with a None every 7th,
    {big: BYTES} one blob."""
    items = []
    for i in range(case.get("small", 0)):
        items.append(None if i % 7 == 3 else (i, f"msg-{i}"))
    if case.get("big"):
        items.insert(len(items) // 2, bytes(range(256)) * (case["big"] // 256))
    if not items:
        return [], "[]"
    parts = []
    if case.get("small"):
        parts.append(f"{case['small']} small items, None among them")
    if case.get("big"):
        parts.append(f"one {case['big']}-byte item")
    return items, "[" + " and ".join(parts) + "]"


def left_hints(left):
    """The advice for the children a call left behind ({"manager", "zombie", "running"}: which kinds)."""
    hints = []
    if left["manager"]:
        hints.append("use the manager as `with multiprocessing.Manager() as manager:` (or call "
                     "manager.shutdown()), every call, and do not keep one in a global.")
    if left["zombie"]:
        hints.append("join() every Process you start, even when you already have all its "
                     "results: an unjoined child that has finished stays a zombie.")
    if left["running"]:
        hints.append("join() (or terminate() and join()) every process before returning.")
    return hints


def short(x):
    """repr(x) for a message, cut after 40 characters when longer than 60."""
    text = repr(x)
    if len(text) <= 60:
        return text
    return f"{text[:40]}... ({type(x).__name__}" + (f" of length {len(x)})" if hasattr(x, "__len__") else ")")


def fingerprint(x):
    """[key, text] of a received item: the key compares it with what was sent (its repr; a digest
    for bytes and for anything long), the text shows it in a message."""
    text = repr(x)
    if isinstance(x, (bytes, bytearray)) or len(text) > 200:
        blob = bytes(x) if isinstance(x, (bytes, bytearray)) else text.encode()
        key = f"<{type(x).__name__} {len(blob)} {hashlib.sha256(blob).hexdigest()}>"
    else:
        key = text
    return [key, short(x)]
