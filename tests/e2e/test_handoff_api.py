"""A person takes over a conversation through the API, replies on WhatsApp, and hands it back;
not to a contact who opted out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import OPENAI_TENANT, RELAY_NUMBER, RELAY_TENANT, EngineWorkers, TwilioServer
from tests.e2e.test_conversation_engine import requests_with, send
from tests.utils.api_clients import tenant_api
from tests.utils.conversations import conversation_in, messages_of
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.conversation.consent import DEFAULT_OPT_IN_REPLIES, DEFAULT_OPT_OUT_REPLIES
from wta_runtime.db.api_keys import issue_api_key, revoke_api_key

API = f"/api/v1/tenants/{RELAY_TENANT}"


@pytest.fixture
async def api(
    engine_workers: EngineWorkers, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway carrying a fresh API key of relay-pizza."""
    async with tenant_api(engine_workers.platform.gateway_url, sessions, RELAY_TENANT) as c:
        yield c


async def test_the_full_handoff_round_trip(
    api: httpx.AsyncClient,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} hello")
    await eventually(lambda: twilio.sent_to(contact), until=bool)
    [conversation] = (await api.get(f"{API}/conversations", params={"contact": contact})).json()
    path = f"{API}/conversations/{conversation['id']}"

    handed = await api.post(f"{path}/handoff", json={"reason": "wants a refund"})
    queue = (await api.get(f"{API}/handoffs")).json()
    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} are you there")
    assigned = await api.post(f"{path}/assign", json={"staff": "ana"})
    human = await api.post(
        f"{path}/replies",
        json={"text": "Hi, I am Ana. Refund done.", "media_urls": ["https://example.com/r.pdf"]},
    )

    assert handed.json()["status"] == "human_handoff"
    assert conversation["id"] in [c["id"] for c in queue]
    assert assigned.json()["assigned_to"] == "ana"
    assert human.status_code == 201
    assert human.json()["sent"] == 1
    await asyncio.sleep(2.0)  # the bot had time to answer "are you there", and must not
    bodies = [m.body for m in twilio.sent_to(contact)]
    assert bodies[1:] == ["Hi, I am Ana. Refund done."]
    assert twilio.sent_to(contact)[-1].from_ == f"whatsapp:{RELAY_NUMBER}"
    assert twilio.sent_to(contact)[-1].media_urls == ["https://example.com/r.pdf"]
    assert requests_with(scripted_model, f"{token} are you there") == []

    released = await api.post(f"{path}/release")
    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} do you deliver")
    await eventually(lambda: twilio.sent_to(contact), until=lambda sent: len(sent) == 3)

    assert released.json()["status"] == "progress"
    assert released.json()["assigned_to"] is None
    [request] = requests_with(scripted_model, f"{token} do you deliver")
    history = [m["content"] for m in request["messages"][1:]]
    # The bot remembers what the person wrote and the file they sent.
    support = "(support) Hi, I am Ana. Refund done.\n[sent a file: https://example.com/r.pdf]"
    assert support in history
    assert request["messages"][-1]["content"].startswith("[note: A person from the business")
    messages = (await api.get(f"{path}/messages")).json()
    assert [(m["direction"], m["author"]) for m in messages] == [
        ("inbound", "user"),
        ("outbound", "agent"),
        ("inbound", "user"),
        ("outbound", "support"),
        ("inbound", "user"),
        ("outbound", "agent"),
    ]
    stored = {m.body: m for m in await messages_of(sessions, contact)}
    assert stored[f"{token} are you there"].answered_by == "with_human"

    closed = await api.post(f"{path}/close")
    moves = (await api.get(f"{path}/history")).json()

    assert closed.json()["status"] == "support_closed"
    assert [(m["from_status"], m["to_status"]) for m in moves] == [
        (None, "pending"),
        ("pending", "progress"),
        ("progress", "human_handoff"),
        ("human_handoff", "progress"),
        ("progress", "support_closed"),
    ]
    assert (await api.post(f"{path}/release")).status_code == 409


