"""The overlay's own checks of lab-0.6: a workload the public checks.py does not have."""


def bench_overlay_only(ctx):
    student = ctx.student("student")
    n = ctx.params["n"]
    return lambda: student.total(n)
