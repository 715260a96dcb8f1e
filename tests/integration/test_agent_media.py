"""Replies with files: send_media reaches Twilio as MediaUrl, stored first, sent once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import (
    Clock,
    conversations_of,
    inbound,
    messages_of,
    processor_for,
)
from tests.utils.flaky_twilio import FlakyTwilio
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.model_calls import RetryBudget
from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.agents.turn import AgentReply
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender, SendError


@pytest.fixture
async def runtime(
    manifests_dir: Path,
    sessions: async_sessionmaker[AsyncSession],
    openai_url: str,
    scripted_model: ScriptedModel,
) -> AsyncIterator[AgentRuntime]:
    """The agent runtime on the example agent (its menu photo), asking the scripted model."""
    created = AgentRuntime(
        # As the worker loads it: the manifests' own Secrets resolved (claude-pizza's key).
        catalog=load_agent_catalog(manifests_dir),
        sessions=sessions,
        platform_api_key=SecretStr("sk-test-local"),
        platform_base_url=openai_url,
        budget=RetryBudget(attempts=1),
    )
    scripted_model.replies.clear()
    yield created
    scripted_model.replies.clear()
    await created.close()


def _menu_url(catalog: TenantCatalog) -> str:
    agent = catalog.by_name("acme-pizza").default_agent()
    assert agent is not None
    return agent.spec.media[0].url


def _asked(model: ScriptedModel, text: str) -> int:
    return sum(1 for r in model.requests if text in str(r["messages"]))


async def test_the_model_sends_the_menu_photo_with_its_answer_once(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    runtime: AgentRuntime,
    scripted_model: ScriptedModel,
    twilio: TwilioServer,
) -> None:
    clock, contact = Clock(), new_contact()
    sender = OutboundSender(twilio.url)
    processor = processor_for(catalog, sessions, runtime, sender, clock)
    scripted_model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        "Here is our menu: Margherita 9 EUR.",
    ]
    message = inbound(contact, f"{contact} may I see the menu?", at=clock.now)

    try:
        outcomes = [(await processor.handle(message)).outcome for _ in range(3)]
    finally:
        await sender.close()

    assert outcomes == ["replied", "already_replied", "already_replied"]
    [sent] = twilio.sent_to(contact)
    assert sent.body == "Here is our menu: Margherita 9 EUR."
    assert sent.media_urls == [_menu_url(catalog)]
    assert _asked(scripted_model, contact) == 2  # the tool call round and the answer, once
    [stored] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert stored.details["media_urls"] == [_menu_url(catalog)]
    assert stored.twilio_sid == sent.sid


async def test_a_reply_stored_before_twilio_failed_is_sent_with_its_photo_by_the_redelivery(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    runtime: AgentRuntime,
    scripted_model: ScriptedModel,
    flaky: FlakyTwilio,
) -> None:
    clock, contact = Clock(), new_contact()
    sender = OutboundSender(flaky.url)
    processor = processor_for(catalog, sessions, runtime, sender, clock)
    scripted_model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        "Our menu.",
    ]
    flaky.failures.append(503)
    message = inbound(contact, f"{contact} menu", at=clock.now)

    try:
        with pytest.raises(SendError):
            await processor.handle(message)
        again = await processor.handle(message)  # the consumer's redelivery
        last = await processor.handle(message)
    finally:
        await sender.close()

    assert (again.outcome, last.outcome) == ("replied", "already_replied")
    assert [(m.body, m.media_urls) for m in flaky.sent_to(contact)] == [
        ("Our menu.", [_menu_url(catalog)])
    ]
    assert _asked(scripted_model, contact) == 2  # the model was not asked again


async def test_several_files_go_one_per_message_after_the_text(
    catalog: TenantCatalog, sessions: async_sessionmaker[AsyncSession], twilio: TwilioServer
) -> None:
    clock, contact = Clock(), new_contact()
    long_text = "\n\n".join(f"Pizza {i}: " + "tomato " * 150 for i in range(2))
    photos = ("https://cdn.acme.example/a.jpg", "https://cdn.acme.example/b.pdf")
    agent = ScriptedAgent(script=[AgentReply(long_text, "scripted", media_urls=photos)])
    sender = OutboundSender(twilio.url)
    processor = processor_for(catalog, sessions, agent, sender, clock)

    try:
        await processor.handle(inbound(contact, "everything, with pictures", at=clock.now))
    finally:
        await sender.close()

    sent = twilio.sent_to(contact)
    assert [(m.body.split(":")[0], m.media_urls) for m in sent] == [
        ("Pizza 0", [photos[0]]),
        ("Pizza 1", []),
        ("", [photos[1]]),
    ]
    outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert [(m.details["part"], m.details["parts"]) for m in outbound] == [(1, 3), (2, 3), (3, 3)]


async def test_a_photo_without_text_reaches_the_contact_as_a_message_of_its_own(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    runtime: AgentRuntime,
    scripted_model: ScriptedModel,
    twilio: TwilioServer,
) -> None:
    clock, contact = Clock(), new_contact()
    sender = OutboundSender(twilio.url)
    processor = processor_for(catalog, sessions, runtime, sender, clock)
    scripted_model.replies += [ScriptedReply(tool_calls=[call("send_media", name="menu")]), ""]

    try:
        outcome = await processor.handle(inbound(contact, "menu pls", at=clock.now))
    finally:
        await sender.close()

    assert outcome.outcome == "replied"
    [sent] = twilio.sent_to(contact)
    assert (sent.body, sent.media_urls) == ("", [_menu_url(catalog)])
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.flag_reason is None  # not the fallback for an empty answer
