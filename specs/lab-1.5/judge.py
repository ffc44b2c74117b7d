"""Judgements for lab-1.5 (the workloads are in checks.py). Runs outside the submission's process: every
expected model, kind, reason set, estimate and speed-up comes from the item's tables (params), every
verdict from what the workload recorded.

The workload records strings, None, bools and finite numbers as they are, anything else (a NaN, an object)
as {"repr": ...}, which never equals an expected value and is shown as the student's value was.
"""
import math

KINDS = ("cpu", "io", "mixed")
SHOWN = 4           # mismatches quoted in a failure message (the rest are counted)


def _r(value):
    """The student's value as %r showed it."""
    if isinstance(value, dict) and set(value) == {"repr"}:
        return value["repr"]
    return repr(value)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(workload):
    return "{%s}" % ", ".join("%s: %s" % (k, _r(v)) for k, v in workload.items())


def _summary(failures, total, what):
    head = "; ".join(failures[:SHOWN])
    more = " (and %d more)" % (len(failures) - SHOWN) if len(failures) > SHOWN else ""
    return "%d of %d %s wrong: %s%s" % (len(failures), total, what, head, more)


def _cases(j):
    return [case for group in j.params["tables"] for case in group]


def _recorded(j, name, cases):
    """The observation `name`, one entry per case (a report that skipped cases does not pass)."""
    got = j.obs[name]
    j.expect(isinstance(got, list) and len(got) == len(cases),
             "the run recorded %s for %s cases, not %d" % (name, len(got) if isinstance(got, list) else "no",
                                                          len(cases)))
    return got


def _reasons_of(j, reasons, name):
    j.expect(isinstance(reasons, list),
             "case %r: Decision.reasons must be a list or tuple of reason codes, got %s" % (name, _r(reasons)),
             hint="reasons are codes from REASONS, e.g. ('gil-bound',), not a sentence")
    return reasons


def _estimate_items(j, est):
    """estimate_wall_ms()'s answer as {key: value} (keys that are not strings shown as their repr)."""
    j.expect(isinstance(est, dict) and est.get("dict") is True and isinstance(est.get("items"), list),
             "estimate_wall_ms() must return a dict, got %s" % (est.get("repr") if isinstance(est, dict) else est))
    return {k if isinstance(k, str) else _r(k): v for k, v in est["items"]}


# ---------------------------------------------------------------------------------------------
# completion_quality


def inputs(j):
    _api(j)
    _validation(j)


def _api(j):
    models, reasons = j.params["models"], j.params["reasons"]
    for name, want, what in (("MODELS", models, "exactly %s" % sorted(models)),
                             ("REASONS", reasons, "exactly the %d codes of the docstring" % len(reasons))):
        got = j.obs[name]
        items = got["items"]
        ok = isinstance(items, list) and all(isinstance(i, str) for i in items) and sorted(items) == sorted(want)
        j.expect(ok, "decision.%s must hold %s, got %s" % (name, what, got["repr"]),
                 hint="keep the starter's constants as they are")

    for label in ("minimal", "complete"):
        workload, seen = j.params[label], j.obs[label]
        given = seen["after_choose"]
        j.expect(given == workload, "choose_concurrency_model() changed the caller's %s workload dict: "
                 "%s became %s" % (label, _show(workload), _show(given) if isinstance(given, dict) else _r(given)),
                 hint="read the defaults into a new dict (or use .get()); never write into the caller's dict")
        d = seen["decision"]
        for attr in ("model", "kind", "reasons"):
            j.expect(attr in d["has"], "the result of choose_concurrency_model() has no attribute %r (got %s)"
                     % (attr, d["repr"]), hint="return a Decision(model, kind, reasons)")
        j.expect(d["model"] in models, "Decision.model must be one of %s, got %s" % (list(models), _r(d["model"])))
        j.expect(d["kind"] in KINDS, "Decision.kind must be one of %s, got %s" % (list(KINDS), _r(d["kind"])))
        _reasons_of(j, d["reasons"], label)
        again = seen["again"]
        j.expect([again["model"], again["kind"], again["reasons"]] == [d["model"], d["kind"], d["reasons"]],
                 "choose_concurrency_model() gave two different answers for the same %s workload: %s, then %s"
                 % (label, d["repr"], again["repr"]), hint="the decision must depend on the workload only")

        given = seen["after_estimate"]
        j.expect(given == workload, "estimate_wall_ms() changed the caller's %s workload dict: %s became %s"
                 % (label, _show(workload), _show(given) if isinstance(given, dict) else _r(given)),
                 hint="read the defaults into a new dict (or use .get()); never write into the caller's dict")
        est = seen["estimate"]
        keys = [k for k, _ in est["items"]] if est["dict"] else None
        j.expect(keys is not None and all(isinstance(k, str) for k in keys) and sorted(keys) == sorted(models),
                 "estimate_wall_ms() must return a dict with one entry per model %s, got %s"
                 % (sorted(models), est["repr"]))
        bad = [(m, v) for m, v in est["items"] if not _is_number(v) or not math.isfinite(v) or v <= 0]
        j.expect(not bad, "estimate_wall_ms() must give positive finite numbers of milliseconds; got {%s}"
                 % ", ".join("%r: %s" % (m, _r(v)) for m, v in bad))


