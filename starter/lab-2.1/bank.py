"""Lab 2.1, part 2: bank accounts that threads use and transfer between concurrently.

- withdraw() raises InsufficientFunds and changes nothing when the balance is too low,
  and ValueError for an amount <= 0 (so does deposit()).
- transfer(src, dst, amount) is atomic: no money is made or lost, InsufficientFunds leaves both
  accounts unchanged, and any number of threads may transfer in any direction at once without deadlock.
"""
import threading  # noqa: F401


class InsufficientFunds(Exception):
    """Raised when a withdrawal or transfer asks for more than the balance."""


class BankAccount:
    def __init__(self, account_id: str, balance: int = 0):
        # TODO: store the id and balance; create this account's lock
        raise NotImplementedError("BankAccount.__init__")

    @property
    def balance(self) -> int:
        # TODO
        raise NotImplementedError("BankAccount.balance")

    def deposit(self, amount: int) -> None:
        # TODO
        raise NotImplementedError("BankAccount.deposit")

    def withdraw(self, amount: int) -> None:
        # TODO: check the balance and subtract under the same lock
        raise NotImplementedError("BankAccount.withdraw")


def transfer(src: BankAccount, dst: BankAccount, amount: int) -> None:
    # TODO: hold both accounts' locks; think about two threads transferring in opposite directions
    raise NotImplementedError("transfer")
