"""A redelivered message never sends its reply twice; a reply stored before a crash is sent once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.webhooks import new_contact
from wta_runtime.agents.offline import OfflineAgentProvider
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender, SendError
from wta_runtime.db import conversation_store as store
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.worker.turn_processor import TurnProcessor, reply_key

TIMEOUT = 2.0  # seconds the sender waits for Twilio's answer
SLOW = 3.0  # seconds Twilio takes to act on a send, more than the sender's timeout


@pytest.fixture
async def processor(
    catalog: TenantCatalog, sessions: async_sessionmaker[AsyncSession], twilio: TwilioServer
) -> AsyncIterator[TurnProcessor]:
    sender = OutboundSender(twilio.url)
    yield TurnProcessor(
        catalog=catalog, sessions=sessions, provider=OfflineAgentProvider(), sender=sender
    )
    await sender.close()


def _inbound(contact: str, body: str) -> InboundMessage:
    sid = "SM" + uuid.uuid4().hex
    return InboundMessage(
        tenant="acme-pizza",
        message_sid=sid,
        account_sid="AC00000000000000000000000000000001",
        from_number=f"whatsapp:{contact}",
        to_number="whatsapp:+14155550100",
        body=body,
        received_at=datetime.now(UTC),
    )


async def test_redelivered_message_is_answered_once(
    processor: TurnProcessor, twilio: TwilioServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = new_contact()
    message = _inbound(contact, "menu")

    outcomes = [(await processor.handle(message)).outcome for _ in range(3)]

    assert outcomes == ["replied", "already_replied", "already_replied"]
    assert len(twilio.sent_to(contact)) == 1
    async with sessions() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Conversation)
            .where(Conversation.contact_number == contact)
        )
        conversation = await session.scalar(
            select(Conversation).where(Conversation.contact_number == contact)
        )
    assert rows == 2
    assert conversation is not None
    assert conversation.status == "progress"


async def test_reply_stored_before_a_crash_is_sent_once_with_its_stored_text(
    processor: TurnProcessor,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    message = _inbound(contact, "hours?")
    tenant = catalog.by_name("acme-pizza")
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        conversation = await store.open_conversation(
            session,
            tenant=tenant.name,
            contact=contact,
            business=tenant.numbers[0],
            contact_name=None,
            now=now,
            pending_timeout=tenant.spec.timers.pending,
        )
        await store.record_inbound(
            session,
            conversation=conversation,
            message_sid=message.message_sid,
            body=message.body,
            details={},
            now=now,
        )
        await store.save_reply(
            session,
            conversation=conversation,
            key=reply_key(message.message_sid),
            body="the reply decided before the crash",
            agent="pizza-assistant",
            provider="offline",
            now=now,
        )

    first = await processor.handle(message)
    second = await processor.handle(message)

    assert (first.outcome, second.outcome) == ("replied", "already_replied")
    assert [m.body for m in twilio.sent_to(contact)] == ["the reply decided before the crash"]


async def test_new_message_after_close_opens_a_linked_conversation(
    processor: TurnProcessor, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = new_contact()
    await processor.handle(_inbound(contact, "hi"))
    async with sessions.begin() as session:
        first = await session.scalar(
            select(Conversation).where(Conversation.contact_number == contact)
        )
        assert first is not None
        first.status = "user_closed"

    await processor.handle(_inbound(contact, "hello again"))

    async with sessions() as session:
        rows = (
            await session.scalars(
                select(Conversation)
                .where(Conversation.contact_number == contact)
                .order_by(Conversation.created_at)
            )
        ).all()
    assert [r.status for r in rows] == ["user_closed", "progress"]
    assert rows[1].previous_conversation_id == rows[0].id


async def test_a_send_twilio_acts_on_after_its_timeout_is_adopted_not_sent_twice(
    catalog: TenantCatalog, sessions: async_sessionmaker[AsyncSession], twilio: TwilioServer
) -> None:
    contact = new_contact()
    sender = OutboundSender(twilio.url, timeout=TIMEOUT)
    processor = TurnProcessor(
        catalog=catalog, sessions=sessions, provider=OfflineAgentProvider(), sender=sender
    )
    message = _inbound(contact, "menu")
    # Twilio takes the reply but records it only after the sender has given up on its answer.
    twilio.slow_sends[f"whatsapp:{contact}"] = SLOW
    try:
        with pytest.raises(SendError):
            await processor.handle(message)
        # It reached Twilio at least TIMEOUT before the sender gave up.
        acted_on = time.monotonic() + SLOW - TIMEOUT
        del twilio.slow_sends[f"whatsapp:{contact}"]

        redelivered = await processor.handle(message)  # at once, as a quick retry would
        await asyncio.sleep(acted_on + 0.5 - time.monotonic())  # Twilio has acted on both
    finally:
        twilio.slow_sends.pop(f"whatsapp:{contact}", None)
        await sender.close()

    assert redelivered.outcome == "replied"
    assert len(twilio.sent_to(contact)) == 1