def _validation(j):
    invalid = j.params["invalid"]
    outcomes = j.obs["invalid"]
    calls = [(case, fname) for case in invalid for fname in ("choose_concurrency_model", "estimate_wall_ms")]
    j.expect(isinstance(outcomes, list) and len(outcomes) == len(calls),
             "the run recorded %s outcomes of bad inputs, not %d"
             % (len(outcomes) if isinstance(outcomes, list) else "no", len(calls)))
    wrong = []
    for (case, fname), got in zip(calls, outcomes):
        if got == ["ValueError"]:
            continue
        if got[0] == "raised":
            wrong.append("%s(%s): raised %s: %s, not ValueError" % (fname, case["name"], got[1], got[2]))
        elif got[0] == "returned":
            wrong.append("%s(%s): returned %s instead of raising ValueError" % (fname, case["name"], got[1]))
        else:
            wrong.append("%s(%s): recorded %r" % (fname, case["name"], got))
    j.expect(not wrong, _summary(wrong, len(calls), "bad inputs handled"),
             hint="validate every field first: required keys present, no unknown key, ints >= 1 (not bool, "
                  "not float), finite numbers >= 0 (not bool), bools for the flags; raise ValueError, never "
                  "KeyError or TypeError")
    models = j.params["models"]
    valid = _recorded(j, "valid", j.params["valid"])
    for case, got in zip(j.params["valid"], valid):
        j.expect(got["model"] in models,
                 "valid edge case %s %s: choose_concurrency_model() returned %s, not a Decision with a model "
                 "from MODELS" % (case["name"], _show(case["workload"]), got["decision"]))
        est = got["estimate"]
        keys = [k for k, _ in est["items"]] if est["dict"] else None
        j.expect(keys is not None and all(isinstance(k, str) for k in keys) and sorted(keys) == sorted(models),
                 "valid edge case %s %s: estimate_wall_ms() returned %s, not one estimate per model"
                 % (case["name"], _show(case["workload"]), est["repr"]))


def decision_table(j):
    """Each case: the expected model and kind (reasons are the `reasons` item's business)."""
    cases = _cases(j)
    got = _recorded(j, "decisions", cases)
    wrong = []
    for case, (model, kind) in zip(cases, got):
        if model != case["model"]:
            wrong.append("%s %s: expected %r, got %s" % (case["name"], _show(case["workload"]), case["model"],
                                                         _r(model)))
        elif kind != case["kind"]:
            wrong.append("%s %s: model right but kind expected %r, got %s"
                         % (case["name"], _show(case["workload"]), case["kind"], _r(kind)))
    j.expect(not wrong, _summary(wrong, len(cases), "decisions"), hint=j.params.get("hint"))


