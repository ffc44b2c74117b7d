"""The course's check library: the student's values across the JSON channel between a workload and its
judgement.

The channel carries JSON: a tuple arrives as a list, a dict's keys as strings, a float may lose its last
bit, nan and inf and the student's own objects not at all. `typed` (in the workload) records a value with
its types and `decode` (in the judgement) gives it back (lab-1.4, deliverable-4); `json_safe` only makes
a value carriable (lab-1.3, lab-5.3); `undo_repr` reads back values recorded as {"repr": ...} lists and
all (lab-2.2, ex-process-pool-manager). Pure standard library: importable by workloads and judges alike.
"""
import hashlib
import math
import numbers


# --------------------------------------------------------------------------
# workload side

def typed(value, long_str=None, depth=0):
    """What the student's code returned, as JSON can carry it with its types: a dict as {"dict": [[key,
    value], ...]} (keys keep their type), a tuple as {"tuple": [...]}, a float as {"float": repr} (exact,
    nan and inf too), any other object as {"object": type name, "repr": repr}. Numbers of other numeric
    types (numbers.Integral, numbers.Real) as int / float. With `long_str`, a string longer than that as
    {"long": sha256, "len", "head"} (the channel cuts long strings). `decode` undoes it."""
    if depth > 20:
        return {"object": type(value).__name__, "repr": "..."}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = str.__str__(value)  # a subclass's own __eq__ or __str__ plays no part
        if long_str is not None and len(value) > long_str:  # the judge compares its digest
            return {"long": hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest(),
                    "len": len(value), "head": value[:200]}
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"float": repr(float(value))}  # exact (the grader's JSON parser may round a float's last bit)
    if isinstance(value, dict):
        return {"dict": [[typed(k, long_str, depth + 1), typed(v, long_str, depth + 1)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [typed(v, long_str, depth + 1) for v in value]}
    if isinstance(value, list):
        return [typed(v, long_str, depth + 1) for v in value]
    try:
        text = repr(value)
    except Exception:  # the student's __repr__
        text = "<%s>" % type(value).__name__
    return {"object": type(value).__name__, "repr": text}


def json_safe(v):
    """A value of the student's as JSON can carry it: nan and inf as their repr, a dict's keys as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, dict):
        return {k if isinstance(k, str) else repr(k): json_safe(x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------
# judgement side

class _Object:
    """An object of the student's that JSON cannot carry: equal to nothing but itself; shows as its repr."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text

    __str__ = __repr__


class _LongStr:
    """A long string of the student's, recorded as its sha256: equal to the string with that digest."""

    def __init__(self, digest, length, head):
        self.digest, self.length, self.head = digest, length, head

    def __eq__(self, other):
        if isinstance(other, _LongStr):
            return self.digest == other.digest
        if isinstance(other, str):
            return len(other) == self.length and \
                hashlib.sha256(other.encode("utf-8", "surrogatepass")).hexdigest() == self.digest
        return NotImplemented

    def __hash__(self):
        return hash(self.digest)

    def __repr__(self):
        return repr(self.head) + "... (%d characters)" % self.length


def decode(value):
    """What `typed` recorded, back as the student's code returned it (an object as an opaque stand-in of
    the same type name and repr; a long string as a stand-in equal to the string with its digest)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"dict"}:
            return {_key(decode(k)): decode(v) for k, v in value["dict"]}
        if set(value) == {"tuple"}:
            return tuple(decode(v) for v in value["tuple"])
        if set(value) == {"float"}:
            return float(value["float"])
        if set(value) == {"long", "len", "head"}:
            return _LongStr(value["long"], value["len"], value["head"])
        if set(value) == {"object", "repr"}:
            return type(str(value["object"]), (_Object,), {})(str(value["repr"]))
        raise ValueError("an observation that is not _typed's: %r" % (value,))
    return value


def _key(value):
    """A decoded dict key (hashable as it was in the run: a list can only be a tuple's image)."""
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    return value


class ReprValue:
    """A value recorded as {"repr": ...}: equal only to a value of the same repr, shown as that repr."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, ReprValue) and other.text == self.text

    def __hash__(self):
        return hash(("_Obj", self.text))

    def __repr__(self):
        return self.text


def undo_repr(value):
    """A value recorded with {"repr": ...} for what JSON cannot carry, near enough as it was: lists as
    tuples (hashable, shown as before), {"repr": ...} as a ReprValue."""
    if isinstance(value, dict) and set(value) == {"repr"}:
        return ReprValue(value["repr"])
    if isinstance(value, list):
        return tuple(undo_repr(v) for v in value)
    return value
