"""Creates the async engine and session factory from a database URL, and counts statements."""

from __future__ import annotations

import weakref
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from wta_runtime import metrics

# Connections live this long at most; a broken one fails its turn, which is retried, instead
# of every checkout paying a round trip to check it.
RECYCLE_SECONDS = 1800


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs too, and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


def create_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pre_ping: bool = True,
    application_name: str = "wta",
) -> AsyncEngine:
    """An engine with a bounded pool, named in `pg_stat_activity` by `application_name`.

    The worker asks for a fixed pool without pre-ping: it sends many statements, and a turn that
    meets a broken connection fails and is retried (the broken connection is dropped).
    """
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=RECYCLE_SECONDS,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    kind = "worker" if application_name.startswith("wta-worker") else "other"
    _COUNTERS[engine.sync_engine] = statements = metrics.DB_STATEMENTS.labels(kind)

    def count_statement(*_: Any) -> None:
        statements.inc()

    event.listen(engine.sync_engine, "before_cursor_execute", count_statement)
    return engine


_COUNTERS: weakref.WeakKeyDictionary[Engine, Counter] = weakref.WeakKeyDictionary()


def statement_counter(engine: AsyncEngine) -> Counter:
    """`wta_db_statements_total` of the engine's kind, for statements run outside SQLAlchemy."""
    counter = _COUNTERS.get(engine.sync_engine)
    if counter is None:
        counter = metrics.DB_STATEMENTS.labels("other")
    return counter


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# One single-statement factory per session factory: the hot path asks for it on every turn.
_SINGLE: weakref.WeakKeyDictionary[
    async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]
] = weakref.WeakKeyDictionary()


def single_statements(
    sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same pool whose statements each commit on their own.

    For reads and for one-statement writes: no BEGIN, COMMIT or ROLLBACK round trips.
    """
    made = _SINGLE.get(sessions)
    if made is None:
        bind = sessions.kw["bind"]
        made = async_sessionmaker(
            bind.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        _SINGLE[sessions] = made
    return made
