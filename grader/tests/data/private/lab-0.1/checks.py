"""Hidden checks of lab-0.1: only the instructor's overlay names them."""


def main_twice(ctx):
    student = ctx.student("student")
    first, second = student.main(), student.main()
    ctx.expect(first == 42 and second == 42, "main() gave %r then %r" % (first, second), hint="secret hint")


def has_docstring(ctx):
    student = ctx.student("student")
    ctx.expect(bool(student.__doc__), "student.py has no module docstring")
