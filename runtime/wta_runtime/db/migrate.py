"""Applies the Alembic migrations shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from wta_runtime.db.engine import async_url
from wta_runtime.db.migration_lock import DEFAULT_LOCK_TIMEOUT

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini interpolation would read a '%' in a password as a variable.
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


def upgrade_database(
    database_url: str, revision: str = "heads", lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> None:
    """Bring the schema to `revision`, every branch head by default (blocking; run in a thread).

    Waits up to `lock_timeout` seconds for another migration of the same database to finish
    (`MigrationLockTimeout` after that), then applies only what that one left to do.
    """
    config = alembic_config(database_url)
    config.attributes["lock_timeout"] = lock_timeout
    command.upgrade(config, revision)
