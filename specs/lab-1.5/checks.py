"""Checks for lab-1.5: the quick decision framework (course Module 1).

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

KINDS = ("cpu", "io", "mixed")
SHOWN = 4           # mismatches quoted in a failure message (the rest are counted)


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


def _summary(failures, total, what):
    head = "; ".join(failures[:SHOWN])
    more = " (and %d more)" % (len(failures) - SHOWN) if len(failures) > SHOWN else ""
    return "%d of %d %s wrong: %s%s" % (len(failures), total, what, head, more)


def _reasons_of(ctx, decision, name):
    reasons = getattr(decision, "reasons", None)
    ctx.expect(isinstance(reasons, (list, tuple)),
               "case %r: Decision.reasons must be a list or tuple of reason codes, got %r" % (name, reasons),
               hint="reasons are codes from REASONS, e.g. ('gil-bound',), not a sentence")
    return reasons


# ---------------------------------------------------------------------------------------------
# completion_quality


def inputs(ctx):
    """The API's shape, then bad input (ValueError) and valid edge cases."""
    mod = _module(ctx)
    _api(ctx, mod)
    _validation(ctx, mod)


def _api(ctx, mod):
    """Constants, Decision's shape, defaults for optional fields, no mutation of the caller's dict,
    the same answer twice, and estimate_wall_ms() returning one number per model."""
    models, reasons = ctx.params["models"], ctx.params["reasons"]
    got_models = getattr(mod, "MODELS", None)
    ctx.expect(got_models is not None and sorted(got_models) == sorted(models),
               "decision.MODELS must hold exactly %s, got %r" % (sorted(models), got_models),
               hint="keep the starter's constants as they are")
    got_reasons = getattr(mod, "REASONS", None)
    ctx.expect(got_reasons is not None and sorted(got_reasons) == sorted(reasons),
               "decision.REASONS must hold exactly the %d codes of the docstring, got %r"
               % (len(reasons), got_reasons), hint="keep the starter's constants as they are")

    for label, workload in (("minimal", ctx.params["minimal"]), ("complete", ctx.params["complete"])):
        given = copy.deepcopy(workload)
        d = mod.choose_concurrency_model(given)
        ctx.expect(given == workload, "choose_concurrency_model() changed the caller's %s workload dict: "
                   "%s became %s" % (label, _show(workload), _show(given)),
                   hint="read the defaults into a new dict (or use .get()); never write into the caller's dict")
        for attr in ("model", "kind", "reasons"):
            ctx.expect(hasattr(d, attr), "the result of choose_concurrency_model() has no attribute %r (got %r)"
                       % (attr, d), hint="return a Decision(model, kind, reasons)")
        ctx.expect(d.model in models, "Decision.model must be one of %s, got %r" % (list(models), d.model))
        ctx.expect(d.kind in KINDS, "Decision.kind must be one of %s, got %r" % (list(KINDS), d.kind))
        _reasons_of(ctx, d, label)
        again = mod.choose_concurrency_model(copy.deepcopy(workload))
        ctx.expect((again.model, again.kind, list(again.reasons)) == (d.model, d.kind, list(d.reasons)),
                   "choose_concurrency_model() gave two different answers for the same %s workload: %r, then %r"
                   % (label, d, again), hint="the decision must depend on the workload only")

        given = copy.deepcopy(workload)
        est = mod.estimate_wall_ms(given)
        ctx.expect(given == workload, "estimate_wall_ms() changed the caller's %s workload dict: %s became %s"
                   % (label, _show(workload), _show(given)),
                   hint="read the defaults into a new dict (or use .get()); never write into the caller's dict")
        ctx.expect(isinstance(est, dict) and sorted(est) == sorted(models),
                   "estimate_wall_ms() must return a dict with one entry per model %s, got %r"
                   % (sorted(models), est))
        bad = {m: v for m, v in est.items()
               if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0}
        ctx.expect(not bad, "estimate_wall_ms() must give positive finite numbers of milliseconds; got %r" % bad)


def decision_table(ctx):
    """Each case: the expected model and kind (reasons are the `reasons` item's business)."""
    mod = _module(ctx)
    cases = [case for group in ctx.params["tables"] for case in group]
    wrong = []
    for case in cases:
        d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
        model, kind = getattr(d, "model", None), getattr(d, "kind", None)
        if model != case["model"]:
            wrong.append("%s %s: expected %r, got %r" % (case["name"], _show(case["workload"]), case["model"], model))
        elif kind != case["kind"]:
            wrong.append("%s %s: model right but kind expected %r, got %r"
                         % (case["name"], _show(case["workload"]), case["kind"], kind))
    ctx.expect(not wrong, _summary(wrong, len(cases), "decisions"), hint=ctx.params.get("hint"))