def reasons(j):
    """Across every table: reasons are distinct codes from the vocabulary, exactly the set the rules give."""
    vocab = set(j.params["vocabulary"])
    cases = _cases(j)
    recorded = _recorded(j, "reasons", cases)
    wrong = []
    for case, got in zip(cases, recorded):
        got = _reasons_of(j, got, case["name"])
        unknown = [r for r in got if not isinstance(r, str) or r not in vocab]
        if unknown:
            j.fail("case %r %s: Decision.reasons holds %d item(s) that are not reason codes from REASONS, "
                   "first %s: reasons are machine-checkable codes, not free text"
                   % (case["name"], _show(case["workload"]), len(unknown), _r(unknown[0])),
                   hint="use only the codes of REASONS, e.g. ('io-wait-dominates', 'blocking-library')")
        dup = sorted({r for r in got if got.count(r) > 1})
        if dup:
            j.fail("case %r: Decision.reasons repeats %s" % (case["name"], ", ".join(dup)),
                   hint="each code at most once")
        want = set(case["reasons"])
        missing, extra = sorted(want - set(got)), sorted(set(got) - want)
        if missing or extra:
            wrong.append("%s: %s%s%s" % (case["name"], "missing %s" % ", ".join(missing) if missing else "",
                                          "; " if missing and extra else "",
                                          "unexpected %s" % ", ".join(extra) if extra else ""))
    j.expect(not wrong, _summary(wrong, len(cases), "reason sets"),
             hint="add a code exactly when the docstring's rule for it applies, in the step that applies it")


# ---------------------------------------------------------------------------------------------
# problem_solving


def estimate_table(j):
    """estimate_wall_ms() against exact expected wall times (relative tolerance 1e-9: rounding only)."""
    tol = j.params["rel_tol"]
    cases = _cases(j)
    recorded = _recorded(j, "estimates", cases)
    wrong, total = [], 0
    for case, est in zip(cases, recorded):
        est = _estimate_items(j, est)
        for model, want in case["wall_ms"].items():
            total += 1
            got = est.get(model)
            ok = _is_number(got) and math.isclose(got, want, rel_tol=tol, abs_tol=tol)
            if not ok:
                wrong.append("%s %s, %s: expected %r ms, got %s" % (case["name"], _show(case["workload"]),
                                                                     model, want, _r(got)))
    j.expect(not wrong, _summary(wrong, total, "estimates"), hint=j.params.get("hint"))


# ---------------------------------------------------------------------------------------------
# performance


def speedups(j):
    """Speed-ups predicted by estimate_wall_ms() (sequential / model) for Lab 1.4's benchmark workloads:
    CPU-bound Python gains nothing from threads or asyncio and about `cores` from processes (less start-up);
    I/O-bound work gains from threads and asyncio, but not from asyncio over a blocking library; C code that
    releases the GIL gains from threads."""
    tol = j.params["abs_tol"]
    cases = j.params["cases"]
    recorded = _recorded(j, "estimates", cases)
    wrong, total = [], 0
    for case, raw in zip(cases, recorded):
        est = _estimate_items(j, raw) if isinstance(raw, dict) and raw.get("dict") else None
        sequential = est.get("sequential") if est is not None else None
        j.expect(_is_number(sequential) and sequential,
                 "estimate_wall_ms() must return a dict with a positive 'sequential' entry, got %s"
                 % (raw.get("repr") if isinstance(raw, dict) else raw))
        for model, want in case["speedup"].items():
            total += 1
            t = est.get(model)
            got = sequential / t if _is_number(t) and t else None
            if got is None or not abs(got - want) <= tol:
                wrong.append("%s, %s: predicted speed-up %s, expected %.4f" % (
                    case["name"], model, "%.4f" % got if got is not None else _r(t), want))
    j.expect(not wrong, _summary(wrong, total, "predicted speed-ups"), hint=j.params.get("hint"))
