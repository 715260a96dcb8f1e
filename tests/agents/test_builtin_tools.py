"""The built-in tools: the model hands off, closes and looks up knowledge; the policy hands off."""

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
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.agents.offline import OFFLINE_LABEL
from wta_runtime.agents.turn import AgentAction
from wta_runtime.conversation.turn_text import HUMAN_HANDLED_NOTE, ContactMessage, turn_text
from wta_runtime.db.agent_tables import ToolCall

TOOLS = {"builtin": ["handoff_to_human", "close_conversation", "lookup_knowledge"]}
KNOWLEDGE = {
    "entries": [
        {
            "question": "Do you deliver?",
            "answer": "We deliver within 5 km for free.",
            "keywords": ["delivery"],
        }
    ],
    "configMapRefs": [{"name": "menu-docs"}],
}
MENU = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "menu-docs"},
    "data": {"allergens.md": "Allergens\n\nThe Quattro Formaggi contains gorgonzola and nuts."},
}


def _tenant(folder: Path, **spec: object) -> str:
    name = new_name()
    docs = [
        *tenant_docs(name),
        MENU,
        agent_doc("helper", name, tools=TOOLS, knowledge=KNOWLEDGE, **spec),
    ]
    write(folder, docs)
    return name


async def test_model_hands_off_to_a_person_with_the_tool(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path)
    turn = context()
    model.replies += [
        ScriptedReply(tool_calls=[call("handoff_to_human", reason="angry about a late order")]),
        "I am passing you to a colleague right now.",
    ]

    reply = await runtime.respond(name, turn, "This is the third time my order is late!!", [])

    assert reply.actions == (AgentAction("handoff_to_human", "angry about a late order"),)
    assert reply.text == "I am passing you to a colleague right now."
    offered = {t["function"]["name"] for t in model.requests[0]["tools"]}
    assert offered == set(TOOLS["builtin"])
    tool_message = model.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert "handoff_to_human" in tool_message["content"]
    async with sessions() as session:
        stored = (
            await session.scalars(select(ToolCall).where(ToolCall.turn_key == turn.turn_key))
        ).one()
    assert (stored.name, stored.status) == ("handoff_to_human", "ok")
    assert stored.arguments == {"reason": "angry about a late order"}


async def test_model_closes_the_conversation_and_a_silent_close_gets_a_goodbye(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[call("close_conversation", reason="customer is done")]),
        ScriptedReply(content=""),
        ScriptedReply(content=""),
    ]

    reply = await runtime.respond(name, context(), "that's all, thank you", [])

    assert reply.actions == (AgentAction("close_conversation", "customer is done"),)
    assert reply.text == ACTION_TEXT["close_conversation"]
    assert not reply.fallback


async def test_lookup_knowledge_gives_entries_and_configmap_documents_to_the_model(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[call("lookup_knowledge", query="nuts allergens formaggi")]),
        ScriptedReply(tool_calls=[call("lookup_knowledge", query="delivery")]),
        "The Quattro Formaggi contains nuts; delivery is free within 5 km.",
    ]

    reply = await runtime.respond(name, context(), "Any nuts in the formaggi? Delivery?", [])

    documents = model.requests[1]["messages"][-1]["content"]
    entries = model.requests[2]["messages"][-1]["content"]
    assert "[menu-docs/allergens.md]" in documents
    assert "gorgonzola and nuts" in documents
    assert "We deliver within 5 km for free." in entries
    assert "Use lookup_knowledge" in system_prompt_of(model.requests[0])
    assert [c.name for c in reply.tool_calls] == ["lookup_knowledge", "lookup_knowledge"]


async def test_tool_results_are_remembered_in_later_turns(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path)
    first = context()
    model.replies += [
        ScriptedReply(tool_calls=[call("lookup_knowledge", query="allergens")]),
        "It contains nuts.",
        "Yes, as I said: nuts.",
    ]

    await runtime.respond(name, first, "allergens of the formaggi?", [])
    later = context(contact=first.contact_number, conversation=first.conversation_id)
    await runtime.respond(name, later, "so, nuts?", [])

    prompt = system_prompt_of(model.requests[-1])
    assert "Tool results earlier in this conversation:" in prompt
    assert "lookup_knowledge({'query': 'allergens'}) -> " in prompt
    assert "gorgonzola and nuts" in prompt


async def test_handoff_keyword_of_the_policy_hands_off_without_asking_the_model(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, handoff={"keywords": ["lawyer"], "onUserRequest": True})
    runtime = make_runtime(tmp_path)

    by_keyword = await runtime.respond(name, context(), "My LAWYER will call you", [])
    by_request = await runtime.respond(name, context(), "can I talk to a human please", [])

    assert by_keyword.actions == (AgentAction("handoff_to_human", "handoff keyword"),)
    assert by_request.actions == (AgentAction("handoff_to_human", "the user asked for a person"),)
    assert model.requests == []


async def test_handoff_after_too_many_failed_turns(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, handoff={"afterFailedTurns": 2})
    runtime = make_runtime(tmp_path)
    model.fail_with_status = 500
    first = context()
    second = context(contact=first.contact_number, conversation=first.conversation_id)

    one = await runtime.respond(name, first, "hello?", [])
    two = await runtime.respond(name, second, "hello??", [])

    assert one.fallback
    assert one.actions == ()
    assert two.fallback
    assert two.actions == (AgentAction("handoff_to_human", "too many failed turns"),)


async def test_offline_agent_uses_handoff_and_close_tools_on_their_keywords(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, handoff={"onUserRequest": False})
    runtime = make_runtime(tmp_path, offline=True)

    person = await runtime.respond(name, context(), "quero falar com um atendente", [])
    goodbye = await runtime.respond(name, context(), "ok valeu, tchau", [])
    answer = await runtime.respond(name, context(), "do you do delivery?", [])

    assert person.actions[0].kind == "handoff_to_human"
    assert goodbye.actions[0].kind == "close_conversation"
    assert answer.text == f"{OFFLINE_LABEL} We deliver within 5 km for free."
    assert {person.provider, goodbye.provider, answer.provider} == {"offline"}
    assert all(r.text.startswith(OFFLINE_LABEL) for r in (person, goodbye, answer))
    assert model.requests == []


async def test_offline_agent_answers_after_a_release_instead_of_handing_off_again(
    tmp_path: Path, make_runtime: RuntimeFactory
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path, offline=True)

    reply = await runtime.respond(
        name,
        context(),
        turn_text([ContactMessage("do you do delivery?")], notes=[HUMAN_HANDLED_NOTE]),
        [],
    )

    assert reply.actions == ()
    assert reply.text == f"{OFFLINE_LABEL} We deliver within 5 km for free."


def test_configmap_documents_are_indexed(tmp_path: Path) -> None:
    name = _tenant(tmp_path)

    resources = load_agent_catalog(tmp_path).agent(name, "helper")

    assert resources is not None
    [best, *_] = resources.knowledge.search("which pizza has gorgonzola?")
    assert best.title == "menu-docs/allergens.md"
