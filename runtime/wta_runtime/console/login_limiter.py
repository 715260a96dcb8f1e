"""Refuses logins after too many recent failures, per account and per client address."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta


class LoginLimiter:
    """Sliding-window failure counts, kept by each gateway replica for its own clients."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._clock = clock
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        cutoff = self._clock() - self._window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        return [("account", account), ("address", address)]

    def allows(self, account: str, address: str) -> bool:
        """False while the account or the address has used up its failures."""
        return all(
            len(self._recent(key)) < self._limits[key[0]] for key in self._keys(account, address)
        )

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        for key in self._keys(account, address):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        self._failures.pop(("account", account), None)
