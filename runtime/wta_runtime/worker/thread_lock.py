"""One turn at a time per conversation thread, across every worker replica (PostgreSQL lock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_TRY = text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))")
_RELEASE = text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))")
MAX_POLL = 0.5


class ThreadBusyError(RuntimeError):
    """Another replica kept the thread longer than we were willing to wait; try again later."""


class ThreadLocks:
    """Session advisory locks: held on a connection of their own, freed if the worker dies."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, poll: float = 0.05) -> None:
        self._sessions = sessions
        self._poll = poll

    @asynccontextmanager
    async def hold(self, key: str, *, timeout: float) -> AsyncIterator[None]:
        """Hold the lock of `key` for the block; `ThreadBusyError` after `timeout` seconds."""
        async with self._sessions() as session:
            connection = await session.connection(
                execution_options={"isolation_level": "AUTOCOMMIT"}
            )
            deadline = time.monotonic() + timeout
            poll = self._poll
            while not await connection.scalar(_TRY, {"key": key}):
                if time.monotonic() > deadline:
                    raise ThreadBusyError(f"conversation thread busy for {timeout:.0f}s")
                await asyncio.sleep(poll)
                poll = min(poll * 2, MAX_POLL)  # a turn holding the lock may take a while
            try:
                yield
            finally:
                try:
                    await connection.scalar(_RELEASE, {"key": key})
                except BaseException:
                    # A connection whose unlock failed must never go back to the pool locked.
                    await connection.invalidate()
                    raise
