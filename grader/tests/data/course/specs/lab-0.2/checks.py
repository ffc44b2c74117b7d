def call_main(ctx):
    student = ctx.student("student")
    result = student.main()
    ctx.expect(result == 42, "main() returned %r, not 42" % (result,), hint="return 42")
