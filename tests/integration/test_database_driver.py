"""The hot path's driver keeps pool connections between statements, and gives them back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from wta_runtime.db.driver import DATABASE_ERRORS, Sql, dispose, driver
from wta_runtime.db.engine import create_engine, session_factory

APPLICATION = "wta-driver-test"
SLEEP = Sql("SELECT pg_sleep(:seconds)")
ONE = Sql("SELECT 1")
DIVIDE = Sql("SELECT 1 / :zero")


@pytest.fixture
async def small_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        database_url, pool_size=2, max_overflow=0, pre_ping=False, application_name=APPLICATION
    )
    yield engine
    await dispose(engine)


async def server_connections(database_url: str) -> int:
    """The connections PostgreSQL holds open for the test's engine."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", APPLICATION
        )
        return count
    finally:
        await conn.close()


async def wait_for_count(database_url: str, expected: int) -> int:
    """The server's count once it reaches `expected`, or the last one seen after ~5 s."""
    count = -1
    for _ in range(100):
        count = await server_connections(database_url)
        if count == expected:
            break
        await asyncio.sleep(0.05)
    return count


async def test_a_session_gets_a_connection_while_the_driver_is_never_idle(
    small_engine: AsyncEngine,
) -> None:
    sessions = session_factory(small_engine)
    db = driver(sessions)
    stop, warm = asyncio.Event(), asyncio.Event()
    statements = 0

    async def busy() -> None:
        nonlocal statements
        while not stop.is_set():
            await db.fetchval(SLEEP, seconds=0.01)
            statements += 1
            if statements == 20:
                warm.set()

    loops = [asyncio.create_task(busy()) for _ in range(4)]
    try:
        await warm.wait()

        async def session_statement() -> int:
            async with sessions() as session:
                return int((await session.execute(text("SELECT 42"))).scalar_one())

        # A bound on starvation, not a speed: the driver's statements never pause.
        assert await asyncio.wait_for(session_statement(), timeout=30) == 42
        assert not any(loop.done() for loop in loops)
    finally:
        stop.set()
        await asyncio.gather(*loops)


async def test_kept_connections_go_back_to_the_pool_once_unused(
    small_engine: AsyncEngine,
) -> None:
    db = driver(session_factory(small_engine))
    assert await asyncio.gather(*(db.fetchval(ONE) for _ in range(10))) == [1] * 10
    for _ in range(100):
        if small_engine.sync_engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.05)
    assert small_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", ["dispose", "engine.dispose"])
async def test_disposing_the_engine_closes_what_the_driver_kept(
    database_url: str, how: str
) -> None:
    engine = create_engine(
        database_url, pool_size=3, max_overflow=0, pre_ping=False, application_name=APPLICATION
    )
    db = driver(session_factory(engine))
    await asyncio.gather(*(db.fetchval(SLEEP, seconds=0.05) for _ in range(3)))
    if how == "dispose":
        await dispose(engine)
    else:
        await engine.dispose()
    assert await wait_for_count(database_url, 0) == 0


async def test_a_failed_statement_leaves_its_connection_usable(
    small_engine: AsyncEngine,
) -> None:
    db = driver(session_factory(small_engine))
    with pytest.raises(asyncpg.DivisionByZeroError):
        await db.fetchval(DIVIDE, zero=0)
    assert await db.fetchval(ONE) == 1


async def test_a_connection_the_server_closed_is_dropped(
    small_engine: AsyncEngine, database_url: str
) -> None:
    db = driver(session_factory(small_engine))
    assert await db.fetchval(ONE) == 1
    killer = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            APPLICATION,
        )
    finally:
        await killer.close()
    # One of the errors callers take for "the database is away" (asyncpg has several).
    with pytest.raises(DATABASE_ERRORS):
        await db.fetchval(ONE)
    assert await db.fetchval(ONE) == 1