async def test_api_keys_are_scoped_to_their_tenant(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        other_key = await issue_api_key(
            session, tenant=OPENAI_TENANT, name="other", now=datetime.now(UTC)
        )
        revoked_key = await issue_api_key(
            session, tenant=RELAY_TENANT, name="old", now=datetime.now(UTC)
        )
        await revoke_api_key(session, tenant=RELAY_TENANT, name="old", now=datetime.now(UTC))
    relay_conversation = await conversation_in(sessions, "progress", tenant=RELAY_TENANT)
    url = f"{API}/conversations"

    anonymous = await api.get(url, headers={"Authorization": ""})
    wrong = await api.get(url, headers={"Authorization": "Bearer wta_not-a-key"})
    revoked = await api.get(url, headers={"Authorization": f"Bearer {revoked_key}"})
    foreign = await api.get(url, headers={"Authorization": f"Bearer {other_key}"})
    cross = await api.get(
        f"/api/v1/tenants/{OPENAI_TENANT}/conversations/{relay_conversation.id}",
        headers={"Authorization": f"Bearer {other_key}"},
    )

    assert [anonymous.status_code, wrong.status_code, revoked.status_code] == [401, 401, 401]
    assert foreign.status_code == 403
    assert cross.status_code == 404  # another tenant's conversation does not exist for this key


async def test_after_stop_a_persons_reply_is_refused_until_the_contact_writes_start(
    api: httpx.AsyncClient,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    await send(engine_workers, catalog, RELAY_TENANT, contact, "Stop")
    await eventually(lambda: twilio.sent_to(contact), until=bool)
    await send(engine_workers, catalog, RELAY_TENANT, contact, f"{token} anyone there?")
    await eventually(
        lambda: messages_of(sessions, contact),
        until=lambda stored: any(m.answered_by == "opted_out" for m in stored),
    )
    [conversation] = (await api.get(f"{API}/conversations", params={"contact": contact})).json()
    path = f"{API}/conversations/{conversation['id']}"
    handed = await api.post(f"{path}/handoff", json={"reason": "complaint"})

    refused = await api.post(f"{path}/replies", json={"text": "Hi, I am Ana"})
    consent = (await api.get(f"{API}/contacts/{contact}/consent")).json()

    assert handed.status_code == 200
    assert refused.status_code == 409
    assert "opted out" in refused.json()["detail"]
    assert "keyword STOP (en)" in refused.json()["detail"]
    assert [m.body for m in twilio.sent_to(contact)] == [DEFAULT_OPT_OUT_REPLIES["en"]]
    assert requests_with(scripted_model, f"{token} anyone there?") == []
    assert [m for m in await messages_of(sessions, contact) if m.author == "support"] == []
    assert consent["opted_out"] is True
    assert [(e["kind"], e["reason"]) for e in consent["events"]] == [
        ("opt_out", "keyword STOP (en)")
    ]

    await send(engine_workers, catalog, RELAY_TENANT, contact, "START")
    await eventually(lambda: twilio.sent_to(contact), until=lambda sent: len(sent) == 2)
    answered = await api.post(f"{path}/replies", json={"text": "Hi, I am Ana"})

    assert answered.status_code == 201
    assert [m.body for m in twilio.sent_to(contact)][1:] == [
        DEFAULT_OPT_IN_REPLIES["en"],
        "Hi, I am Ana",
    ]
    consent = (await api.get(f"{API}/contacts/{contact}/consent")).json()
    assert consent["opted_out"] is False
    assert [e["kind"] for e in consent["events"]] == ["opt_out", "opt_in"]


async def test_the_consent_of_a_malformed_number_is_a_clear_422(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{API}/contacts/not-a-number/consent")

    assert response.status_code == 422
    assert "pattern" in str(response.json()["detail"])
