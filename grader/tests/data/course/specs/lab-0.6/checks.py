def total(ctx):
    student = ctx.student("student")
    n = ctx.params["n"]
    ctx.expect_eq(student.total(n), n * (n - 1) // 2, "total(%d)" % n)


def bench_total(ctx):
    student = ctx.student("student")
    n = ctx.params["n"]
    return lambda: student.total(n)
