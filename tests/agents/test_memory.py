"""Hybrid memory: a contact's earlier conversations are recalled, never another's or a tenant's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
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
from tests.utils.openai_server import ScriptedModel
from wta_runtime.agents.embeddings import HashingEmbedder, OpenAIEmbedder, cosine, hashed_vector
from wta_runtime.agents.memory import ContactMemory, reciprocal_rank_fusion, text_query
from wta_runtime.agents.model_calls import ModelClients
from wta_runtime.agents.turn import HistoryEntry

MEMORY = {"window": 10, "semanticRecall": True, "topK": 3}
FACT = "My dog is called Bolt and he is allergic to cheese"


def _shop(folder: Path) -> str:
    name = new_name()
    write(folder, [*tenant_docs(name), agent_doc("helper", name, memory=MEMORY)])
    return name


def test_reciprocal_rank_fusion_rewards_items_both_rankings_agree_on() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 4, 1]])

    assert set(fused[:2]) == {1, 3}  # in both lists
    assert set(fused) == {1, 2, 3, 4}


def test_text_query_keeps_only_words() -> None:
    assert text_query("what's my dog's name?!") == "what | my | dog | name"
    assert text_query("?? !") is None


def test_offline_embeddings_are_closer_for_shared_words() -> None:
    dog, dogs, pizza = (hashed_vector(t) for t in ("my dog Bolt", "dog named Bolt", "pizza"))

    assert cosine(dog, dogs) > cosine(dog, pizza)


async def test_recalls_a_fact_from_an_earlier_closed_conversation_of_the_same_contact(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    earlier = context()
    model.replies += ["Nice to meet Bolt!", "Your dog is Bolt."]
    await runtime.respond(name, earlier, FACT, [])

    # A new conversation (the earlier one closed) of the same contact, days later.
    later = context(contact=earlier.contact_number)
    await runtime.respond(name, later, "what is my dog called? any cheese allergy?", [])

    prompt = system_prompt_of(model.requests[-1])
    assert "Earlier conversations with this customer" in prompt
    assert f"user: {FACT}" in prompt


async def test_never_recalls_another_contact_or_another_tenant(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path / "a")
    other_tenant = _shop(tmp_path / "b")
    runtime = make_runtime(tmp_path / "a")
    other_runtime = make_runtime(tmp_path / "b")
    owner = context()
    await runtime.respond(name, owner, FACT, [])

    await runtime.respond(name, context(), "what is my dog called?", [])
    await other_runtime.respond(
        other_tenant, context(contact=owner.contact_number), "what is my dog called?", []
    )

    for request in model.requests[1:]:
        assert "Bolt" not in system_prompt_of(request)


async def test_the_recent_window_is_not_recalled_twice(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    first = context()
    await runtime.respond(name, first, FACT, [])

    history = [HistoryEntry("user", FACT), HistoryEntry("assistant", "scripted reply")]
    later = context(contact=first.contact_number, conversation=first.conversation_id)
    await runtime.respond(name, later, "what is my dog called?", history)

    assert "Earlier conversations" not in system_prompt_of(model.requests[-1])


async def test_recall_ranks_the_same_with_and_without_pgvector(
    sessions: async_sessionmaker[AsyncSession], pgvector: None
) -> None:
    memory = ContactMemory(sessions, HashingEmbedder(), lambda: datetime.now(UTC))
    tenant, contact = new_name(), "+15550001111"
    items = [
        ("u1", "user", "I live at Rua das Flores 12"),
        ("u2", "user", FACT),
        ("u3", "user", "Pepperoni is my favourite"),
    ]
    await memory.remember(
        tenant=tenant, contact=contact, conversation_id=uuid.uuid4(), turn_key="SMx", items=items
    )
    await memory.remember(  # the same turn again (a redelivery) writes nothing new
        tenant=tenant, contact=contact, conversation_id=uuid.uuid4(), turn_key="SMx", items=items
    )

    with_pgvector = await memory.recall(
        tenant=tenant, contact=contact, query="name of my dog", top_k=3
    )
    assert memory._pgvector is True  # the fixture installed it: ranked by pgvector
    memory._pgvector = False
    in_python = await memory.recall(tenant=tenant, contact=contact, query="name of my dog", top_k=3)

    assert with_pgvector[0] == f"user: {FACT}"
    assert in_python == with_pgvector
    assert len(with_pgvector) == 3


async def test_openai_compatible_embeddings_endpoint(model: ScriptedModel, model_url: str) -> None:
    clients = ModelClients()
    embedder = OpenAIEmbedder(
        clients.get(SecretStr("sk-test"), model_url), "text-embedding-3-small"
    )
    try:
        vectors = await embedder.embed(["my dog Bolt", "pizza"])
    finally:
        await clients.close()

    assert [len(v) for v in vectors] == [64, 64]
    assert model.embedding_requests[0]["input"] == ["my dog Bolt", "pizza"]
