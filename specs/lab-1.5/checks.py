"""Workloads for lab-1.5: the quick decision framework (course Module 1). Each records what the student's
functions returned; judge.py, which the submission never sees, compares it with the tables and gives the
verdicts.

The student's API is the docstring of starter/lab-1.5/decision.py: choose_concurrency_model(workload) ->
Decision(model, kind, reasons) and estimate_wall_ms(workload) -> {model: wall time in ms}, with the
constants MODELS and REASONS. Everything here is data-driven: every table of cases (workloads, the
expected model, kind and reason codes, the expected estimates and speed-ups) is in the item's `params`
in specs/lab-1.5.yaml. Nothing here runs concurrently; every check is pure arithmetic on the student's
answers, so each item needs milliseconds.

Standard library only.
"""
import copy
import math
import os
import traceback

def _module(ctx):
    mod = ctx.student("decision")
    for name in ("choose_concurrency_model", "estimate_wall_ms"):
        ctx.expect(callable(getattr(mod, name, None)), "decision.py defines no function %s()" % name,
                   hint="keep the names of the starter's docstring")
    return mod


def _show(workload):
    return "{%s}" % ", ".join("%s: %r" % kv for kv in workload.items())


def _where(ctx, exc):
    """' (at decision.py:LINE in FUNC)' for the innermost frame of the student's files, or ''."""
    root = os.path.join(os.path.realpath(ctx.root), "")
    found = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = os.path.realpath(frame.f_code.co_filename)
        if path.startswith(root):
            found = " (at %s:%d in %s)" % (os.path.relpath(path, root), line, frame.f_code.co_name)
    return found


def _call(ctx, fn, workload, what):
    """fn(copy of workload), naming the case when the student's code raises."""
    try:
        return fn(copy.deepcopy(workload))
    except NotImplementedError as exc:
        ctx.fail("%s is not implemented yet: NotImplementedError%s" % (what, _where(ctx, exc)),
                 hint="replace the starter's TODO with the rules of the docstring")
    except Exception as exc:  # reported with the case that caused it
        ctx.fail("%s raised %s: %s%s, for the valid workload %s"
                 % (what, type(exc).__name__, exc, _where(ctx, exc), _show(workload)),
                 hint="every field combination in the docstring is valid; raise ValueError only for bad input")


