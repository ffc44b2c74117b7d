"""Bank accounts that threads may use and transfer between concurrently, without deadlock."""
import threading


class InsufficientFunds(Exception):
    """Raised when a withdrawal or transfer asks for more than the balance."""


class BankAccount:
    def __init__(self, account_id: str, balance: int = 0):
        self.account_id = account_id
        self._balance = balance
        self._lock = threading.Lock()

    @property
    def balance(self) -> int:
        with self._lock:
            return self._balance

    def deposit(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("amount must be positive")
        with self._lock:
            self._balance += amount

    def withdraw(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("amount must be positive")
        with self._lock:
            if self._balance < amount:
                raise InsufficientFunds(f"{self.account_id}: balance {self._balance} < {amount}")
            self._balance -= amount


def transfer(src: BankAccount, dst: BankAccount, amount: int) -> None:
    """Moves amount from src to dst atomically.

    Both locks are taken in one global order (by account id, then object id as a tie-break), so
    transfers in opposite directions cannot wait for each other in a cycle.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    if src is dst:
        return
    first, second = sorted((src, dst), key=lambda a: (a.account_id, id(a)))
    with first._lock:
        with second._lock:
            if src._balance < amount:
                raise InsufficientFunds(f"{src.account_id}: balance {src._balance} < {amount}")
            src._balance -= amount
            dst._balance += amount
