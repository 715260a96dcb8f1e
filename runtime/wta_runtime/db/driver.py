"""The hot path's statements on asyncpg itself, with connections from SQLAlchemy's pool.

Through the ORM, a statement costs more CPU than its round trip: statement objects, cache keys,
compilation, and rows loaded into objects. The statements every turn runs are plain SQL here,
with positional parameters that asyncpg prepares once per connection, and they return plain rows.
Each commits on its own (asyncpg's autocommit): none of them needs a BEGIN or COMMIT.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections import deque
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from wta_runtime.db.engine import statement_counter

# What a statement fails with when the database is away or refuses it, through either way.
# A connection the server closed while it sat idle (a restart) can fail its next statement
# with asyncpg's InternalClientError ("another operation is in progress"), not an OSError.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)

# A connection the driver keeps goes back to the pool once unused this long, or held this long.
IDLE_SECONDS = 0.005
HOLD_SECONDS = 1.0

_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)")


class Sql:
    """SQL text with `:name` parameters, turned once into asyncpg's `$1`, `$2`..."""

    def __init__(self, text: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.text = _NAMED.sub(number, text)
        self.names = tuple(names)

    def args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def jsonb(value: Any) -> str:
    """A parameter for a jsonb column: the pool's connections take jsonb as JSON text."""
    return json.dumps(value)


class _Held:
    """A pool connection the driver has checked out, and since when."""

    __slots__ = ("idle", "pooled", "since")

    def __init__(self, pooled: PoolProxiedConnection, since: float) -> None:
        self.pooled = pooled
        self.since = since
        self.idle: asyncio.TimerHandle | None = None


class Driver:
    """Runs SQL on a pooled connection's asyncpg connection, and counts the statements.

    A checkout and checkin through SQLAlchemy's pool cost more CPU than a short statement, so
    the driver keeps the connections it uses, at most all of the pool's but one: a statement
    hands its connection to the next one waiting, and an unused connection goes back to the
    pool after `IDLE_SECONDS` (or once held `HOLD_SECONDS`, so that the pool recycles it). The
    connection the driver never takes is how sessions (the unusual turn, the scheduler) always
    get one: the pool's queue lets a caller that asks at the right moment take a connection
    before one that waits, so a driver that checked out for every statement could starve them.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine
        self._count = statement_counter(engine)
        size = getattr(engine.sync_engine.pool, "size", None)
        # A pool of one is shared statement by statement, as SQLAlchemy would.
        self._keep = max(0, size() - 1) if callable(size) else 0
        self._free: list[_Held] = []
        self._out = 0  # connections the driver holds, in use or free
        self._waiting: deque[asyncio.Future[_Held | None]] = deque()
        self._closed = False
        event.listen(self._pool, "engine_disposed", self._disposed)

    async def _statement(self, method: str, sql: Sql, params: dict[str, Any]) -> Any:
        self._count.inc()
        held = await self._take()
        try:
            result = await getattr(held.pooled.driver_connection, method)(
                sql.text, *sql.args(params)
            )
        except BaseException as error:
            if isinstance(error, asyncpg.PostgresError) and not isinstance(
                error, asyncpg.PostgresConnectionError
            ):
                await self._put(held)  # the statement failed, not the connection
                raise
            # A broken socket, or a statement cut off by cancellation: never hand it out again.
            # Invalidated, it is closed and checked in at once, without a round trip to await.
            held.pooled.invalidate(error if isinstance(error, Exception) else None)
            held.pooled.close()
            self._out -= 1
            self._hand_over(None)
            raise
        await self._put(held)
        return result

    async def _take(self) -> _Held:
        """A connection for one statement: a free one, a new one, or the next one put back."""
        if self._free:
            held = self._free.pop()
            if held.idle is not None:
                held.idle.cancel()
                held.idle = None
            return held
        if self._keep and self._out >= self._keep:
            waiter: asyncio.Future[_Held | None] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand_over(waiter.result())  # handed over, then cancelled: pass it on
                raise
            if handed is not None:
                return handed
        self._out += 1  # before the checkout: a statement arriving meanwhile waits for it
        try:
            pooled = await greenlet_spawn(self._pool.raw_connection)
        except BaseException:
            self._out -= 1
            self._hand_over(None)
            raise
        return _Held(pooled, time.monotonic())

    def _hand_over(self, held: _Held | None) -> bool:
        """Give `held` (None: the right to check one out) to the first statement waiting."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return True
        return False

    async def _put(self, held: _Held) -> None:
        """After a statement: to the next one waiting, to the free list, or back to the pool."""
        if (
            self._out <= self._keep
            and not self._closed
            and time.monotonic() - held.since < HOLD_SECONDS
        ):
            if not self._hand_over(held):
                held.idle = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._idle, held)
                self._free.append(held)
            return
        self._out -= 1
        await greenlet_spawn(held.pooled.close)  # checking in may close it (recycle)
        self._hand_over(None)

    def _idle(self, held: _Held) -> None:
        held.idle = None
        if held in self._free:
            self._free.remove(held)
            self._out -= 1
            task = asyncio.ensure_future(greenlet_spawn(held.pooled.close))
            _GIVING_BACK.add(task)
            task.add_done_callback(_GIVING_BACK.discard)

    async def close(self) -> None:
        """Give every connection kept back to the pool (before the engine is disposed)."""
        self._closed = True
        while self._free:
            held = self._free.pop()
            if held.idle is not None:
                held.idle.cancel()
            self._out -= 1
            await greenlet_spawn(held.pooled.close)

    def _disposed(self, _: Any) -> None:
        """The engine was disposed without `dispose` below: close what the driver kept."""
        while self._free:
            held = self._free.pop()
            if held.idle is not None:
                held.idle.cancel()
            held.pooled.invalidate()
            held.pooled.close()
            self._out -= 1

    async def fetch(self, sql: Sql, **params: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._statement("fetch", sql, params)
        return rows

    async def fetchrow(self, sql: Sql, **params: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._statement("fetchrow", sql, params)
        return row

    async def fetchval(self, sql: Sql, **params: Any) -> Any:
        return await self._statement("fetchval", sql, params)

    async def execute(self, sql: Sql, **params: Any) -> None:
        await self._statement("execute", sql, params)


_GIVING_BACK: set[asyncio.Future[None]] = set()
_DRIVERS: weakref.WeakKeyDictionary[AsyncEngine, Driver] = weakref.WeakKeyDictionary()


def driver(sessions: async_sessionmaker[AsyncSession]) -> Driver:
    """The driver on the pool of `sessions` (one per engine)."""
    engine: AsyncEngine = sessions.kw["bind"]
    made = _DRIVERS.get(engine)
    if made is None:
        made = Driver(engine)
        _DRIVERS[engine] = made
    return made


async def dispose(engine: AsyncEngine) -> None:
    """Close the engine's pool, with the connections its driver kept."""
    made = _DRIVERS.get(engine)
    if made is not None:
        await made.close()
    await engine.dispose()
