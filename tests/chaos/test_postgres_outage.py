"""PostgreSQL SIGKILLed and restarted under steady load: the gateway keeps accepting (it needs no
database for webhooks), the worker and the scheduler recover without a restart of their own,
every accepted message is answered exactly once, and replies flow again within 10 s."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.chaos.stack import (
    ChaosPlatform,
    chaos_platform,
    count_replies,
    first_reply_after,
    gateway_client,
    outage,
    steady_load,
)
from tests.conftest import SCALE_TENANT
from tests.utils.conversations import conversations_of
from tests.utils.waiting import eventually
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.tables import Conversation

# Production's retry delays (1, 2, 5, 10, 30 s): a few seconds of database outage is retried,
# not dead-lettered. Short lease and ack wait so a turn cut off mid-way is taken over quickly.
WORKER_ENV = {"WTA_STREAM_ACK_WAIT_SECONDS": "3", "WTA_THREAD_LEASE_SECONDS": "4"}


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, manifests_dir: Path, catalog: TenantCatalog
) -> Iterator[ChaosPlatform]:
    with chaos_platform(
        tmp_path_factory.mktemp("chaos-postgres"),
        manifests_dir,
        catalog,
        tenant=SCALE_TENANT,
        worker_env=WORKER_ENV,
    ) as started:
        yield started


async def test_postgres_killed_under_load_loses_nothing_and_every_process_recovers_by_itself(
    platform: ChaosPlatform, catalog: TenantCatalog
) -> None:
    tenant = catalog.by_name(SCALE_TENANT)
    stop = asyncio.Event()
    sampler = asyncio.create_task(count_replies(platform, stop))
    async with gateway_client(platform) as client:
        posts, down = await asyncio.gather(
            steady_load(client, tenant, count=60, per_second=5, body="menu?"),
            outage(platform.postgres, after=3, down_for=3),
        )
    await eventually(
        lambda: [p for p in posts if not platform.sent_to(p.contact)],
        until=lambda missing: not missing,
        timeout=40,
    )
    await asyncio.sleep(4)  # past the ack wait: a redelivery would have sent again by now
    stop.set()
    samples = await sampler

    back = first_reply_after(samples, down.back_at)
    all_answered = max(at for at, count in samples if count < len(posts)) - down.back_at
    print(
        f"\nPostgreSQL outage: {len(posts)} webhooks, down {down.back_at - down.killed_at:.1f}s, "
        f"first reply {back:.2f}s and every reply {all_answered:.1f}s after the restart"
    )
    assert {p.status for p in posts} == {200}
    assert {p.contact: len(platform.sent_to(p.contact)) for p in posts} == {
        p.contact: 1 for p in posts
    }
    assert not [m for m in platform.messages if m.body.startswith("Sorry")]  # no fallback
    assert back < 10
    assert all(process.running() for process in platform.processes)
    await _scheduler_still_moves_conversations(platform, posts[0].contact)


async def _scheduler_still_moves_conversations(platform: ChaosPlatform, contact: str) -> None:
    engine = create_engine(platform.database_url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.contact_number == contact)
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )

        async def statuses() -> list[str]:
            return [c.status for c in await conversations_of(sessions, contact)]

        def expired(found: list[str]) -> bool:
            return found == ["expired"]

        await eventually(statuses, until=expired, timeout=10)
    finally:
        await engine.dispose()
