"""Alembic environment: runs migrations over the async engine given by `wta migrate`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from wta_runtime.db.engine import create_engine
from wta_runtime.db.migration_lock import DEFAULT_LOCK_TIMEOUT, hold_migration_lock
from wta_runtime.db.tables import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    timeout = context.config.attributes.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        hold_migration_lock(connection, timeout)
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


url = context.config.get_main_option("sqlalchemy.url")
assert url, "wta migrate sets sqlalchemy.url"
if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async(url))
