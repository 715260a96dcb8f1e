"""Contacts see "typing..." while the bot makes their reply: through the gateway and a worker
process, with the typing indicators recorded by the local Twilio server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import RELAY_TENANT, TYPING_TENANT, EngineWorkers, TwilioServer
from tests.utils.api_clients import tenant_api
from tests.utils.conversations import messages_of
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.conversation.consent import DEFAULT_OPT_OUT_REPLIES
from wta_runtime.db.tables import Message

WEBHOOK = "/api/v1/twilio/webhook"
# Short, so a slow model turn shows renewals without a test that waits 20 s.
RENEW_SECONDS = 1.0


@pytest.fixture(scope="module")
def typing_worker(engine_workers: EngineWorkers) -> EngineWorkers:
    """A worker of the tenant with the typing indicator on, renewing it every second."""
    engine_workers.spawn(
        TYPING_TENANT, "typing-worker", {"WTA_TYPING_RENEW_SECONDS": str(RENEW_SECONDS)}
    )
    return engine_workers


async def say(
    workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    tenant: str,
    contact: str,
    body: str,
) -> str:
    """The contact's message reaches Twilio, then its webhook the gateway; its MessageSid."""
    sid = "SM" + secrets.token_hex(16)
    twilio.receive(catalog.by_name(tenant), sid)
    url = workers.platform.gateway_url
    data, headers = webhook_for(
        catalog.by_name(tenant), url + WEBHOOK, contact=contact, body=body, message_sid=sid
    )
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(WEBHOOK, data=data, headers=headers)
    assert response.status_code == 200
    return sid


async def answered(sessions: async_sessionmaker[AsyncSession], contact: str, body: str) -> str:
    """Wait until the worker settled the contact's message `body`; what answered it."""

    def settled(messages: list[Message]) -> bool:
        return any(m.body == body and m.answered_by for m in messages)

    messages = await eventually(lambda: messages_of(sessions, contact), until=settled)
    return next(m.answered_by for m in messages if m.body == body)


async def test_a_burst_shows_typing_on_its_newest_message_before_the_reply(
    typing_worker: EngineWorkers, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    contact = new_contact()

    sids = [
        await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, text)
        for text in ("hi", "one large pizza", "with olives")
    ]
    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)

    assert set(twilio.typing_on(sids)) == {sids[-1]}
    first = next(t for t in twilio.typing_indicators if t.message_id == sids[-1])
    assert first.at <= reply.date_created


async def test_a_slow_reply_keeps_the_contact_seeing_typing(
    typing_worker: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies.append(
        ScriptedReply(f"{token} worth the wait", delay_seconds=4 * RENEW_SECONDS)
    )

    sid = await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, f"{token} menu?")
    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)

    assert reply.body == f"{token} worth the wait"
    assert len(twilio.typing_on({sid})) >= 2  # shown, then renewed while the model thought


async def test_a_tenant_with_the_indicator_off_shows_no_typing(
    engine_workers: EngineWorkers, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    contact = new_contact()

    sid = await say(engine_workers, catalog, twilio, RELAY_TENANT, contact, "hello")
    await eventually(lambda: twilio.sent_to(contact), until=bool)

    assert twilio.typing_on({sid}) == []


async def test_an_opted_out_contact_never_sees_typing(
    typing_worker: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()

    stop = await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, "STOP")
    await eventually(lambda: twilio.sent_to(contact), until=bool)
    later = await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, "are you there?")

    assert await answered(sessions, contact, "are you there?") == "opted_out"
    assert [m.body for m in twilio.sent_to(contact)] == [DEFAULT_OPT_OUT_REPLIES["en"]]
    assert twilio.typing_on({stop, later}) == []


@pytest.fixture
async def typing_api(
    typing_worker: EngineWorkers, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with tenant_api(typing_worker.platform.gateway_url, sessions, TYPING_TENANT) as client:
        yield client


async def test_no_typing_while_a_person_has_the_conversation(
    typing_worker: EngineWorkers,
    typing_api: httpx.AsyncClient,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    first = await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, "hello")
    await eventually(lambda: twilio.sent_to(contact), until=bool)
    api = f"/api/v1/tenants/{TYPING_TENANT}"
    [conversation] = (
        await typing_api.get(f"{api}/conversations", params={"contact": contact})
    ).json()
    handed = await typing_api.post(
        f"{api}/conversations/{conversation['id']}/handoff", json={"reason": "wants a person"}
    )

    waiting = await say(typing_worker, catalog, twilio, TYPING_TENANT, contact, "anyone there?")

    assert handed.status_code == 200, handed.text
    assert await answered(sessions, contact, "anyone there?") == "with_human"
    assert twilio.typing_on({first}) == [first]  # the bot typed before the person took over
    assert twilio.typing_on({waiting}) == []
