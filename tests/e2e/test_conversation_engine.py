"""The engine with real processes: replicas, bursts, order, delivery status, a worker killed."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import CRASH_TENANT, RELAY_TENANT, EngineWorkers, TwilioServer
from tests.utils.conversations import conversations_of, messages_of
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog

WEBHOOK = "/api/v1/twilio/webhook"


async def send(
    workers: EngineWorkers, catalog: TenantCatalog, tenant: str, contact: str, body: str
) -> None:
    url = workers.platform.gateway_url
    data, headers = webhook_for(catalog.by_name(tenant), url + WEBHOOK, contact=contact, body=body)
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(WEBHOOK, data=data, headers=headers)
    assert response.status_code == 200


def requests_with(model: ScriptedModel, token: str) -> list[dict[str, Any]]:
    return [r for r in model.requests if token in str(r["messages"][-1]["content"])]


async def test_a_burst_of_five_messages_gets_one_reply_that_reads_them_in_order(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    texts = [f"{token} part {i}" for i in range(5)]

    for text in texts:
        await send(engine_workers, catalog, RELAY_TENANT, contact, text)

    await eventually(lambda: twilio.sent_to(contact), until=bool)
    await asyncio.sleep(2.0)  # a second reply would have come by now
    assert len(twilio.sent_to(contact)) == 1
    [request] = requests_with(scripted_model, token)
    assert request["messages"][-1]["content"].splitlines() == texts


async def test_a_message_sent_during_a_turn_is_answered_after_it_with_that_turn_in_memory(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies.append(ScriptedReply(f"{token} first answer", delay_seconds=2.5))

    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} one")
    await eventually(lambda: requests_with(scripted_model, f"{token} one"), until=bool)
    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} two")

    replies = await eventually(lambda: twilio.sent_to(contact), until=lambda r: len(r) == 2)
    assert replies[0].body == f"{token} first answer"
    [second] = requests_with(scripted_model, f"{token} two")
    assert [m["content"] for m in second["messages"][1:]] == [
        f"{token} one",
        f"{token} first answer",
        f"{token} two",
    ]


async def test_different_conversations_are_answered_in_parallel(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    contacts = [new_contact() for _ in range(8)]
    scripted_model.delay_seconds = 1.5  # every model call of this test takes 1.5 s
    scripted_model.most_in_flight = 0

    await asyncio.gather(
        *(send(engine_workers, catalog, RELAY_TENANT, c, "slow question") for c in contacts)
    )
    try:
        await eventually(
            lambda: [twilio.sent_to(c) for c in contacts], until=lambda r: all(r), timeout=20
        )
    finally:
        scripted_model.delay_seconds = 0.0

    # Turns one after another would have the model answer one question at a time.
    assert scripted_model.most_in_flight > 1
    assert all(len(twilio.sent_to(c)) == 1 for c in contacts)


async def test_the_reply_ends_delivered_through_signed_status_callbacks(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()

    await send(engine_workers, catalog, RELAY_TENANT, contact, "menu")

    [sent] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert sent.status_callback == engine_workers.platform.gateway_url + "/api/v1/twilio/status"

    async def reply_status() -> str | None:
        outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
        return outbound[0].delivery_status if outbound else None

    def delivered(status: str | None) -> bool:
        return status == "delivered"

    await eventually(reply_status, until=delivered)


@pytest.mark.timeout(120)
async def test_a_worker_killed_mid_turn_loses_nothing_and_replies_once(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = engine_workers.spawn(CRASH_TENANT, "crash-worker-1")
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies.append(ScriptedReply("never sent", delay_seconds=60))

    await send(engine_workers, catalog, CRASH_TENANT, contact, f"{token} crash test")
    await eventually(lambda: requests_with(scripted_model, token), until=bool)
    assert first.process is not None
    first.process.kill()  # SIGKILL while the model is answering: no cleanup of any kind
    first.process.wait()
    engine_workers.spawn(CRASH_TENANT, "crash-worker-2")

    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool, timeout=30)
    await asyncio.sleep(4.0)  # longer than the ack wait: any redelivery would have replied
    assert [m.body for m in twilio.sent_to(contact)] == [reply.body]
    assert reply.body != "never sent"
    # The killed worker's call and the next worker's; on a starved machine a turn whose lease ran
    # out may ask again, and fencing keeps its answer from leaving (the one reply above).
    assert len(requests_with(scripted_model, token)) >= 2
    stored = await messages_of(sessions, contact)
    assert [m.direction for m in stored] == ["inbound", "outbound"]
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "progress"
