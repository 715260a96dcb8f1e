"""Whatever a contact sends is stored and answered: NUL bytes, long names, goodbyes in a burst."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import (
    T0,
    Clock,
    conversation_in,
    conversations_of,
    history,
    inbound,
    messages_of,
)
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.db.delivery import apply_status
from wta_runtime.db.driver import driver
from wta_runtime.db.outbound import mark_sent, save_outbound
from wta_runtime.db.tables import Contact, Message
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.worker.turn_processor import TurnProcessor

LONG_NAME = "Maria " + "da Silva " * 33  # 303 characters: WhatsApp sets no such limit


async def burst(
    processor: TurnProcessor, clock: Clock, contact: str, *texts: str
) -> list[InboundMessage]:
    """Messages 300 ms apart, all stored before the burst window closed; the newest last."""
    messages = [
        inbound(contact, text, at=clock.now + timedelta(milliseconds=300 * i))
        for i, text in enumerate(texts)
    ]
    for message in messages:
        await processor.inbox.store(processor.catalog.by_name("acme-pizza"), message)
    return messages


async def test_a_body_and_profile_name_with_nul_bytes_are_stored_and_answered(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    message = inbound(contact, "a pizza\x00 please", at=clock.now, profile_name="Ana\x00")

    outcome = await processor.handle(message)

    assert outcome.outcome == "replied"
    [stored] = [m for m in await messages_of(sessions, contact) if m.direction == "inbound"]
    assert stored.body == "a pizza\ufffd please"
    assert stored.details["profile_name"] == "Ana\ufffd"
    assert agent.turns[0].user_text == "a pizza\ufffd please"
    assert len(twilio.sent_to(contact)) == 1


async def test_a_300_character_profile_name_is_stored_whole(
    processor: TurnProcessor,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()

    outcome = await processor.handle(inbound(contact, "menu", at=clock.now, profile_name=LONG_NAME))

    assert outcome.outcome == "replied"
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.contact_name == LONG_NAME
    async with sessions() as session:
        saved = await session.get(Contact, ("acme-pizza", conversation.business_number, contact))
    assert saved is not None
    assert saved.profile_name == LONG_NAME
    assert len(twilio.sent_to(contact)) == 1


async def test_an_agent_reply_with_a_nul_byte_is_stored_and_sent(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    agent.default = "we are open\x00 until 23:00"

    outcome = await processor.handle(inbound(contact, "hours", at=clock.now))

    assert outcome.outcome == "replied"
    [reply] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert reply.body == "we are open\ufffd until 23:00"
    assert [m.body for m in twilio.sent_to(contact)] == [reply.body]


async def test_twilio_error_codes_and_reasons_of_any_length_are_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await conversation_in(sessions, "progress")
    async with sessions.begin() as session:
        [part] = await save_outbound(
            session,
            conversation=conversation,
            key="reply:long-error",
            parts=["hi"],
            author="agent",
            agent=None,
            provider="test",
            now=T0,
        )
    await mark_sent(
        driver(sessions),
        message_id=part.id,
        twilio_sid="SMlongerror",
        status="sent",
        now=T0,
        day=T0.date(),
    )
    error_code = "63016-" + "x" * 40

    async with sessions.begin() as session:
        outcome = await apply_status(
            session,
            tenant="acme-pizza",
            twilio_sid="SMlongerror",
            status="failed",
            error_code=error_code,
            now=T0,
        )

    assert outcome == "applied"
    async with sessions() as session:
        stored = await session.get(Message, part.id)
    assert stored is not None
    assert stored.error_code == error_code


async def test_a_question_then_thanks_in_one_burst_is_answered_then_closed(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    *_, thanks = await burst(processor, clock, contact, "what are your opening hours?", "thanks")

    outcome = await processor.handle(thanks)

    assert outcome.outcome == "replied"
    assert agent.turns[0].user_text.splitlines() == ["what are your opening hours?", "thanks"]
    assert [m.body for m in twilio.sent_to(contact)] == ["scripted answer"]
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "user_closed"
    reasons = [h.reason for h in await history(sessions, conversation.id)]
    assert reasons[-2:] == ["first_reply", "user_closing_words"]


async def test_thanks_then_a_question_is_answered_and_stays_open(
    processor: TurnProcessor,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    *_, question = await burst(processor, clock, contact, "thanks", "do you deliver?")

    outcome = await processor.handle(question)

    assert outcome.outcome == "replied"
    assert len(twilio.sent_to(contact)) == 1
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "progress"


async def test_a_burst_of_only_goodbyes_closes_without_a_reply(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    await processor.handle(inbound(contact, "menu", at=clock.now))
    clock.advance(minutes=1)
    *_, bye = await burst(processor, clock, contact, "thanks!", "bye")

    outcome = await processor.handle(bye)

    assert outcome.outcome == "closed_by_user"
    assert len(agent.turns) == 1
    assert len(twilio.sent_to(contact)) == 1
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "user_closed"
