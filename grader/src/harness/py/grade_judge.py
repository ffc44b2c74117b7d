"""The judge: the trusted half of every split check (see grade_protocol.py).

Started by the grader as `python grade_judge.py JUDGE_FILE`, outside the submission's sandbox, once per
grading and judge file. It loads the lab's judge module (never the student's code) and answers one JSON
request per stdin line with one JSON line on stdout. Standard library only; a judge module may import
grade_oracles.

A judge module defines, for a check `name` of the lab's checks.py:
    def name(j)            the judgement: reads j.obs (what the workload recorded), j.params, j.inputs,
                           j.seed; fails with j.expect / j.expect_eq / j.fail / j.oracle
    def plan_name(j)       optional: the run's inputs, chosen here (j.rng is seeded per run) and handed
                           to the workload as ctx.inputs; the judgement gets the same value as j.inputs
"""
import importlib.util
import os
import random
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # started with -I: its own folder is not
import grade_protocol as proto  # noqa: E402


class Failed(Exception):
    def __init__(self, message, hint=None):
        super().__init__(message)
        self.message, self.hint = message, hint


class Observations(dict):
    """What the workload recorded. A name it did not record fails the run: its result was lost (the
    student's code ended the workload early) or the message was not the agent's."""

    def __missing__(self, name):
        raise Failed("the run recorded no `%s`: the workload did not get that far, or its report was "
                     "not the grader's" % name)


class Judgement:
    """What a judgement sees (`j`)."""

    Failed = Failed

    def __init__(self, params, seed, inputs=None, observations=None):
        self.params = params or {}
        self.seed = seed
        self.rng = random.Random(seed)
        self.inputs = inputs
        self.obs = Observations(observations or {})

    def fail(self, message, hint=None):
        raise Failed(message, hint)

    def expect(self, cond, message, hint=None):
        if not cond:
            raise Failed(message, hint)

    def expect_eq(self, actual, expected, what, hint=None):
        # Both as JSON keeps them: the observation crossed a JSON channel, a tuple is now a list.
        if proto.as_json(actual) != proto.as_json(expected):
            raise Failed("%s: expected %r, got %r" % (what, expected, actual), hint)

    def oracle(self, message, hint=None):
        if message:
            raise Failed(message, hint)

    def number(self, name):
        """An observation that must be a number (a bool is not)."""
        v = self.obs[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Failed("`%s` should be a number, the run recorded %r" % (name, v))
        return v


def load(path):
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(1, folder)
    spec = importlib.util.spec_from_file_location("lab_judge", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab_judge"] = module
    spec.loader.exec_module(module)
    return module


def functions(module):
    names = [n for n, f in vars(module).items() if callable(f) and not n.startswith("_")
             and getattr(f, "__module__", None) == module.__name__ and not isinstance(f, type)]
    plans = [n[len("plan_"):] for n in names if n.startswith("plan_")]
    return [n for n in names if not n.startswith("plan_")], plans


def answer(module, req):
    if req.op == "describe":
        return proto.describe_reply(*functions(module))
    if req.op == "plan":
        fn = getattr(module, "plan_" + req.check, None)
        if fn is None:
            return proto.error_reply("the judge has no plan_%s" % req.check)
        try:
            return proto.plan_reply(proto.as_json(fn(Judgement(req.params, req.seed))))
        except Exception as exc:
            return proto.error_reply("plan_%s raised %s: %s\n%s" % (req.check, type(exc).__name__, exc,
                                                                   traceback.format_exc(limit=-3)))
    fn = getattr(module, req.check, None)
    if fn is None:
        return proto.error_reply("the judge has no %s" % req.check)
    try:
        fn(Judgement(req.params, req.seed, req.inputs, req.observations))
        return proto.verdict_reply(True)
    except Failed as exc:
        return proto.verdict_reply(False, exc.message, exc.hint)
    except Exception as exc:  # the observations had a shape the judgement did not expect: never a pass
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return proto.verdict_reply(False, "the run's observations could not be judged (%s: %s, judge line %d)"
                                   % (type(exc).__name__, exc, where.lineno))


def main():
    import json
    out = sys.stdout
    sys.stdout = sys.stderr  # a judgement's print() never corrupts the replies
    try:
        module = load(sys.argv[1])
    except BaseException as exc:  # noqa: B036 - reported, then the grader stops the grading
        out.write(json.dumps(proto.error_reply("cannot load %s: %s: %s" % (sys.argv[1], type(exc).__name__, exc))) + "\n")
        out.flush()
        return 1
    for line in sys.stdin:
        try:
            reply = answer(module, proto.Request.parse(line))
        except proto.BadRequest as exc:
            reply = proto.error_reply("bad request: %s" % exc)
        out.write(json.dumps(reply, default=repr) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
