"""The worker at scale, with real processes: many turns on the model with a small pool, takeover.

A thread (one contact writing to one number) is owned through a lease in PostgreSQL, not a
held connection: hundreds of turns wait on the model with a pool of ten, a killed worker's
threads are taken over when their leases expire, and a worker paused past its lease can no
longer send anything for a thread another worker took.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import threading

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import (
    FENCE_TENANT,
    SCALE_TENANT,
    TAKEOVER_TENANT,
    EngineWorkers,
    TwilioServer,
)
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.local.processes import ManagedProcess

WEBHOOK = "/api/v1/twilio/webhook"
POOL = 10
IN_FLIGHT = 200


async def send_all(
    workers: EngineWorkers, catalog: TenantCatalog, tenant: str, messages: list[tuple[str, str]]
) -> None:
    """Post signed webhooks (contact, body) to the gateway, a few at a time."""
    url = workers.platform.gateway_url
    limit = asyncio.Semaphore(16)

    async def post(client: httpx.AsyncClient, contact: str, body: str) -> None:
        data, headers = webhook_for(
            catalog.by_name(tenant), url + WEBHOOK, contact=contact, body=body
        )
        async with limit:
            response = await client.post(WEBHOOK, data=data, headers=headers)
        assert response.status_code == 200

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(post(client, contact, body) for contact, body in messages))


async def worker_connections(
    sessions: async_sessionmaker[AsyncSession], worker: ManagedProcess
) -> int:
    """PostgreSQL client connections the worker process has open now."""
    assert worker.process is not None
    async with sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE :name"),
            {"name": f"wta-worker %:{worker.process.pid}"},
        )
    return int(count or 0)


def replies_to(twilio: TwilioServer, contacts: list[str]) -> dict[str, list[str]]:
    return {contact: [m.body for m in twilio.sent_to(contact)] for contact in contacts}


def log_of(worker: ManagedProcess) -> str:
    assert worker.log_path is not None
    return worker.log_path.read_text(errors="replace")


@pytest.mark.timeout(180)
async def test_two_hundred_turns_wait_on_the_model_with_at_most_the_configured_pool(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    worker = engine_workers.spawn(
        SCALE_TENANT,
        "scale-worker",
        {"WTA_DATABASE_POOL_SIZE": str(POOL), "WTA_WORKER_CONCURRENCY": "256"},
    )
    contacts = [new_contact() for _ in range(IN_FLIGHT)]
    scripted_model.gate = threading.Event()  # the model answers nobody until we say so
    try:
        await send_all(engine_workers, catalog, SCALE_TENANT, [(c, "menu?") for c in contacts])
        await eventually(
            lambda: scripted_model.in_flight, until=lambda n: n >= IN_FLIGHT, timeout=90
        )

        seen = []
        for _ in range(10):  # every turn is on the model now; look at the pool a few times
            seen.append(await worker_connections(sessions, worker))
            await asyncio.sleep(0.1)
        assert 0 < max(seen) <= POOL
    finally:
        scripted_model.gate.set()
        scripted_model.gate = None

    answered = await eventually(
        lambda: replies_to(twilio, contacts),
        until=lambda replies: all(len(bodies) == 1 for bodies in replies.values()),
        timeout=90,
    )
    assert set(answered) == set(contacts)
    worker.stop()


@pytest.mark.timeout(180)
async def test_a_killed_workers_threads_are_taken_over_and_each_message_answered_once(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    first = engine_workers.spawn(TAKEOVER_TENANT, "takeover-worker-1")
    contacts = [new_contact() for _ in range(8)]
    scripted_model.gate = threading.Event()
    try:
        await send_all(engine_workers, catalog, TAKEOVER_TENANT, [(c, "hi") for c in contacts])
        await eventually(lambda: scripted_model.in_flight, until=lambda n: n >= len(contacts))
        assert first.process is not None
        first.process.kill()  # SIGKILL with every thread owned: no release of any kind
        first.process.wait()
    finally:
        scripted_model.gate.set()
        scripted_model.gate = None
    second = engine_workers.spawn(TAKEOVER_TENANT, "takeover-worker-2")

    await eventually(
        lambda: replies_to(twilio, contacts),
        until=lambda replies: all(replies.values()),
        timeout=60,
    )
    await asyncio.sleep(5.0)  # past the ack wait and the lease: a second reply would be here
    assert all(len(bodies) == 1 for bodies in replies_to(twilio, contacts).values())
    second.stop()


@pytest.mark.timeout(180)
async def test_a_worker_paused_past_its_lease_sends_nothing_for_the_thread_another_took(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    paused = engine_workers.spawn(FENCE_TENANT, "fence-worker-1")
    contact, token = new_contact(), secrets.token_hex(3)
    # The paused worker's model call answers while it is stopped; it reads it when resumed.
    scripted_model.replies.append(ScriptedReply("from the paused worker", delay_seconds=6))

    await send_all(engine_workers, catalog, FENCE_TENANT, [(contact, f"{token} are you there")])
    await eventually(
        lambda: [r for r in scripted_model.requests if token in str(r["messages"][-1])],
        until=bool,
    )
    assert paused.process is not None
    os.kill(paused.process.pid, signal.SIGSTOP)
    try:
        taker = engine_workers.spawn(FENCE_TENANT, "fence-worker-2")
        [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool, timeout=60)
        assert reply.body != "from the paused worker"
    finally:
        os.kill(paused.process.pid, signal.SIGCONT)

    await eventually(lambda: log_of(paused), until=lambda log: "lost the thread" in log, timeout=30)
    await asyncio.sleep(2.0)  # whatever the resumed worker would still do, it would do now
    assert [m.body for m in twilio.sent_to(contact)] == [reply.body]
    assert paused.running()  # it goes on serving other threads
    taker.stop()
    paused.stop()
