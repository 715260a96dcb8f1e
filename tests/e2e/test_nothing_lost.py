"""Every accepted message is stored and answered; what the worker gave up on can be replayed."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import httpx
import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from tests.conftest import Platform, TwilioServer
from tests.utils.conversations import conversations_of, messages_of
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.agents.offline import OFFLINE_LABEL
from wta_runtime.catalog import TenantCatalog
from wta_runtime.settings import get_settings
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.dead_letter_commands import dead_letters

WEBHOOK = "/api/v1/twilio/webhook"
TENANT = "acme-pizza"


async def post_webhook(
    platform: Platform, catalog: TenantCatalog, contact: str, body: str, **extra: str
) -> None:
    url = platform.gateway_url
    data, headers = webhook_for(
        catalog.by_name(TENANT), url + WEBHOOK, contact=contact, body=body, **extra
    )
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(WEBHOOK, data=data, headers=headers)
    assert response.status_code == 200, response.text


async def inbound_of(sessions: async_sessionmaker[AsyncSession], contact: str) -> list[str]:
    return [m.body for m in await messages_of(sessions, contact) if m.direction == "inbound"]


async def test_a_signed_webhook_with_a_nul_byte_and_a_300_character_name_is_stored_and_answered(
    platform: Platform,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact, name = new_contact(), "Ana " + "Maria " * 50

    await post_webhook(platform, catalog, contact, "do you\x00 deliver?", profile_name=name)

    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body.startswith(OFFLINE_LABEL)
    assert await inbound_of(sessions, contact) == ["do you\ufffd deliver?"]
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.contact_name == name
    assert conversation.flagged_at is None  # answered by the agent, not by a dead letter


async def test_opening_hours_then_thanks_is_answered_and_then_closed(
    platform: Platform,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()

    await post_webhook(platform, catalog, contact, "what are your opening hours?")
    await asyncio.sleep(0.3)
    await post_webhook(platform, catalog, contact, "thanks")

    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert "11:00" in reply.body
    conversations = await eventually(
        lambda: conversations_of(sessions, contact),
        until=lambda found: bool(found) and found[0].status == "user_closed",
    )
    assert len(conversations) == 1
    await asyncio.sleep(1.0)  # a second reply would have come by now
    assert len(twilio.sent_to(contact)) == 1


async def test_a_dead_letter_is_listed_and_replayed_until_it_is_stored_and_answered(
    platform: Platform,
    nats_url: str,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contact, sid = new_contact(), "SM" + secrets.token_hex(16)
    tenant = catalog.by_name(TENANT)
    lost = InboundMessage(
        tenant=TENANT,
        message_sid=sid,
        account_sid=tenant.account_sid,
        from_number=f"whatsapp:{contact}",
        to_number=f"whatsapp:{tenant.numbers[0]}",
        body="do you deliver?",
        received_at=datetime.now(UTC),
    )
    names = TenantStream(TENANT)
    connection = await nats.connect(nats_url)
    try:  # as a worker that could not store it left it
        await connection.jetstream().publish(
            names.dead_letter_subject,
            lost.model_dump_json().encode(),
            stream=names.dead_letter_stream,
            headers={"Nats-Msg-Id": sid, "Wta-Reason": "DataError: refused", "Wta-Attempts": "5"},
        )
    finally:
        await connection.close()
    monkeypatch.setenv("WTA_NATS_URL", nats_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = await _invoke(runner, ["list", TENANT])
        replayed = await _invoke(runner, ["replay", TENANT, "--sid", sid])
        unknown = await asyncio.to_thread(
            runner.invoke, dead_letters, ["replay", TENANT, "--sid", "SMnone"]
        )
    finally:
        get_settings.cache_clear()

    assert sid in listed
    assert "DataError: refused" in listed
    assert replayed.splitlines() == [f"replayed {sid}", f"1 message(s) replayed to {TENANT}"]
    assert unknown.exit_code == 1
    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body.startswith(OFFLINE_LABEL)
    assert await inbound_of(sessions, contact) == ["do you deliver?"]


async def _invoke(runner: CliRunner, args: list[str]) -> str:
    # The command runs its own event loop: keep it off this test's loop.
    result = await asyncio.to_thread(runner.invoke, dead_letters, args)
    assert result.exit_code == 0, result.output
    return result.output
