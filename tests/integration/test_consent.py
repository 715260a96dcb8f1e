"""Opt-out and opt-in by keyword: one confirmation, then nothing at all reaches the contact."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.integration.test_outbound_rules import TEMPLATE_SID
from tests.utils.catalogs import catalog_variant
from tests.utils.conversations import (
    Clock,
    conversations_of,
    inbound,
    messages_of,
    processor_for,
    support_message,
)
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.conversation.consent import DEFAULT_OPT_IN_REPLIES, DEFAULT_OPT_OUT_REPLIES
from wta_runtime.db.consent import consent_events
from wta_runtime.specs.tenant import OutOfWindowTemplate
from wta_runtime.specs.tenant_consent import ConsentRules
from wta_runtime.worker.turn_processor import TurnProcessor


@pytest.fixture
def processor_with(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    agent: ScriptedAgent,
    sender: OutboundSender,
    clock: Clock,
) -> Callable[..., TurnProcessor]:
    """A turn processor whose acme-pizza has the spec changes it is given."""

    def made(**spec_updates: object) -> TurnProcessor:
        return processor_for(
            catalog_variant(catalog, **spec_updates), sessions, agent, sender, clock
        )

    return made


def _counted(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, {"tenant": "acme-pizza", **labels}) or 0.0


def _refused_opted_out() -> float:
    return _counted("wta_outbound_refused_total", reason="opted_out")


async def _says(processor: TurnProcessor, clock: Clock, contact: str, text: str) -> str:
    """The contact writes `text` a minute after their last message; how the turn ended."""
    clock.advance(minutes=1)
    return (await processor.handle(inbound(contact, text, at=clock.now))).outcome


async def test_stop_gets_one_confirmation_and_then_the_bot_never_answers(
    processor: TurnProcessor, agent: ScriptedAgent, clock: Clock, twilio: TwilioServer
) -> None:
    contact = new_contact()
    await _says(processor, clock, contact, "hi")
    opt_outs = _counted("wta_opt_outs_total")

    stopped = await _says(processor, clock, contact, "  Stop. ")
    later = [await _says(processor, clock, contact, text) for text in ("are you there?", "STOP")]

    assert stopped == "replied"
    assert later == ["opted_out", "opted_out"]
    assert [m.body for m in twilio.sent_to(contact)] == [
        "scripted answer",
        DEFAULT_OPT_OUT_REPLIES["en"],
    ]
    assert [t.user_text for t in agent.turns] == ["hi"]  # the model was not even asked
    assert _counted("wta_opt_outs_total") == opt_outs + 1


async def test_opting_back_in_is_confirmed_in_the_keywords_language_and_the_bot_answers_again(
    processor: TurnProcessor, agent: ScriptedAgent, clock: Clock, twilio: TwilioServer
) -> None:
    contact = new_contact()
    await _says(processor, clock, contact, "PARAR")
    await _says(processor, clock, contact, "hello?")

    back = await _says(processor, clock, contact, "Voltar")
    answered = await _says(processor, clock, contact, "menu please")

    assert (back, answered) == ("replied", "replied")
    assert _counted("wta_opt_ins_total") >= 1
    assert [m.body for m in twilio.sent_to(contact)] == [
        DEFAULT_OPT_OUT_REPLIES["pt"],
        DEFAULT_OPT_IN_REPLIES["pt"],
        "scripted answer",
    ]
    assert [t.user_text for t in agent.turns] == ["menu please"]


async def test_a_keyword_inside_a_longer_message_is_a_message_for_the_bot(
    processor: TurnProcessor, agent: ScriptedAgent, clock: Clock, twilio: TwilioServer
) -> None:
    contact = new_contact()

    await _says(processor, clock, contact, "stop sending me the menu twice")
    await _says(processor, clock, contact, "START")  # never opted out: a message like any other

    assert [m.body for m in twilio.sent_to(contact)] == ["scripted answer"] * 2
    assert len(agent.turns) == 2


async def test_each_tenant_sets_its_own_keywords_and_confirmations(
    processor_with: Callable[..., TurnProcessor], clock: Clock, twilio: TwilioServer
) -> None:
    rules = ConsentRules(
        opt_out_keywords={"en": ["no more pizza"]},
        opt_in_keywords={"en": ["pizza again"]},
        opt_out_replies={"en": "No more pizza news. Write PIZZA AGAIN to come back."},
        opt_in_replies={"en": "Welcome back!"},
    )
    processor = processor_with(consent=rules)
    contact = new_contact()

    outcomes = [
        await _says(processor, clock, contact, text)
        for text in ("STOP", "No  more PIZZA", "hello", "pizza again")
    ]

    assert outcomes == ["replied", "replied", "opted_out", "replied"]
    assert [m.body for m in twilio.sent_to(contact)] == [
        "scripted answer",
        "No more pizza news. Write PIZZA AGAIN to come back.",
        "Welcome back!",
    ]


async def test_every_opt_out_and_opt_in_is_kept_with_its_time_and_reason(
    processor: TurnProcessor, clock: Clock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = new_contact()
    await _says(processor, clock, contact, "UNSUBSCRIBE")
    stopped_at = clock.now
    await _says(processor, clock, contact, "sair")  # already out: no second event
    await _says(processor, clock, contact, "start")
    started_at = clock.now

    async with sessions() as session:
        events = await consent_events(session, tenant="acme-pizza", contact=contact)

    assert [(e.kind, e.reason, e.created_at) for e in events] == [
        ("opt_out", "keyword UNSUBSCRIBE (en)", stopped_at),
        ("opt_in", "keyword START (en)", started_at),
    ]
    async with sessions() as session:
        others = await consent_events(session, tenant="relay-pizza", contact=contact)
    assert others == []  # consent is the tenant's


async def test_nothing_stored_for_an_opted_out_contact_leaves_not_even_the_template(
    processor_with: Callable[..., TurnProcessor],
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    twilio: TwilioServer,
) -> None:
    processor = processor_with(template=OutOfWindowTemplate(content_sid=TEMPLATE_SID))
    contact = new_contact()
    await _says(processor, clock, contact, "STOP")
    clock.advance(hours=30)  # outside the 24 h window: the template would go instead of text
    [conversation] = await conversations_of(sessions, contact)
    parts = await support_message(sessions, conversation, "Your order is ready", now=clock.now)
    refused_before = _refused_opted_out()

    report = await processor.replies.delivery.deliver(
        processor.catalog.by_name("acme-pizza"), conversation, parts
    )

    assert (report.sent, report.refused, report.refused_reason) == (0, 1, "opted_out")
    assert [m.body for m in twilio.sent_to(contact)] == [DEFAULT_OPT_OUT_REPLIES["en"]]
    [*_, stored] = await messages_of(sessions, contact)
    assert (stored.delivery_status, stored.failure_reason) == ("refused", "opted_out")
    assert _refused_opted_out() == refused_before + 1
