"""The hot path's statements on asyncpg itself, with connections from SQLAlchemy's pool.

Through the ORM, a statement costs more CPU than its round trip: statement objects, cache keys,
compilation, and rows loaded into objects. The statements every turn runs are plain SQL here,
with positional parameters that asyncpg prepares once per connection, and they return plain rows.
Each commits on its own (asyncpg's autocommit): none of them needs a BEGIN or COMMIT.
"""

from __future__ import annotations

import json
import re
import weakref
from typing import Any

import asyncpg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_, greenlet_spawn

from wta_runtime.db.engine import statement_counter

# What a statement fails with when the database is away or refuses it, through either way.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)

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


class Driver:
    """Runs SQL on a pooled connection's asyncpg connection, and counts the statements."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine
        self._count = statement_counter(engine)

    def _run(self, method: str, text: str, args: list[Any]) -> Any:
        """Check a connection out, run the statement and check it in: in one greenlet."""
        pooled = self._pool.raw_connection()
        try:
            return await_(getattr(pooled.driver_connection, method)(text, *args))
        except asyncpg.PostgresError as error:
            if isinstance(error, asyncpg.PostgresConnectionError):
                pooled.invalidate(error)
            raise
        except BaseException as error:
            # A broken socket, or a statement cut off by cancellation: never hand it out again.
            pooled.invalidate(error if isinstance(error, Exception) else None)
            raise
        finally:
            # Checking in may close the connection (overflow, recycle).
            pooled.close()

    async def fetch(self, sql: Sql, **params: Any) -> list[asyncpg.Record]:
        self._count.inc()
        rows: list[asyncpg.Record] = await greenlet_spawn(
            self._run, "fetch", sql.text, sql.args(params)
        )
        return rows

    async def fetchrow(self, sql: Sql, **params: Any) -> asyncpg.Record | None:
        self._count.inc()
        row: asyncpg.Record | None = await greenlet_spawn(
            self._run, "fetchrow", sql.text, sql.args(params)
        )
        return row

    async def fetchval(self, sql: Sql, **params: Any) -> Any:
        self._count.inc()
        return await greenlet_spawn(self._run, "fetchval", sql.text, sql.args(params))

    async def execute(self, sql: Sql, **params: Any) -> None:
        self._count.inc()
        await greenlet_spawn(self._run, "execute", sql.text, sql.args(params))


_DRIVERS: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], Driver] = (
    weakref.WeakKeyDictionary()
)


def driver(sessions: async_sessionmaker[AsyncSession]) -> Driver:
    """The driver on the pool of `sessions` (one per session factory)."""
    made = _DRIVERS.get(sessions)
    if made is None:
        made = Driver(sessions.kw["bind"])
        _DRIVERS[sessions] = made
    return made
