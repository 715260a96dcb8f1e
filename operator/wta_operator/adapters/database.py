"""Tenant scopes (role + schema) in the platform database, through an admin connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import asyncpg
from pydantic import SecretStr

from wta_operator.builders.database import (
    CREATE_ROLE,
    CREATE_SCHEMA,
    DROP_ROLE,
    DROP_SCHEMA,
    KNOWLEDGE_ROWS,
    NEXT_TIMER,
    OWN_KNOWLEDGE_ROWS,
    OWN_NEXT_TIMER,
    OWN_SPEND_ROWS,
    ROLE_EXISTS,
    SET_PASSWORD,
    SET_SEARCH_PATH,
    SPEND_ROWS,
    DatabaseScope,
    plain_postgres_url,
)
from wta_runtime.conversation.lifecycle import OPEN

# Open conversations, the only ones a timer moves (their expiry).
OPEN_STATES = sorted(state.value for state in OPEN)
# (agent, day, tokens, cost, messages) of the tenant's spend counters.
SpendRow = tuple[str, date, int, Decimal, int]
# (source, chunks, ingested at, error) of an agent's knowledge sources.
KnowledgeRow = tuple[str, int, datetime | None, str | None]


class DatabaseUnavailableError(Exception):
    """The platform database could not be reached or refused a statement."""


class DatabaseAdmin:
    """Creates and drops tenants' roles and schemas; one short connection per operation."""

    def __init__(self, admin_url: SecretStr, *, timeout: float) -> None:
        self._url = admin_url
        self._timeout = timeout

    @property
    def url(self) -> SecretStr:
        return self._url

    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(
                plain_postgres_url(self._url.get_secret_value()), timeout=self._timeout
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            raise DatabaseUnavailableError(
                f"platform database is unreachable ({type(exc).__name__})"
            ) from None

    async def _run(self, conn: asyncpg.Connection, builder: str, *args: str) -> None:
        statement = await conn.fetchval(builder, *args)
        await conn.execute(statement)

    @asynccontextmanager
    async def _connection(self, failing: str) -> AsyncIterator[asyncpg.Connection]:
        """One short connection; a refused statement says `failing` and the error class."""
        conn = await self._connect()
        try:
            yield conn
        except (asyncpg.PostgresError, OSError) as exc:
            # Only the error class: asyncpg messages may quote the statement, password included.
            raise DatabaseUnavailableError(f"{failing}: {type(exc).__name__}") from None
        finally:
            await conn.close()

    async def ensure_scope(self, scope: DatabaseScope, password: SecretStr, *, new: bool) -> bool:
        """Create the role and schema if missing; set the password when it was just generated.

        Returns True when the role was created.
        """
        async with (
            self._connection(f"could not prepare role/schema {scope.role}") as conn,
            conn.transaction(),
        ):
            exists = await conn.fetchval(ROLE_EXISTS, scope.role)
            secret = password.get_secret_value()
            if not exists:
                await self._run(conn, CREATE_ROLE, scope.role, secret)
            elif new:
                await self._run(conn, SET_PASSWORD, scope.role, secret)
            await self._run(conn, CREATE_SCHEMA, scope.schema, scope.role)
            await self._run(conn, SET_SEARCH_PATH, scope.role, scope.schema)
        return not exists

    async def drop_scope(self, scope: DatabaseScope) -> None:
        """Drop the tenant's schema with all its tables, then its role."""
        async with (
            self._connection(f"could not drop role/schema {scope.role}") as conn,
            conn.transaction(),
        ):
            await self._run(conn, DROP_SCHEMA, scope.schema)
            await self._run(conn, DROP_ROLE, scope.role)

    async def spend_rows(self, scope: DatabaseScope, tenant: str, since: date) -> list[SpendRow]:
        """The tenant's spend counters from `since` on; none before the runtime's migrations."""
        async with self._connection(f"could not read the spend of {scope.role}") as conn:
            return await _spend_rows(
                conn, await conn.fetchval(SPEND_ROWS, scope.schema), tenant, since
            )

    async def knowledge_rows(
        self, scope: DatabaseScope, tenant: str, agent: str
    ) -> list[KnowledgeRow]:
        """The agent's ingested knowledge sources; none before the runtime's migrations."""
        async with self._connection(f"could not read the knowledge of {scope.role}") as conn:
            return await _knowledge_rows(
                conn, await conn.fetchval(KNOWLEDGE_ROWS, scope.schema), tenant, agent
            )

    async def next_timer(
        self, scope: DatabaseScope, tenant: str, idle: timedelta
    ) -> datetime | None:
        """When the tenant's next conversation timer is due; None when none is set."""
        async with self._connection(f"could not read the timers of {scope.role}") as conn:
            return await _next_timer(
                conn, await conn.fetchval(NEXT_TIMER, scope.schema), tenant, idle
            )


@asynccontextmanager
async def _own_connection(url: SecretStr, *, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A connection with a tenant's own URL (an external database); errors name only a class."""
    try:
        conn = await asyncpg.connect(plain_postgres_url(url.get_secret_value()), timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseUnavailableError(
            f"the tenant's database is unreachable ({type(exc).__name__})"
        ) from None
    try:
        yield conn
    except (asyncpg.PostgresError, OSError) as exc:
        raise DatabaseUnavailableError(
            f"the tenant's database refused a read: {type(exc).__name__}"
        ) from None
    finally:
        await conn.close()


async def _rows_if_migrated(
    conn: asyncpg.Connection, statement: str, *args: object
) -> list[asyncpg.Record]:
    """The statement's rows; none while the runtime has not migrated its tables yet."""
    try:
        rows: list[asyncpg.Record] = await conn.fetch(statement, *args)
    except asyncpg.UndefinedTableError:
        return []
    return rows


async def own_next_timer(
    url: SecretStr, tenant: str, idle: timedelta, *, timeout: float
) -> datetime | None:
    """The next conversation timer in a tenant's external database, read with its own URL."""
    async with _own_connection(url, timeout=timeout) as conn:
        return await _next_timer(conn, OWN_NEXT_TIMER, tenant, idle)


async def _next_timer(
    conn: asyncpg.Connection, statement: str, tenant: str, idle: timedelta
) -> datetime | None:
    rows = await _rows_if_migrated(conn, statement, tenant, idle, OPEN_STATES)
    due = rows[0][0] if rows else None
    return due if isinstance(due, datetime) else None


async def own_spend_rows(
    url: SecretStr, tenant: str, since: date, *, timeout: float
) -> list[SpendRow]:
    """The spend counters in a tenant's external database, read with the tenant's own URL."""
    async with _own_connection(url, timeout=timeout) as conn:
        return await _spend_rows(conn, OWN_SPEND_ROWS, tenant, since)


async def _spend_rows(
    conn: asyncpg.Connection, statement: str, tenant: str, since: date
) -> list[SpendRow]:
    rows = await _rows_if_migrated(conn, statement, tenant, since)
    return [(r[0], r[1], int(r[2]), r[3], int(r[4])) for r in rows]


async def own_knowledge_rows(
    url: SecretStr, tenant: str, agent: str, *, timeout: float
) -> list[KnowledgeRow]:
    """The agent's knowledge sources in a tenant's external database, read with its own URL."""
    async with _own_connection(url, timeout=timeout) as conn:
        return await _knowledge_rows(conn, OWN_KNOWLEDGE_ROWS, tenant, agent)


async def _knowledge_rows(
    conn: asyncpg.Connection, statement: str, tenant: str, agent: str
) -> list[KnowledgeRow]:
    rows = await _rows_if_migrated(conn, statement, tenant, agent)
    return [(r[0], int(r[1]), r[2], r[3]) for r in rows]