def reasons(ctx):
    """Across every table: reasons are distinct codes from the vocabulary, exactly the set the rules give."""
    mod = _module(ctx)
    vocab = set(ctx.params["vocabulary"])
    total, wrong = 0, []
    for group in ctx.params["tables"]:
        for case in group:
            total += 1
            d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
            got = _reasons_of(ctx, d, case["name"])
            unknown = [r for r in got if not isinstance(r, str) or r not in vocab]
            if unknown:
                ctx.fail("case %r %s: Decision.reasons holds %d item(s) that are not reason codes from REASONS, "
                         "first %r: reasons are machine-checkable codes, not free text"
                         % (case["name"], _show(case["workload"]), len(unknown), unknown[0]),
                         hint="use only the codes of REASONS, e.g. ('io-wait-dominates', 'blocking-library')")
            dup = sorted({r for r in got if list(got).count(r) > 1})
            if dup:
                ctx.fail("case %r: Decision.reasons repeats %s" % (case["name"], ", ".join(dup)),
                         hint="each code at most once")
            want = set(case["reasons"])
            missing, extra = sorted(want - set(got)), sorted(set(got) - want)
            if missing or extra:
                wrong.append("%s: %s%s%s" % (case["name"], "missing %s" % ", ".join(missing) if missing else "",
                                              "; " if missing and extra else "",
                                              "unexpected %s" % ", ".join(extra) if extra else ""))
    ctx.expect(not wrong, _summary(wrong, total, "reason sets"),
               hint="add a code exactly when the docstring's rule for it applies, in the step that applies it")


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
    """Bad workloads raise ValueError from both functions; the valid edge cases do not raise."""
    base = ctx.params["base"]
    wrong = []
    for case in ctx.params["invalid"]:
        for fname in ("choose_concurrency_model", "estimate_wall_ms"):
            w = _build_invalid(base, case)
            try:
                got = getattr(mod, fname)(w)
            except ValueError:
                continue
            except Exception as exc:  # the wrong exception type is a finding, not a crash of the check
                wrong.append("%s(%s): raised %s: %s, not ValueError" % (fname, case["name"], type(exc).__name__, exc))
            else:
                wrong.append("%s(%s): returned %r instead of raising ValueError" % (fname, case["name"], got))
    total = 2 * len(ctx.params["invalid"])
    ctx.expect(not wrong, _summary(wrong, total, "bad inputs handled"),
               hint="validate every field first: required keys present, no unknown key, ints >= 1 (not bool, "
                    "not float), finite numbers >= 0 (not bool), bools for the flags; raise ValueError, never "
                    "KeyError or TypeError")
    models = ctx.params["models"]
    for case in ctx.params["valid"]:       # the model is the decision items' business: here, no exception
        d = _call(ctx, mod.choose_concurrency_model, case["workload"], "choose_concurrency_model()")
        est = _call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")
        ctx.expect(getattr(d, "model", None) in models,
                   "valid edge case %s %s: choose_concurrency_model() returned %r, not a Decision with a model "
                   "from MODELS" % (case["name"], _show(case["workload"]), d))
        ctx.expect(isinstance(est, dict) and sorted(est) == sorted(models),
                   "valid edge case %s %s: estimate_wall_ms() returned %r, not one estimate per model"
                   % (case["name"], _show(case["workload"]), est))


# ---------------------------------------------------------------------------------------------
# problem_solving


def estimate_table(ctx):
    """estimate_wall_ms() against exact expected wall times (relative tolerance 1e-9: rounding only)."""
    mod = _module(ctx)
    tol = ctx.params["rel_tol"]
    cases = [case for group in ctx.params["tables"] for case in group]
    wrong, total = [], 0
    for case in cases:
        est = _call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")
        ctx.expect(isinstance(est, dict), "estimate_wall_ms() must return a dict, got %r" % (est,))
        for model, want in case["wall_ms"].items():
            total += 1
            got = est.get(model)
            ok = (isinstance(got, (int, float)) and not isinstance(got, bool)
                  and math.isclose(got, want, rel_tol=tol, abs_tol=tol))
            if not ok:
                wrong.append("%s %s, %s: expected %r ms, got %r" % (case["name"], _show(case["workload"]),
                                                                     model, want, got))
    ctx.expect(not wrong, _summary(wrong, total, "estimates"), hint=ctx.params.get("hint"))


# ---------------------------------------------------------------------------------------------
# performance


def speedups(ctx):
    """Speed-ups predicted by estimate_wall_ms() (sequential / model) for Lab 1.4's benchmark workloads:
    CPU-bound Python gains nothing from threads or asyncio and about `cores` from processes (less start-up);
    I/O-bound work gains from threads and asyncio, but not from asyncio over a blocking library; C code that
    releases the GIL gains from threads."""
    mod = _module(ctx)
    tol = ctx.params["abs_tol"]
    wrong, total = [], 0
    for case in ctx.params["cases"]:
        est = _call(ctx, mod.estimate_wall_ms, case["workload"], "estimate_wall_ms()")
        ctx.expect(isinstance(est, dict) and est.get("sequential"),
                   "estimate_wall_ms() must return a dict with a positive 'sequential' entry, got %r" % (est,))
        for model, want in case["speedup"].items():
            total += 1
            t = est.get(model)
            got = est["sequential"] / t if isinstance(t, (int, float)) and t else None
            if got is None or abs(got - want) > tol:
                wrong.append("%s, %s: predicted speed-up %s, expected %.4f" % (
                    case["name"], model, "%.4f" % got if got is not None else repr(t), want))
    ctx.expect(not wrong, _summary(wrong, total, "predicted speed-ups"), hint=ctx.params.get("hint"))
