def call_main(ctx):
    student = ctx.student("student")
    result = student.main()
    ctx.expect(result == 42, "main() returned %r, not 42" % (result,), hint="return 42")


def scheduler_turns(ctx):
    """The controlled scheduler's turn belongs to one thread at a time. Two ways it was once handed out
    by a thread that did not hold it (and two threads then ran at once, until a double release of a turn
    lock raised RuntimeError inside the student's code): an exited thread's id, reused by the next thread
    the check started, still named the exited thread's entry while the new thread was starting; and that
    starting thread then called the scheduler's time.sleep."""
    import _thread
    import threading
    import grade_sched
    s = grade_sched.active
    ctx.expect(s is not None, "the item does not run under the controlled scheduler")
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    ctx.expect(t.ident not in s.by_ident,
               "an exited thread's id is still managed: the next thread given that id inherits its turn")
    exited = t._grade_managed
    holder = s.me()
    ctx.expect(s.holder is holder, "the check's thread holds the turn but the scheduler names %r"
               % (s.holder and s.holder.name,))
    done = _thread.allocate_lock()
    done.acquire()

    def outsider():
        s.switch(exited)     # a thread that does not hold the turn tries to hand it on
        grade_sched._sleep(0)
        done.release()
    _thread.start_new_thread(outsider, ())
    ctx.expect(done.acquire(True, 5), "a thread that does not hold the turn blocked in the scheduler")
    ctx.expect(holder.go.locked() and s.holder is holder,
               "a thread that does not hold the turn handed it on: two threads would run at once")
