"""The worker asks the agent runtime who answers once: that agent's window, name and metrics."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, new_name, tenant_docs, write
from tests.utils.conversations import Clock, inbound, messages_of, processor_for
from tests.utils.openai_server import ScriptedModel
from tests.utils.servers import serve_in_thread
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import load_catalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.local.twilio_api import create_twilio_app

NUMBER = "+14155550122"


def sample(name: str, tenant: str, agent: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"tenant": tenant, "agent": agent, **labels}) or 0.0


def model_seconds(tenant: str, agent: str) -> float:
    """Turns the agent answered with the model, as `wta_agent_seconds` counts them."""
    return sample("wta_agent_seconds_count", tenant, agent, provider="openai")


def _two_agents(folder: Path) -> str:
    """A front desk that remembers 2 messages and a billing agent, picked by rule, that keeps 10."""
    tenant = new_name()
    write(
        folder,
        [
            *tenant_docs(tenant, number=NUMBER),
            agent_doc("front-desk", tenant, selection={"default": True}, memory={"window": 2}),
            agent_doc(
                "billing",
                tenant,
                selection={"rules": [{"keywords": ["invoice"]}]},
                memory={"window": 10},
            ),
        ],
    )
    return tenant


async def test_a_rule_selected_agent_gets_its_own_history_window_and_its_own_name(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _two_agents(tmp_path)
    catalog = load_catalog(tmp_path)
    tenant = catalog.by_name(name)
    twilio_app = create_twilio_app({tenant.account_sid: tenant.auth_token.get_secret_value()})
    clock, contact = Clock(), new_contact()
    with serve_in_thread(twilio_app) as twilio_url:
        sender = OutboundSender(twilio_url)
        processor = processor_for(catalog, sessions, make_runtime(tmp_path), sender, clock)
        try:
            for n in range(4):
                await processor.handle(
                    inbound(contact, f"question {n}", at=clock.now, tenant=name, number=NUMBER)
                )
                clock.advance(minutes=1)
            billing_before = model_seconds(name, "billing")
            front_before = model_seconds(name, "front-desk")

            result = await processor.handle(
                inbound(contact, "and my invoice?", at=clock.now, tenant=name, number=NUMBER)
            )
        finally:
            await sender.close()

    assert (result.outcome, result.agent) == ("replied", "billing")
    # The billing agent remembers the whole conversation so far, not the front desk's last two.
    said_before = [m for m in model.requests[-1]["messages"][1:-1] if m["role"] != "system"]
    assert [m["content"] for m in said_before if m["role"] == "user"] == [
        f"question {n}" for n in range(4)
    ]
    assert len(said_before) == 8
    assert [len(r["messages"]) for r in model.requests[:2]] == [2, 4]  # front desk: window 2
    reply = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"][-1]
    assert reply.agent == "billing"
    assert model_seconds(name, "billing") == billing_before + 1
    assert model_seconds(name, "front-desk") == front_before
    assert sample("wta_agent_selections_total", name, "billing") == 1
