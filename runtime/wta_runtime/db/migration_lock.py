"""The advisory lock that lets one `wta migrate` at a time change a database's schema.

Several runtime pods start at once (replicas, a rolling update, a shared and a dedicated runtime
during a mode move), each with a `migrate` init container against the same database: the lock
makes the others wait, then find the schema at head and do nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("wta.migrate")

# Advisory locks are per database, so one constant key serves every tenant database ("wta_migr").
MIGRATION_LOCK_KEY = 0x7774615F6D696772
DEFAULT_LOCK_TIMEOUT = 600.0
_POLL_INTERVAL = 0.25


class MigrationLockTimeout(RuntimeError):
    """Another migration held the database's migration lock for longer than we would wait."""


@contextmanager
def migration_lock(connection: Connection, timeout: float) -> Iterator[None]:
    """Hold the database's migration lock (session-level) while the block runs."""
    deadline = time.monotonic() + timeout
    waiting = False
    while not connection.scalar(
        text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
    ):
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"another `wta migrate` has held this database's migration lock for more than "
                f"{timeout:g} s; if none is running, look for a session holding advisory lock "
                f"{MIGRATION_LOCK_KEY} in pg_locks, or raise --lock-timeout"
            )
        if not waiting:
            log.info("another migration of this database is running; waiting for it")
            waiting = True
        connection.rollback()
        time.sleep(_POLL_INTERVAL)
    # Session-level, so it outlives the transaction: alembic begins its own next.
    connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
