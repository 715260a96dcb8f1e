"""Which agent answers: rules first, then the sticky agent, the LLM router, the default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import (
    agent_doc,
    context,
    new_name,
    system_prompt_of,
    tenant_docs,
    write,
)
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from wta_runtime.agents.router import function_name
from wta_runtime.agents.selection import by_rules, choose_without_model
from wta_runtime.catalog import load_catalog
from wta_runtime.db.agent_tables import AgentSelection


def _shop(folder: Path, *, describe: bool = False) -> str:
    tenant = new_name()
    billing = {"rules": [{"keywords": ["invoice", "refund"]}], "priority": 10}
    orders = {"rules": [{"regex": r"order\s*#?\d+"}, {"keywords": ["refund"]}], "priority": 5}
    front = {"default": True}
    if describe:
        billing["description"] = "Invoices, payments and refunds."
        orders["description"] = "Order status and delivery tracking."
    write(
        folder,
        [
            *tenant_docs(tenant),
            agent_doc("front-desk", tenant, selection=front),
            agent_doc("billing", tenant, selection=billing),
            agent_doc("orders", tenant, selection=orders),
        ],
    )
    return tenant


def test_rules_match_keywords_and_regex_and_priority_wins(tmp_path: Path) -> None:
    name = _shop(tmp_path)
    agents = load_catalog(tmp_path).by_name(name).agents

    order = by_rules(agents, "Where is my ORDER #123?")
    refund = by_rules(agents, "I want a refund")  # both billing (10) and orders (5) match

    assert order is not None
    assert order.agent.name == "orders"
    assert refund is not None
    assert refund.agent.name == "billing"
    assert by_rules(agents, "hello there") is None


def test_a_rule_overrides_the_sticky_agent_but_no_rule_keeps_it(tmp_path: Path) -> None:
    name = _shop(tmp_path)
    tenant = load_catalog(tmp_path).by_name(name)

    kept = choose_without_model(tenant, "thanks, and one more thing", sticky="orders")
    switched = choose_without_model(tenant, "send me the invoice", sticky="orders")

    assert kept is not None
    assert (kept.agent.name, kept.method) == ("orders", "sticky")
    assert switched is not None
    assert (switched.agent.name, switched.method) == ("billing", "rule")


async def test_rule_selection_is_recorded_and_sticks_for_the_conversation(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    first = context()
    later = context(contact=first.contact_number, conversation=first.conversation_id)

    by_rule = await runtime.respond(name, first, "I need the invoice for May", [])
    sticky = await runtime.respond(name, later, "and can you send it by email?", [])

    assert (by_rule.agent, by_rule.selected_by) == ("billing", "rule")
    assert (sticky.agent, sticky.selected_by) == ("billing", "sticky")
    assert "You are agent billing." in system_prompt_of(model.requests[-1])
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(AgentSelection)
                .where(AgentSelection.conversation_id == first.conversation_id)
                .order_by(AgentSelection.id)
            )
        ).all()
    assert [(r.agent, r.method) for r in rows] == [("billing", "rule"), ("billing", "sticky")]
    assert rows[0].detail == "keywords invoice, refund"


async def test_router_chooses_among_described_agents_when_no_rule_matches(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path, describe=True)
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[call(function_name("orders"))]),
        "Your pizza left the oven 5 minutes ago.",
    ]

    reply = await runtime.respond(name, context(), "where is my pizza?", [])

    router_request, agent_request = model.requests
    offered = {tool["function"]["name"] for tool in router_request["tools"]}
    assert offered == {"billing", "orders"}
    assert (reply.agent, reply.selected_by) == ("orders", "router")
    assert "You are agent orders." in system_prompt_of(agent_request)
    assert reply.text == "Your pizza left the oven 5 minutes ago."
    assert reply.usage.model_calls == 2


async def test_router_failure_falls_back_to_the_default_agent(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path, describe=True)
    runtime = make_runtime(tmp_path)
    model.replies += [ScriptedReply(status=503), ScriptedReply(status=503), "Hello!"]

    reply = await runtime.respond(name, context(), "hi", [])

    assert (reply.agent, reply.selected_by, reply.text) == ("front-desk", "default", "Hello!")


async def test_without_descriptions_there_is_no_router_call(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)

    reply = await runtime.respond(name, context(), "hi", [])

    assert (reply.agent, reply.selected_by) == ("front-desk", "default")
    assert len(model.requests) == 1
