"""The advisory lock that lets one `wta migrate` at a time change a database's schema.

Several runtime pods start at once (replicas, a rolling update, a shared and a dedicated runtime
during a mode move), each with a `migrate` init container against the same database: the lock
makes the others wait, then find the schema at head and do nothing.

The lock is transaction-level, taken in the one transaction alembic runs every migration in:
released by its commit or rollback, and safe behind PgBouncer's transaction pooling, where a
session-level lock could stay held on a server connection after the pod that took it died.
A migration must therefore not commit halfway (`op.get_context().autocommit_block()`).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("wta.migrate")

# Advisory locks are per database, so one constant key serves every tenant database ("wta_migr").
MIGRATION_LOCK_KEY = 0x7774615F6D696772
DEFAULT_LOCK_TIMEOUT = 600.0
_POLL_INTERVAL = 0.25
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")


class MigrationLockTimeout(RuntimeError):
    """Another migration held the database's migration lock for longer than we would wait."""


def hold_migration_lock(connection: Connection, timeout: float) -> None:
    """Take the database's migration lock until the current transaction ends."""
    deadline = time.monotonic() + timeout
    waiting = False
    while not connection.scalar(_TRY_LOCK, {"key": MIGRATION_LOCK_KEY}):
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"another `wta migrate` has held this database's migration lock for more than "
                f"{timeout:g} s; if none is running, look for a session holding advisory lock "
                f"{MIGRATION_LOCK_KEY} in pg_locks, or raise --lock-timeout"
            )
        if not waiting:
            log.info("another migration of this database is running; waiting for it")
            waiting = True
        time.sleep(_POLL_INTERVAL)
