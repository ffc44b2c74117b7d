"""lab-4.2's data sets, its oracle and its words for a wrong result, shared by checks.py (the workloads'
data, the timed workload's own check) and judge.py (every verdict on a result): a data set from its
description, the grader's own serial map-reduce (the definition in the starter's docstring, never the
student's map_reduce_serial), and the first differences between two result dicts. Standard library
only."""


def data(spec):
    """Builds a data set from its description: the judge's plan (lines and documents are drawn there)
    or the spec's params.

    {text: [...]}         the given lines
    {numbers: [lo, hi]}   list(range(lo, hi))
    {range: [lo, hi]}     range(lo, hi) itself
    {tuple: [...]}        a tuple of the given items
    {pairs: [[a, b]...]}  a list of (a, b) tuples (the inverted index's (doc_id, text) documents)
    {list: [...]}         the given items
    """
    if "text" in spec:
        return list(spec["text"])
    if "numbers" in spec:
        return list(range(*spec["numbers"]))
    if "range" in spec:
        return range(*spec["range"])
    if "tuple" in spec:
        return tuple(spec["tuple"])
    if "pairs" in spec:
        return [tuple(pair) for pair in spec["pairs"]]
    if "list" in spec:
        return list(spec["list"])
    raise AssertionError(f"spec error: unknown data description {spec!r}")


def describe_data(data):
    """A data set as a message shows it: itself when short, else its type and size."""
    kind = type(data).__name__
    n = len(data)
    if n <= 4:
        return f"{kind} {data!r}"
    return f"a {kind} of {n} items"


def serial(data, map_func, reduce_func):
    """The definition: group every (key, value) by key in input order, reduce each key once."""
    groups = {}
    for item in data:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return {key: reduce_func(key, values) for key, values in groups.items()}


def short(value, limit=80):
    """repr(value), cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def diff(got, expected, type_name=lambda v: type(v).__name__):
    """The first differences between two result dicts, in words; `type_name` names got's type when it
    is no dict."""
    if not isinstance(got, dict):
        return f"returned {short(got)} ({type_name(got)}), expected a dict"
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    wrong = [k for k in expected if k in got and got[k] != expected[k]]
    parts = []
    if wrong:
        shown = "; ".join(f"key {k!r}: expected {short(expected[k], 60)}, got {short(got[k], 60)}"
                          for k in wrong[:3])
        more = f" (and {len(wrong) - 3} more keys)" if len(wrong) > 3 else ""
        parts.append(f"{len(wrong)} of {len(expected)} keys have a wrong value: {shown}{more}")
    if missing:
        parts.append(f"{len(missing)} key(s) missing, e.g. {', '.join(map(repr, missing[:3]))}")
    if extra:
        parts.append(f"{len(extra)} unexpected key(s), e.g. {', '.join(map(repr, extra[:3]))}")
    return "; ".join(parts)
