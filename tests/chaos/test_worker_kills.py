"""Worker processes SIGKILLed 200 times at random points under a steady load of new contacts, each
replaced at once: every accepted message is answered exactly once (0 lost, 0 duplicates), counted
at the Twilio server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from functools import partial
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.chaos.forked_workers import ForkedWorkers
from tests.chaos.stack import ChaosPlatform, chaos_platform, gateway_client, steady_load
from tests.conftest import SCALE_TENANT
from tests.utils.waiting import eventually
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.engine import create_engine
from wta_runtime.worker.settling import fallback_text

KILLS = 200
# Seconds between kills, each of a random replica. A worker needs about 0.7 s to start on a busy
# 2-core machine, and a message it was handling waits for the ack wait and its thread's lease:
# seven replicas let each live about 3.5 s, so a message is cut off a few times at most, not
# more times than its attempts (then it would be dead-lettered, the contact getting the fallback).
KILL_EVERY = (0.2, 0.8)
REPLICAS = 7
# Spread over the killing (about 140 s with the restarts), so messages keep arriving meanwhile.
MESSAGES, PER_SECOND = 200, 1.5
ACK_WAIT, LEASE = 5.0, 6.0
WORKER_ENV = {
    "WTA_STREAM_ACK_WAIT_SECONDS": str(ACK_WAIT),
    "WTA_THREAD_LEASE_SECONDS": str(LEASE),
    # A worker killed during a turn spends an attempt (production: 5); kills this dense need more.
    # Not 9: the give-up itself needs deliveries left before JetStream's cap of 10.
    "WTA_WORKER_MAX_ATTEMPTS": "8",
    "WTA_WORKER_RETRY_DELAYS": "[0.2, 0.5]",
    "WTA_WORKER_METRICS_PORT": "0",
    "WTA_DATABASE_POOL_SIZE": "4",  # seven replicas and the killed ones' backends on one PostgreSQL
}


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, manifests_dir: Path, catalog: TenantCatalog
) -> Iterator[ChaosPlatform]:
    with chaos_platform(
        tmp_path_factory.mktemp("chaos-kills"),
        manifests_dir,
        catalog,
        tenant=SCALE_TENANT,
        worker_env=WORKER_ENV,
        start_worker=False,
    ) as started:
        yield started


async def kill_repeatedly(workers: ForkedWorkers, rng: random.Random) -> list[BaseProcess]:
    """`KILLS` times: SIGKILL a random replica at a random moment and start its replacement.

    A replica is killed only once it consumes: on a machine slower than the one the cadence was
    set on, kills then come as fast as workers start, rather than replicas dying before they
    ever take a message (which would leave too few to answer within the attempts).
    """
    running = [workers.start() for _ in range(REPLICAS)]
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(*KILL_EVERY))
        victim = rng.randrange(REPLICAS)
        await eventually(partial(workers.consuming, running[victim]), until=bool, timeout=60)
        await asyncio.to_thread(workers.kill, running[victim])
        running[victim] = await asyncio.to_thread(workers.start)
    return running


async def adopted_parts(database_url: str) -> int:
    """Parts found at Twilio after a kill instead of being sent again (the window hit)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM messages WHERE details ? 'adopted'")
            )
    finally:
        await engine.dispose()
    return int(found or 0)


@pytest.mark.timeout(290)
async def test_200_worker_kills_under_load_lose_nothing_and_send_nothing_twice(
    platform: ChaosPlatform, catalog: TenantCatalog, tmp_path: Path
) -> None:
    tenant = catalog.by_name(SCALE_TENANT)
    seed = random.randrange(2**32)
    workers = ForkedWorkers(platform.worker_env, tmp_path)
    started = time.monotonic()
    async with gateway_client(platform) as client:
        posts, running = await asyncio.gather(
            steady_load(client, tenant, count=MESSAGES, per_second=PER_SECOND, body="menu?"),
            kill_repeatedly(workers, random.Random(seed)),
        )
    killing = time.monotonic() - started
    contacts = [p.contact for p in posts]
    try:
        await eventually(
            lambda: [c for c in contacts if not platform.sent_to(c)],
            until=lambda missing: not missing,
            timeout=90,
        )
        # Past the ack wait and a dead worker's lease: a late redelivery would have sent by now.
        await asyncio.sleep(ACK_WAIT + LEASE)
    finally:
        for worker in running:
            workers.stop(worker)
    replies = {c: len(platform.sent_to(c)) for c in contacts}
    lost = sum(1 for n in replies.values() if n == 0)
    duplicates = sum(n - 1 for n in replies.values() if n > 1)
    adopted = await adopted_parts(platform.database_url)
    print(
        f"\nworker kills: {KILLS} SIGKILLs in {killing:.0f}s (seed {seed}), {len(posts)} "
        f"messages, {lost} lost, {duplicates} duplicates, {adopted} parts adopted at Twilio, "
        f"{time.monotonic() - started:.0f}s in all"
    )
    assert {p.status for p in posts} == {200}
    assert (lost, duplicates) == (0, 0)
    fallback = fallback_text(tenant, tenant.default_agent())
    assert not [m for m in platform.messages if m.body == fallback]
