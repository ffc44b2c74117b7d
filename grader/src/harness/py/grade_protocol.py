"""The judge/agent protocol: the typed messages of a split check. Mirrored by grader/src/judge/protocol.rs.

A check is two halves. Its workload (the lab's `checks.py`) runs in the submission's process, drives the
student's code and records raw observations; its judgement (the lab's `judge.py`) runs in a process of
its own, outside the submission's sandbox, and never imports the student's code. The grader carries the
messages between them:

    grader -> judge   {"op": "describe"}
    judge -> grader   {"judges": [check, ...], "plans": [check, ...]}
    grader -> judge   {"op": "plan", "check": c, "params": {...}, "seed": n}
    judge -> grader   {"inputs": <json>}                 (sent to the workload as ctx.inputs)
    agent -> grader   {"type": "run", ..., "ok": true, "observations": {name: <json>}}
    grader -> judge   {"op": "judge", "check": c, "params": {...}, "seed": n, "inputs": <json>,
                       "observations": {name: <json>}}
    judge -> grader   {"ok": bool, "message": str|null, "hint": str|null}
    judge -> grader   {"error": str}                     (the judge's own fault: a grader error)

The workload may fail a run by itself (the student's code raised, hung, deadlocked): a failure only lowers
a score. A pass comes from the judge alone, from the inputs it planned and the observations recorded.
Standard library only.
"""
import json

VERSION = 1
OPS = ("describe", "plan", "judge")


class BadRequest(ValueError):
    pass


class Request:
    """One request to the judge, checked field by field."""

    __slots__ = ("op", "check", "params", "seed", "inputs", "observations")

    def __init__(self, op, check=None, params=None, seed=None, inputs=None, observations=None):
        self.op, self.check, self.params, self.seed = op, check, params or {}, seed
        self.inputs, self.observations = inputs, observations

    @classmethod
    def parse(cls, line):
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise BadRequest("not JSON: %s" % exc)
        if not isinstance(raw, dict) or raw.get("op") not in OPS:
            raise BadRequest("a request needs `op`, one of %s" % (OPS,))
        req = cls(raw["op"], raw.get("check"), raw.get("params"), raw.get("seed"), raw.get("inputs"),
                  raw.get("observations"))
        if req.op != "describe":
            if not isinstance(req.check, str):
                raise BadRequest("`%s` needs `check`, a function name" % req.op)
            if not isinstance(req.params, dict):
                raise BadRequest("`params` must be an object")
            if not isinstance(req.seed, int):
                raise BadRequest("`seed` must be an integer")
        if req.op == "judge" and not isinstance(req.observations, dict):
            raise BadRequest("`judge` needs `observations`, an object")
        return req


def describe_reply(judges, plans):
    return {"judges": sorted(judges), "plans": sorted(plans)}


def plan_reply(inputs):
    return {"inputs": inputs}


def verdict_reply(ok, message=None, hint=None):
    return {"ok": bool(ok), "message": message, "hint": hint}


def error_reply(message):
    return {"error": message}


def as_json(value):
    """A value as the other side will see it: tuples become lists, keys strings (what JSON keeps), and a
    NaN or an infinity its name as a string (JSON has none: the grader could not read the line)."""
    return finite(json.loads(json.dumps(value, default=repr)))


def finite(value):
    """`value` with every NaN and infinity replaced by its name ('nan', 'inf', '-inf')."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return repr(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value
