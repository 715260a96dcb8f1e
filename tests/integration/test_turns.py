"""One turn of a conversation against real PostgreSQL and the local Twilio API, on a test clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import (
    ACME_NUMBER,
    Clock,
    conversations_of,
    history,
    inbound,
    messages_of,
    processor_for,
)
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.agents.model_calls import ModelFailure
from wta_runtime.agents.turn import AgentAction, AgentReply
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.scheduler.sweeps import idle_conversations
from wta_runtime.worker.turn_processor import TurnProcessor


async def test_a_burst_of_messages_gets_one_reply_that_reads_them_all_in_order(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    burst = [
        inbound(contact, text, at=clock.now + timedelta(milliseconds=300 * i))
        for i, text in enumerate(["hi", "I want a pizza", "a big one", "with olives", "thanks?"])
    ]

    for message in burst:  # all arrived before the window closed (real timing: tests/e2e)
        await processor.inbox.store(processor.catalog.by_name("acme-pizza"), message)

    outcomes = await asyncio.gather(*(processor.handle(m) for m in reversed(burst)))

    assert sorted(o.outcome for o in outcomes) == ["already_replied"] * 4 + ["replied"]
    assert len(agent.turns) == 1
    assert agent.turns[0].user_text.splitlines() == [
        "hi",
        "I want a pizza",
        "a big one",
        "with olives",
        "thanks?",
    ]
    assert [m.body for m in twilio.sent_to(contact)] == ["scripted answer"]
    stored = await messages_of(sessions, contact)
    reply_key = f"reply:{burst[-1].message_sid}"
    assert [m.answered_by for m in stored if m.direction == "inbound"] == [reply_key] * 5


async def test_messages_after_the_reply_start_a_new_turn_with_history(
    processor: TurnProcessor, agent: ScriptedAgent, clock: Clock, twilio: TwilioServer
) -> None:
    contact = new_contact()
    await processor.handle(inbound(contact, "menu", at=clock.now))
    clock.advance(minutes=1)

    await processor.handle(inbound(contact, "the second one", at=clock.now))

    assert len(twilio.sent_to(contact)) == 2
    second = agent.turns[1]
    assert [(h.role, h.text) for h in second.history] == [
        ("user", "menu"),
        ("assistant", "scripted answer"),
    ]
    assert second.user_text == "the second one"


async def test_closing_words_close_the_conversation_without_a_reply(
    processor: TurnProcessor,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    await processor.handle(inbound(contact, "menu", at=clock.now))
    clock.advance(minutes=1)

    outcome = await processor.handle(inbound(contact, "Valeu, tchau!", at=clock.now))

    assert outcome.outcome == "closed_by_user"
    assert len(twilio.sent_to(contact)) == 1
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "user_closed"
    assert [h.reason for h in await history(sessions, conversation.id)][-1] == "user_closing_words"


async def test_a_contact_returning_from_idle_resumes_progress(
    processor: TurnProcessor,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    await processor.handle(inbound(contact, "menu", at=clock.now))
    clock.advance(minutes=16)
    async with sessions.begin() as session:
        await idle_conversations(
            session, tenant="acme-pizza", now=clock.now, idle=timedelta(minutes=15)
        )

    await processor.handle(inbound(contact, "still there", at=clock.now))

    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "progress"
    moves = [(h.from_status, h.to_status) for h in await history(sessions, conversation.id)]
    assert moves[-2:] == [("progress", "idle_timeout"), ("idle_timeout", "progress")]
    assert len(twilio.sent_to(contact)) == 2


async def test_the_agent_can_hand_over_to_a_person_and_the_bot_then_stays_quiet(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent.script.append(
        AgentReply(
            "A person will answer you here.",
            "scripted",
            actions=(AgentAction("handoff_to_human", "wants a refund"),),
        )
    )
    contact = new_contact()

    handed = await processor.handle(inbound(contact, "I want a refund", at=clock.now))
    clock.advance(minutes=1)
    quiet = await processor.handle(inbound(contact, "hello?", at=clock.now))

    assert (handed.outcome, quiet.outcome) == ("replied", "with_human")
    assert [m.body for m in twilio.sent_to(contact)] == ["A person will answer you here."]
    assert len(agent.turns) == 1
    [conversation] = await conversations_of(sessions, contact)
    assert (conversation.status, conversation.handoff_reason) == ("human_handoff", "wants a refund")


async def test_a_long_reply_is_sent_in_whatsapp_sized_parts_in_order(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    paragraphs = [f"Part {i}: " + "pizza " * 200 for i in range(3)]
    agent.script.append(AgentReply("\n\n".join(p.strip() for p in paragraphs), "scripted"))
    contact = new_contact()

    await processor.handle(inbound(contact, "tell me everything", at=clock.now))

    sent = [m.body for m in twilio.sent_to(contact)]
    assert [body.split(":")[0] for body in sent] == ["Part 0", "Part 1", "Part 2"]
    assert all(len(body) <= 1600 for body in sent)
    outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert [m.details["part"] for m in outbound] == [1, 2, 3]
    assert {m.delivery_status for m in outbound} == {"queued"}


async def test_a_tapped_button_is_given_to_the_agent(
    processor: TurnProcessor, agent: ScriptedAgent, clock: Clock
) -> None:
    contact = new_contact()

    await processor.handle(
        inbound(contact, "Yes", at=clock.now, button=("Yes, confirm", "confirm_order_42"))
    )

    assert agent.turns[0].user_text == (
        'Yes\n[tapped the button "Yes, confirm" (payload: confirm_order_42)]'
    )


async def test_the_agent_can_close_the_conversation_after_its_reply(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent.script.append(
        AgentReply("Enjoy!", "scripted", actions=(AgentAction("close_conversation", "done"),))
    )
    contact = new_contact()

    await processor.handle(inbound(contact, "that is all", at=clock.now))

    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "agent_closed"
    assert [m.body for m in twilio.sent_to(contact)] == ["Enjoy!"]
    moves = [h.to_status for h in await history(sessions, conversation.id)]
    assert moves == ["pending", "progress", "agent_closed"]


async def test_a_broken_model_gets_the_fallback_and_a_flag_a_busy_one_is_retried(
    processor: TurnProcessor,
    agent: ScriptedAgent,
    clock: Clock,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    busy, broken = new_contact(), new_contact()
    agent.script.append(ModelFailure("server_error", "503 from the model"))

    with pytest.raises(ModelFailure):
        await processor.handle(inbound(busy, "hi", at=clock.now))
    agent.script.append(ModelFailure("rejected", "400 context too long"))
    await processor.handle(inbound(broken, "hi", at=clock.now))

    assert twilio.sent_to(busy) == []  # nothing sent: the consumer retries the message later
    [reply] = twilio.sent_to(broken)
    assert reply.body.startswith("Sorry")
    [conversation] = await conversations_of(sessions, broken)
    assert conversation.flag_reason == "agent_failed"


async def test_two_replicas_handling_the_same_message_send_one_reply(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    sender: OutboundSender,
    clock: Clock,
    twilio: TwilioServer,
) -> None:
    from wta_runtime.db.engine import create_engine, session_factory

    other_engine = create_engine(database_url)
    try:
        agent_a, agent_b = ScriptedAgent(default="from A"), ScriptedAgent(default="from B")
        replica_a = processor_for(catalog, sessions, agent_a, sender, clock)
        replica_b = processor_for(catalog, session_factory(other_engine), agent_b, sender, clock)
        contact = new_contact()
        message = inbound(contact, "menu", at=clock.now)

        outcomes = await asyncio.gather(replica_a.handle(message), replica_b.handle(message))
    finally:
        await other_engine.dispose()

    assert sorted(o.outcome for o in outcomes) == ["already_replied", "replied"]
    assert len(agent_a.turns) + len(agent_b.turns) == 1
    assert len(twilio.sent_to(contact)) == 1


async def test_a_reply_to_a_closed_conversation_moves_to_the_next_one(
    processor: TurnProcessor,
    clock: Clock,
    sessions: async_sessionmaker[AsyncSession],
    twilio: TwilioServer,
) -> None:
    contact = new_contact()
    first = inbound(contact, "hello", at=clock.now)
    await processor.inbox.store(processor.catalog.by_name("acme-pizza"), first)
    [conversation] = await conversations_of(sessions, contact)
    async with sessions.begin() as session:
        from wta_runtime.conversation.lifecycle import State
        from wta_runtime.db.transitions import transition

        await transition(session, conversation.id, State.EXPIRED, reason="test", now=clock.now)

    assert (await processor.handle(first)).outcome == "replied"

    closed, successor = await conversations_of(sessions, contact)
    assert (closed.status, successor.status) == ("expired", "progress")
    assert successor.previous_conversation_id == closed.id
    assert len(twilio.sent_to(contact)) == 1
    assert ACME_NUMBER in twilio.sent_to(contact)[0].from_


async def test_a_contacts_message_is_stored_once_and_opens_their_24_hour_window(
    processor: TurnProcessor, clock: Clock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy import select

    from wta_runtime.db.tables import Contact

    contact = new_contact()
    message = inbound(contact, "hello", at=clock.now)
    tenant = processor.catalog.by_name("acme-pizza")

    first = await processor.inbox.store(tenant, message)
    clock.advance(minutes=5)
    again = await processor.inbox.store(tenant, message)  # a redelivery stores nothing new

    assert again.id == first.id
    [conversation] = await conversations_of(sessions, contact)
    async with sessions() as session:
        row = await session.scalar(select(Contact).where(Contact.contact_number == contact))
    assert row is not None
    assert row.last_inbound_at == conversation.last_inbound_at == clock.now - timedelta(minutes=5)
    assert row.profile_name == conversation.contact_name


async def test_a_first_message_opens_a_pending_conversation_with_its_history(
    processor: TurnProcessor, clock: Clock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from wta_runtime.conversation.lifecycle import State
    from wta_runtime.db.transitions import transition

    contact = new_contact()
    tenant = processor.catalog.by_name("acme-pizza")
    await processor.inbox.store(tenant, inbound(contact, "hello", at=clock.now))
    [first] = await conversations_of(sessions, contact)
    async with sessions.begin() as session:
        await transition(session, first.id, State.EXPIRED, reason="test", now=clock.now)
    clock.advance(minutes=1)
    await processor.inbox.store(tenant, inbound(contact, "back again", at=clock.now))

    older, newer = await conversations_of(sessions, contact)
    assert (older.id, older.status, newer.status) == (first.id, "expired", "pending")
    assert newer.previous_conversation_id == older.id
    assert [(c.from_status, c.to_status, c.reason) for c in await history(sessions, newer.id)] == [
        (None, "pending", "first_inbound_message")
    ]
