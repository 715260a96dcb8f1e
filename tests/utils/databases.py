"""New empty databases on the test session's PostgreSQL server, for tests that migrate them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.embedded_postgres import create_database


def fresh_database(database_url: str, name: str) -> tuple[str, str]:
    """A new empty database on the session's server: its SQLAlchemy and asyncpg URLs."""
    port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    create_database(port, name, "wta")
    return (
        f"postgresql+asyncpg://wta@127.0.0.1:{port}/{name}",
        f"postgresql://wta@127.0.0.1:{port}/{name}",
    )


@asynccontextmanager
async def migrated_database(
    database_url: str, name: str
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A new database migrated to every head: its SQLAlchemy URL and a connection to it."""
    url, plain_url = fresh_database(database_url, name)
    await asyncio.to_thread(upgrade_database, url)
    connection = await asyncpg.connect(plain_url)
    try:
        yield url, connection
    finally:
        await connection.close()
