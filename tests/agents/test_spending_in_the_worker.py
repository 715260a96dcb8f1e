"""A hard limit with the default behaviour: the turns after it hand the conversation to people,
without a model call, and a limit of one agent leaves the others answering."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, new_name, tenant_docs, write
from tests.utils.conversations import Clock, conversations_of, inbound, messages_of, processor_for
from tests.utils.openai_server import ScriptedModel
from tests.utils.servers import serve_in_thread
from tests.utils.webhooks import new_contact
from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.catalog import load_catalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.conversation.lifecycle import State
from wta_runtime.local.twilio_api import create_twilio_app

NUMBER = "+14155550124"


def _tenant(folder: Path) -> str:
    """front-desk may spend 15 tokens a day (one scripted call), billing has no limit."""
    tenant = new_name()
    docs = tenant_docs(tenant, number=NUMBER)
    docs[1]["spec"]["spending"] = {
        "agents": [{"agent": "front-desk", "daily": {"unit": "tokens", "hard": 15}}]
    }
    write(
        folder,
        [
            *docs,
            agent_doc("front-desk", tenant, selection={"default": True}),
            agent_doc("billing", tenant, selection={"rules": [{"keywords": ["invoice"]}]}),
        ],
    )
    return tenant


async def test_past_an_agents_hard_limit_its_turns_hand_off_without_the_model(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _tenant(tmp_path)
    catalog = load_catalog(tmp_path)
    tenant = catalog.by_name(name)
    twilio_app = create_twilio_app({tenant.account_sid: tenant.auth_token.get_secret_value()})
    clock, first, second = Clock(), new_contact(), new_contact()
    with serve_in_thread(twilio_app) as twilio_url:
        sender = OutboundSender(twilio_url)
        runtime = make_runtime(tmp_path, clock=clock)
        processor = processor_for(catalog, sessions, runtime, sender, clock)
        try:
            answered = await processor.handle(
                inbound(first, "hello", at=clock.now, tenant=name, number=NUMBER)
            )
            clock.advance(minutes=1)
            calls_at_limit = len(model.requests)
            limited = await processor.handle(
                inbound(second, "a pizza please", at=clock.now, tenant=name, number=NUMBER)
            )
            clock.advance(minutes=1)
            billing = await processor.handle(
                inbound(first, "and my invoice?", at=clock.now, tenant=name, number=NUMBER)
            )
            clock.advance(minutes=1)
            again = await processor.handle(
                inbound(second, "hello?", at=clock.now, tenant=name, number=NUMBER)
            )
        finally:
            await sender.close()

    assert answered.outcome == "replied"
    assert (limited.outcome, limited.agent) == ("replied", "front-desk")
    # No model call for the limited turn; billing, without a limit, still asks the model.
    assert len(model.requests) == calls_at_limit + 1
    assert (billing.outcome, billing.agent) == ("replied", "billing")
    replies = [m.body for m in await messages_of(sessions, second) if m.direction == "outbound"]
    assert replies == [ACTION_TEXT["handoff_to_human"]]
    [conversation] = await conversations_of(sessions, second)
    assert conversation.status == State.HUMAN_HANDOFF
    # With a person now, the contact's next message gets no bot reply at all.
    assert again.outcome == "with_human"
    labels = {"tenant": name, "agent": "front-desk"}
    assert REGISTRY.get_sample_value("wta_spend_limited_turns_total", labels) == 1
    assert REGISTRY.get_sample_value("wta_spend_limit_state", labels) == 2
