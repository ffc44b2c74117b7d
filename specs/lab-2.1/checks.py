"""Workloads for lab-2.1: thread-safe counter and bank account (API fixed in CONTRACT.md). Each records
what the student's code did; judge.py, which the submission never sees, gives the verdicts."""


def _accounts(bank, n, balance):
    return [bank.BankAccount("acct-%d" % i, balance) for i in range(n)]


def counter_basic(ctx):
    counter = ctx.student("counter")
    c = counter.ThreadSafeCounter()
    ctx.observe("new", c.value)
    ctx.observe("increment", c.increment())
    ctx.observe("increment_5", c.increment(5))
    ctx.observe("decrement", c.decrement())
    ctx.observe("decrement_10", c.decrement(10))
    ctx.observe("value", c.value)
    ctx.observe("new_42", counter.ThreadSafeCounter(42).value)
    try:
        c.value = 3
        ctx.observe("assign_value", "allowed")
    except AttributeError:
        ctx.observe("assign_value", "refused")


def counter_contention(ctx):
    """Many threads increment and decrement at once; the judge counts the values they returned."""
    counter = ctx.student("counter")
    threads, ops = ctx.params["threads"], ctx.params["increments"]
    c = counter.ThreadSafeCounter()
    seen = [[] for _ in range(threads)]

    def work(i):
        out = seen[i]
        for _ in range(ops):
            out.append(c.increment())
    ctx.run_threads([lambda i=i: work(i) for i in range(threads)])
    ctx.observe("value", c.value)
    ctx.observe("returned", [v for out in seen for v in out])
    # Mixed: as many decrements as increments leave the counter where it started.
    ctx.run_threads([(lambda: [c.increment(2) for _ in range(ops)]) if i % 2 else
                     (lambda: [c.decrement(2) for _ in range(ops)]) for i in range(threads)])
    ctx.observe("value_after_mixed", c.value)


def _refused(ctx, bank, name, fn):
    """Calls fn and records which exception refused it ("none" when it went through)."""
    try:
        fn()
    except bank.InsufficientFunds:
        ctx.observe(name, "InsufficientFunds")
    except ValueError:
        ctx.observe(name, "ValueError")
    else:
        ctx.observe(name, "none")


def bank_basic(ctx):
    bank = ctx.student("bank")
    a = bank.BankAccount("a", 100)
    b = bank.BankAccount("b")
    ctx.observe("opening", [a.balance, b.balance])
    a.deposit(50)
    ctx.observe("after_deposit", a.balance)
    a.withdraw(30)
    ctx.observe("after_withdraw", a.balance)
    _refused(ctx, bank, "withdraw_1000", lambda: a.withdraw(1000))
    ctx.observe("after_refusal", a.balance)
    ctx.observe("insufficient_is_exception", issubclass(bank.InsufficientFunds, Exception))
    for bad in (0, -5):
        for op in ("deposit", "withdraw"):
            _refused(ctx, bank, "%s_%d" % (op, bad), lambda op=op, bad=bad: getattr(a, op)(bad))
    ctx.observe("after_invalid", a.balance)
    bank.transfer(a, b, 20)
    ctx.observe("after_transfer", [a.balance, b.balance])
    _refused(ctx, bank, "transfer_21", lambda: bank.transfer(b, a, 21))
    ctx.observe("after_refused_transfer", [a.balance, b.balance])


def no_overdraft(ctx):
    """Threads race to withdraw from one account (opening balance chosen by the judge)."""
    bank = ctx.student("bank")
    threads, start = ctx.params["threads"], ctx.inputs["balance"]
    acct = bank.BankAccount("shared", start)
    taken = [0] * threads

    def drain(i):
        while True:
            try:
                acct.withdraw(1)
            except bank.InsufficientFunds:
                return
            taken[i] += 1
    ctx.run_threads([lambda i=i: drain(i) for i in range(threads)])
    ctx.observe("taken", taken)
    ctx.observe("balance", acct.balance)


def money_conserved(ctx):
    """Random transfers (planned by the judge) between a few accounts from many threads."""
    bank = ctx.student("bank")
    accts = [bank.BankAccount("acct-%d" % i, b) for i, b in enumerate(ctx.inputs["balances"])]

    def work(plan):
        for s, d, amount in plan:
            if s == d:
                continue
            try:
                bank.transfer(accts[s], accts[d], amount)
            except bank.InsufficientFunds:
                pass
    ctx.run_threads([lambda p=p: work(p) for p in ctx.inputs["plans"]])
    ctx.observe("balances", [a.balance for a in accts])


def crossed_transfers(ctx):
    """Pairs of threads transfer between the same two accounts in opposite directions."""
    bank = ctx.student("bank")
    pairs, ops = ctx.params["pairs"], ctx.params["transfers"]
    targets, accounts = [], []
    for _ in range(pairs):
        a, b = _accounts(bank, 2, 1000)
        accounts.append((a, b))
        targets.append(lambda a=a, b=b: [bank.transfer(a, b, 1) for _ in range(ops)])
        targets.append(lambda a=a, b=b: [bank.transfer(b, a, 1) for _ in range(ops)])
    ctx.run_threads(targets, names=["transfer-%d%s" % (i // 2, "ab"[i % 2]) for i in range(len(targets))])
    ctx.observe("balances", [[a.balance, b.balance] for a, b in accounts])


def lock_order(ctx):
    """transfer(a, b) in one thread, then transfer(b, a) in another: no deadlock can happen in this run,
    but the lock order taken is recorded (the grader finds any cycle in it)."""
    bank = ctx.student("bank")
    a, b = _accounts(bank, 2, 100)
    ctx.run_threads([lambda: bank.transfer(a, b, 5)], names=["transfer-a-to-b"])
    ctx.run_threads([lambda: bank.transfer(b, a, 5)], names=["transfer-b-to-a"])
    ctx.observe("balances", [a.balance, b.balance])


def bench_counter(ctx):
    """Timed workload: threads hammering one counter, then transfers around a ring of accounts."""
    counter, bank = ctx.student("counter"), ctx.student("bank")
    threads, ops = ctx.params["threads"], ctx.params["ops"]
    import threading

    def workload():
        c = counter.ThreadSafeCounter()
        accts = _accounts(bank, threads, 10 ** 6)

        def work(i):
            for _ in range(ops):
                c.increment()
                bank.transfer(accts[i], accts[(i + 1) % threads], 1)
        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if c.value != threads * ops:
            raise AssertionError("counter value %d, expected %d" % (c.value, threads * ops))
    return workload
