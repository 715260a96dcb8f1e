"""One turn at a time per conversation thread, across every replica, without holding a connection.

A thread is owned through a lease row (`db/thread_leases.py`): taken in one statement, renewed
for every thread this worker holds in one statement every `ttl / 3` seconds, and released at the
end of the turn. A worker that dies frees its threads when their leases expire (`ttl` seconds at
most); one that pauses past its lease finds it lost at its next fenced write or send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.db import thread_leases
from wta_runtime.db.driver import DATABASE_ERRORS, driver
from wta_runtime.db.thread_leases import LeaseAsk, LeaseLostError, ThreadLease

log = logging.getLogger("wta.worker")

DEFAULT_LEASE_SECONDS = 30.0
MAX_POLL = 0.5
# Local validity ends this much before the database's, for timer and scheduling slack.
GUARD_SECONDS = 1.0

__all__ = ["LeaseLostError", "ThreadBusyError", "ThreadLease", "ThreadOwnership"]


class ThreadBusyError(RuntimeError):
    """Another replica kept the thread longer than we were willing to wait; try again later."""


class ThreadOwnership:
    """The leases of one worker process: `hold` one per turn, `renew_forever` keeps them alive."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float = DEFAULT_LEASE_SECONDS,
        owner: str | None = None,
        poll: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 3 * GUARD_SECONDS:
            raise ValueError(f"a thread lease must last more than {3 * GUARD_SECONDS:.0f}s")
        self._db = driver(sessions)  # each lease statement commits on its own
        self.ttl = ttl
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._poll = poll
        self._monotonic = monotonic
        self._held: dict[int, ThreadLease] = {}

    @property
    def held(self) -> int:
        return len(self._held)

    def ask(self, thread: str) -> LeaseAsk:
        """What another statement needs to take `thread`'s lease for this worker, from now."""
        return LeaseAsk(thread, self.owner, self.ttl, self._monotonic())

    def taken(self, ask: LeaseAsk, token: int) -> ThreadLease:
        """The lease a statement took for `ask` (give it to `hold`)."""
        valid_until = ask.started + self.ttl - GUARD_SECONDS
        return ThreadLease(ask.thread, token, valid_until, monotonic=self._monotonic)

    @asynccontextmanager
    async def hold(
        self, thread: str, *, timeout: float, taken: ThreadLease | None = None
    ) -> AsyncIterator[ThreadLease]:
        """Own `thread` for the block (with the lease `taken` already, if given);
        `ThreadBusyError` after waiting `timeout` seconds."""
        lease = taken if taken is not None else await self._acquire(thread, timeout)
        self._held[lease.token] = lease
        try:
            yield lease
        finally:
            del self._held[lease.token]
            if not lease.released:
                with contextlib.suppress(*DATABASE_ERRORS):
                    # Not released means expired later: the thread is only slower to take over.
                    await thread_leases.release(self._db, lease.token)

    async def _acquire(self, thread: str, timeout: float) -> ThreadLease:
        deadline = self._monotonic() + timeout
        poll = self._poll
        while True:
            ask = self.ask(thread)
            token = await thread_leases.acquire(self._db, ask)
            if token is not None:
                return self.taken(ask, token)
            if self._monotonic() > deadline:
                raise ThreadBusyError(f"conversation thread busy for {timeout:.0f}s")
            await asyncio.sleep(poll)
            poll = min(poll * 2, MAX_POLL)  # the turn that holds it may take a while

    async def renew_once(self) -> None:
        """Extend every lease held now; mark those the database no longer has as lost."""
        leases = list(self._held.values())
        if not leases:
            return
        started = self._monotonic()
        kept = await thread_leases.renew(self._db, (lease.token for lease in leases), ttl=self.ttl)
        for lease in leases:
            if lease.token in kept:
                lease.valid_until = started + self.ttl - GUARD_SECONDS
            elif lease.token in self._held and not lease.releasing:  # really taken over
                lease.lost = True
                log.warning("lost the lease of a conversation thread (token %d)", lease.token)

    async def renew_forever(self, stopping: asyncio.Event) -> None:
        """Renew every `ttl / 3` seconds until `stopping`; a failed renewal is tried again."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.ttl / 3)
            if stopping.is_set():
                return
            try:
                await self.renew_once()
            except DATABASE_ERRORS:
                # The database is away: leases run out locally and their turns stop sending.
                log.warning("could not renew thread leases", exc_info=True)
