"""A worker killed after handing a reply to Twilio, then a person takes the conversation over:
the bot stays silent, and the part it had attempted is settled, never left `attempted`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import WITHHELD_TENANT, EngineWorkers, TwilioServer
from tests.e2e.test_conversation_engine import send
from tests.utils.api_clients import tenant_api
from tests.utils.conversations import conversations_of, messages_of
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.tables import Message
from wta_runtime.local.twilio_api import RecordedMessage

API = f"/api/v1/tenants/{WITHHELD_TENANT}"


@dataclass
class Takeover:
    """A contact whose reply Twilio recorded while its worker was SIGKILLed, now with a person."""

    contact: str
    held: RecordedMessage


@pytest.fixture
async def taken_over(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> Takeover:
    """The reply reaches Twilio, its worker dies before recording it, then a person takes over."""
    worker = engine_workers.spawn(WITHHELD_TENANT, f"withheld-{secrets.token_hex(2)}")
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies.append(ScriptedReply(f"{token} the bot's reply"))
    twilio.hold_replies_to.add(f"whatsapp:{contact}")
    try:
        await send(engine_workers, catalog, WITHHELD_TENANT, contact, f"{token} hello")
        [held] = await eventually(lambda: twilio.sent_to(contact), until=bool, timeout=30)
        assert worker.process is not None
        worker.process.kill()
        worker.process.wait()
    finally:
        twilio.hold_replies_to.discard(f"whatsapp:{contact}")
    async with tenant_api(engine_workers.platform.gateway_url, sessions, WITHHELD_TENANT) as api:
        found = await api.get(f"{API}/conversations", params={"contact": contact})
        [conversation] = found.json()
        handed = await api.post(
            f"{API}/conversations/{conversation['id']}/handoff", json={"reason": "a person answers"}
        )
    assert handed.json()["status"] == "human_handoff"
    return Takeover(contact, held)


async def _settled_part(
    engine_workers: EngineWorkers, sessions: async_sessionmaker[AsyncSession], contact: str
) -> Message:
    """Start the next worker; the part of the bot's reply once it is no longer `attempted`."""
    worker = engine_workers.spawn(WITHHELD_TENANT, f"withheld-{secrets.token_hex(2)}")
    try:

        async def outbound() -> list[Message]:
            return [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]

        [part] = await eventually(
            outbound, until=lambda p: p[0].delivery_status != "attempted", timeout=60
        )
    finally:
        worker.stop()
    return part


@pytest.mark.timeout(120)
async def test_a_reply_twilio_took_before_the_takeover_is_adopted(
    taken_over: Takeover,
    engine_workers: EngineWorkers,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    part = await _settled_part(engine_workers, sessions, taken_over.contact)

    assert (part.twilio_sid, part.details["adopted"]) == (taken_over.held.sid, True)
    assert [m.sid for m in twilio.sent_to(taken_over.contact)] == [taken_over.held.sid]
    [conversation] = await conversations_of(sessions, taken_over.contact)
    assert conversation.status == "human_handoff"


@pytest.mark.timeout(120)
async def test_a_reply_twilio_never_got_is_marked_not_sent_and_stays_unsent(
    taken_over: Takeover,
    engine_workers: EngineWorkers,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    twilio.messages.remove(taken_over.held)  # as if the request had never reached Twilio

    part = await _settled_part(engine_workers, sessions, taken_over.contact)

    assert (part.delivery_status, part.failure_reason, part.twilio_sid) == (
        "refused",
        "with_human",
        None,
    )
    assert twilio.sent_to(taken_over.contact) == []
