def run_main(ctx):
    student = ctx.student("student")
    result = ctx.run_async(student.main, timeout=ctx.params.get("timeout", 1.5), slow_ms=100)
    ctx.expect(result == 42, "main() returned %r, not 42" % (result,), hint="return 42")
