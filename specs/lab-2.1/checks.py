"""Checks for lab-2.1: thread-safe counter and bank account (API fixed in CONTRACT.md)."""


def _accounts(bank, n, balance):
    return [bank.BankAccount("acct-%d" % i, balance) for i in range(n)]


def counter_basic(ctx):
    counter = ctx.student("counter")
    c = counter.ThreadSafeCounter()
    ctx.expect_eq(c.value, 0, "value of a new ThreadSafeCounter()")
    ctx.expect_eq(c.increment(), 1, "increment() on a new counter returns the new value")
    ctx.expect_eq(c.increment(5), 6, "increment(5) after one increment")
    ctx.expect_eq(c.decrement(), 5, "decrement() returns the new value")
    ctx.expect_eq(c.decrement(10), -5, "decrement(10) may go below zero")
    ctx.expect_eq(c.value, -5, "value after the calls above")
    ctx.expect_eq(counter.ThreadSafeCounter(42).value, 42, "ThreadSafeCounter(42).value")
    try:
        c.value = 3
    except AttributeError:
        pass
    else:
        ctx.fail("`value` can be assigned: it must be a read-only property",
                 hint="use @property with no setter")


def counter_contention(ctx):
    """Many threads increment and decrement at once; every returned value must be unique and the total right."""
    counter = ctx.student("counter")
    threads, ops = ctx.params["threads"], ctx.params["increments"]
    c = counter.ThreadSafeCounter()
    seen = [[] for _ in range(threads)]

    def work(i):
        out = seen[i]
        for _ in range(ops):
            out.append(c.increment())
    ctx.run_threads([lambda i=i: work(i) for i in range(threads)])
    total = threads * ops
    ctx.expect_eq(c.value, total,
                  "value after %d threads x %d increments (lost updates)" % (threads, ops),
                  hint="hold one lock across the read, the addition and the write of the value")
    returned = [v for out in seen for v in out]
    dups = len(returned) - len(set(returned))
    ctx.expect(dups == 0, "increment() returned the same value %d times: two increments saw the same state "
               "(lost update)" % dups, hint="return the new value while still holding the lock")
    # Mixed: as many decrements as increments leave the counter where it started.
    ctx.run_threads([(lambda: [c.increment(2) for _ in range(ops)]) if i % 2 else
                     (lambda: [c.decrement(2) for _ in range(ops)]) for i in range(threads)])
    ctx.expect_eq(c.value, total, "value after equal numbers of concurrent increment(2) and decrement(2)")


def bank_basic(ctx):
    bank = ctx.student("bank")
    a = bank.BankAccount("a", 100)
    b = bank.BankAccount("b")
    ctx.expect_eq(a.balance, 100, "BankAccount('a', 100).balance")
    ctx.expect_eq(b.balance, 0, "BankAccount('b').balance (default 0)")
    a.deposit(50)
    ctx.expect_eq(a.balance, 150, "balance after deposit(50)")
    a.withdraw(30)
    ctx.expect_eq(a.balance, 120, "balance after withdraw(30)")
    try:
        a.withdraw(1000)
    except bank.InsufficientFunds:
        pass
    else:
        ctx.fail("withdraw(1000) from a balance of 120 did not raise InsufficientFunds")
    ctx.expect_eq(a.balance, 120, "balance after a refused withdrawal (must be unchanged)")
    ctx.expect(issubclass(bank.InsufficientFunds, Exception), "InsufficientFunds must be an Exception")
    for bad in (0, -5):
        for op in ("deposit", "withdraw"):
            try:
                getattr(a, op)(bad)
            except ValueError:
                pass
            else:
                ctx.fail("%s(%d) did not raise ValueError" % (op, bad), hint="amounts must be > 0")
    ctx.expect_eq(a.balance, 120, "balance after refused invalid amounts")
    bank.transfer(a, b, 20)
    ctx.expect_eq((a.balance, b.balance), (100, 20), "balances after transfer(a, b, 20)")
    try:
        bank.transfer(b, a, 21)
    except bank.InsufficientFunds:
        pass
    else:
        ctx.fail("transfer of 21 from a balance of 20 did not raise InsufficientFunds")
    ctx.expect_eq((a.balance, b.balance), (100, 20), "balances after a refused transfer (both unchanged)")


def no_overdraft(ctx):
    """Threads race to withdraw from one account: exactly the balance can be taken, never more."""
    bank = ctx.student("bank")
    threads, start = ctx.params["threads"], ctx.params["balance"]
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
    ctx.expect(acct.balance >= 0, "the balance went negative: %d (overdraft: the balance was checked, "
               "then changed by another thread before the withdrawal)" % acct.balance,
               hint="check and subtract under the same lock")
    ctx.expect_eq(sum(taken), start, "units withdrawn in total from a balance of %d" % start,
                  hint="check and subtract under the same lock")
    ctx.expect_eq(acct.balance, 0, "balance after every thread was refused")


def money_conserved(ctx):
    """Random transfers between a few accounts from many threads: no money is made or lost."""
    bank = ctx.student("bank")
    n, threads, ops = ctx.params["accounts"], ctx.params["threads"], ctx.params["transfers"]
    accts = _accounts(bank, n, 100)
    plans = [[(ctx.rng.randrange(n), ctx.rng.randrange(n), ctx.rng.randint(1, 60)) for _ in range(ops)]
             for _ in range(threads)]

    def work(plan):
        for s, d, amount in plan:
            if s == d:
                continue
            try:
                bank.transfer(accts[s], accts[d], amount)
            except bank.InsufficientFunds:
                pass
    ctx.run_threads([lambda p=p: work(p) for p in plans])
    balances = [a.balance for a in accts]
    ctx.expect(sum(balances) == 100 * n, "money was made or lost: the accounts hold %d, not %d (balances %s)"
               % (sum(balances), 100 * n, balances), hint="make transfer atomic: hold both accounts' locks")
    ctx.expect(min(balances) >= 0, "an account went negative during transfers: %s" % balances)


def crossed_transfers(ctx):
    """Pairs of threads transfer between the same two accounts in opposite directions."""
    bank = ctx.student("bank")
    pairs, ops = ctx.params["pairs"], ctx.params["transfers"]
    targets = []
    for _ in range(pairs):
        a, b = _accounts(bank, 2, 1000)
        targets.append(lambda a=a, b=b: [bank.transfer(a, b, 1) for _ in range(ops)])
        targets.append(lambda a=a, b=b: [bank.transfer(b, a, 1) for _ in range(ops)])
    ctx.run_threads(targets, names=["transfer-%d%s" % (i // 2, "ab"[i % 2]) for i in range(len(targets))])


def lock_order(ctx):
    """transfer(a, b) in one thread, then transfer(b, a) in another: no deadlock can happen in this run,
    but the lock order taken is recorded and must have no cycle."""
    bank = ctx.student("bank")
    a, b = _accounts(bank, 2, 100)
    ctx.run_threads([lambda: bank.transfer(a, b, 5)], names=["transfer-a-to-b"])
    ctx.run_threads([lambda: bank.transfer(b, a, 5)], names=["transfer-b-to-a"])
    ctx.expect_eq((a.balance, b.balance), (100, 100), "balances after transferring 5 there and back")


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
