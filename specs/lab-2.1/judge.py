"""Judgements for lab-2.1 (the workloads are in checks.py). Runs outside the submission's process: the
inputs are chosen here and every verdict comes from what the workload recorded."""

LOCK_HINT = "hold one lock across the read, the addition and the write of the value"


def counter_basic(j):
    j.expect_eq(j.obs["new"], 0, "value of a new ThreadSafeCounter()")
    j.expect_eq(j.obs["increment"], 1, "increment() on a new counter returns the new value")
    j.expect_eq(j.obs["increment_5"], 6, "increment(5) after one increment")
    j.expect_eq(j.obs["decrement"], 5, "decrement() returns the new value")
    j.expect_eq(j.obs["decrement_10"], -5, "decrement(10) may go below zero")
    j.expect_eq(j.obs["value"], -5, "value after the calls above")
    j.expect_eq(j.obs["new_42"], 42, "ThreadSafeCounter(42).value")
    j.expect(j.obs["assign_value"] == "refused", "`value` can be assigned: it must be a read-only property",
             hint="use @property with no setter")


def counter_contention(j):
    threads, ops = j.params["threads"], j.params["increments"]
    total = threads * ops
    j.expect_eq(j.obs["value"], total, "value after %d threads x %d increments (lost updates)" % (threads, ops),
                hint=LOCK_HINT)
    returned = j.obs["returned"]
    j.expect(len(returned) == total, "%d increments were made, %d returned values recorded" % (total, len(returned)))
    dups = len(returned) - len(set(returned))
    j.expect(dups == 0, "increment() returned the same value %d times: two increments saw the same state "
             "(lost update)" % dups, hint="return the new value while still holding the lock")
    j.expect(sorted(returned) == list(range(1, total + 1)),
             "increment() returned values other than 1..%d: it must return the new value" % total)
    j.expect_eq(j.obs["value_after_mixed"], total,
                "value after equal numbers of concurrent increment(2) and decrement(2)")


def _refusal(j, name, wanted, what, hint=None):
    got = j.obs[name]
    if got != wanted:
        j.fail("%s did not raise %s%s" % (what, wanted, "" if got == "none" else " (it raised %s)" % got), hint)


def bank_basic(j):
    o = j.obs
    j.expect_eq(o["opening"][0], 100, "BankAccount('a', 100).balance")
    j.expect_eq(o["opening"][1], 0, "BankAccount('b').balance (default 0)")
    j.expect_eq(o["after_deposit"], 150, "balance after deposit(50)")
    j.expect_eq(o["after_withdraw"], 120, "balance after withdraw(30)")
    _refusal(j, "withdraw_1000", "InsufficientFunds", "withdraw(1000) from a balance of 120")
    j.expect_eq(o["after_refusal"], 120, "balance after a refused withdrawal (must be unchanged)")
    j.expect(o["insufficient_is_exception"] is True, "InsufficientFunds must be an Exception")
    for bad in (0, -5):
        for op in ("deposit", "withdraw"):
            _refusal(j, "%s_%d" % (op, bad), "ValueError", "%s(%d)" % (op, bad), hint="amounts must be > 0")
    j.expect_eq(o["after_invalid"], 120, "balance after refused invalid amounts")
    j.expect_eq(o["after_transfer"], [100, 20], "balances after transfer(a, b, 20)")
    _refusal(j, "transfer_21", "InsufficientFunds", "transfer of 21 from a balance of 20")
    j.expect_eq(o["after_refused_transfer"], [100, 20], "balances after a refused transfer (both unchanged)")


def plan_no_overdraft(j):
    return {"balance": j.params["balance"] + j.rng.randrange(0, 16)}


def no_overdraft(j):
    start, balance, taken = j.inputs["balance"], j.number("balance"), j.obs["taken"]
    hint = "check and subtract under the same lock"
    j.expect(balance >= 0, "the balance went negative: %d (overdraft: the balance was checked, then changed by "
             "another thread before the withdrawal)" % balance, hint=hint)
    j.expect_eq(len(taken), j.params["threads"], "threads that withdrew")
    j.expect_eq(sum(taken), start, "units withdrawn in total from a balance of %d" % start, hint=hint)
    j.expect_eq(balance, 0, "balance after every thread was refused")


def plan_money_conserved(j):
    n, threads, ops = j.params["accounts"], j.params["threads"], j.params["transfers"]
    return {"balances": [100 + j.rng.randrange(0, 20) for _ in range(n)],
            "plans": [[(j.rng.randrange(n), j.rng.randrange(n), j.rng.randint(1, 60)) for _ in range(ops)]
                      for _ in range(threads)]}


def money_conserved(j):
    balances, opening = j.obs["balances"], j.inputs["balances"]
    j.expect_eq(len(balances), len(opening), "accounts after the transfers")
    j.expect(sum(balances) == sum(opening), "money was made or lost: the accounts hold %d, not %d (balances %s)"
             % (sum(balances), sum(opening), balances), hint="make transfer atomic: hold both accounts' locks")
    j.expect(min(balances) >= 0, "an account went negative during transfers: %s" % balances)


def crossed_transfers(j):
    pairs = j.obs["balances"]
    j.expect_eq(len(pairs), j.params["pairs"], "account pairs after the crossed transfers")
    for a, b in pairs:
        j.expect(a + b == 2000, "money was made or lost while transfers crossed: the pair holds %d, not 2000"
                 % (a + b), hint="change both balances while holding both accounts' locks")
        j.expect_eq([a, b], [1000, 1000], "balances after as many transfers each way")


def lock_order(j):
    j.expect_eq(j.obs["balances"], [100, 100], "balances after transferring 5 there and back")