def _val(value):
    """A value for the judge: a string, None, a bool or a finite number as it is; anything else (a NaN, an
    object, a container) as {"repr": its repr}, which never equals an expected value."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int) and abs(value) < 2 ** 63 or isinstance(value, float) and math.isfinite(value):
        return value
    return {"repr": repr(value)}


def _seq(value):
    """A list or tuple as a list of _val items; anything else as {"repr": ...}."""
    if isinstance(value, (list, tuple)):
        return [_val(v) for v in value]
    return {"repr": repr(value)}


def _safe(value):
    """A container (the caller's dict after a call) as JSON keeps it, non-finite numbers and objects as
    {"repr": ...}."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else repr(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return _val(value)


def _estimates(est):
    """What estimate_wall_ms() returned: {"dict": True, "items": [[key, value], ...]} or
    {"dict": False}, with its repr either way."""
    if isinstance(est, dict):
        return {"dict": True, "items": [[_val(k), _val(v)] for k, v in est.items()], "repr": repr(est)}
    return {"dict": False, "repr": repr(est)}


def _decision(d):
    """What choose_concurrency_model() returned: its three attributes (missing ones named) and its repr."""
    return {"has": [attr for attr in ("model", "kind", "reasons") if hasattr(d, attr)],
            "model": _val(getattr(d, "model", None)), "kind": _val(getattr(d, "kind", None)),
            "reasons": _seq(getattr(d, "reasons", None)), "repr": repr(d)}


# ---------------------------------------------------------------------------------------------
# completion_quality


def inputs(ctx):
    """The API's shape, then bad input (ValueError) and valid edge cases: recorded for the judge."""
    mod = _module(ctx)
    _api(ctx, mod)
    _validation(ctx, mod)


def _items(value):
    """The items of a constant (MODELS, REASONS) as a list, or None when it has none."""
    try:
        return [_val(v) for v in value]
    except TypeError:
        return None


def _api(ctx, mod):
    """Constants, Decision's shape, the caller's dict after each call, the same workload twice, and
    estimate_wall_ms()'s answer, for the minimal and the complete workload."""
    for name in ("MODELS", "REASONS"):
        got = getattr(mod, name, None)
        ctx.observe(name, {"items": None if got is None else _items(got), "repr": repr(got)})
    for label, workload in (("minimal", ctx.params["minimal"]), ("complete", ctx.params["complete"])):
        given = copy.deepcopy(workload)
        d = mod.choose_concurrency_model(given)
        seen = {"after_choose": _safe(given), "decision": _decision(d)}
        seen["again"] = _decision(mod.choose_concurrency_model(copy.deepcopy(workload)))
        given = copy.deepcopy(workload)
        est = mod.estimate_wall_ms(given)
        seen["after_estimate"] = _safe(given)
        seen["estimate"] = _estimates(est)
        ctx.observe(label, seen)


def decision_table(ctx):
    """Each case: the model and kind returned (reasons are the `reasons` item's business)."""
    mod = _module(ctx)
    got = []
    for group in ctx.params["tables"]:
        for case in group:
            d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
            got.append([_val(getattr(d, "model", None)), _val(getattr(d, "kind", None))])
    ctx.observe("decisions", got)


def reasons(ctx):
    """Across every table: the reasons returned for each case."""
    mod = _module(ctx)
    got = []
    for group in ctx.params["tables"]:
        for case in group:
            d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
            got.append(_seq(getattr(d, "reasons", None)))
    ctx.observe("reasons", got)


def _build_invalid(base, case):
    if "raw" in case:
        return case["raw"]
    w = dict(base)
    for key in case.get("drop", []):
        w.pop(key, None)
    for key, value in case.get("set", {}).items():
        w[key] = {"__nan__": float("nan"), "__inf__": float("inf"), "__-inf__": float("-inf")}.get(value, value) \
            if isinstance(value, str) else value
    return w


def _validation(ctx, mod):
    """Bad workloads given to both functions (what each did: raised ValueError, raised something else,
    returned), then the valid edge cases (which must not raise)."""
    outcomes = []
    for case in ctx.params["invalid"]:
        for fname in ("choose_concurrency_model", "estimate_wall_ms"):
            w = _build_invalid(base=ctx.params["base"], case=case)
            try:
                got = getattr(mod, fname)(w)
            except ValueError:
                outcomes.append(["ValueError"])
            except Exception as exc:  # the wrong exception type is a finding, not a crash of the check
                outcomes.append(["raised", type(exc).__name__, str(exc)])
            else:
                outcomes.append(["returned", repr(got)])
    ctx.observe("invalid", outcomes)
    valid = []
    for case in ctx.params["valid"]:       # the model is the decision items' business: here, no exception
        d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
        est = _call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")
        valid.append({"model": _val(getattr(d, "model", None)), "decision": repr(d), "estimate": _estimates(est)})
    ctx.observe("valid", valid)


# ---------------------------------------------------------------------------------------------
# problem_solving


def estimate_table(ctx):
    """estimate_wall_ms() for each case of the tables."""
    mod = _module(ctx)
    got = []
    for group in ctx.params["tables"]:
        for case in group:
            got.append(_estimates(_call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")))
    ctx.observe("estimates", got)


# ---------------------------------------------------------------------------------------------
# performance


def speedups(ctx):
    """estimate_wall_ms() for Lab 1.4's benchmark workloads; the judge computes the predicted speed-ups
    (sequential / model)."""
    mod = _module(ctx)
    got = []
    for case in ctx.params["cases"]:
        got.append(_estimates(_call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")))
    ctx.observe("estimates", got)
