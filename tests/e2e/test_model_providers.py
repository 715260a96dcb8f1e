"""An agent on the anthropic provider, end to end: webhook -> gateway -> NATS -> worker process ->
langchain-anthropic -> our local Messages API -> Twilio, with usage and handoffs recorded."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import (
    CLAUDE_KEY,
    CLAUDE_MODEL,
    CLAUDE_TENANT,
    AnthropicServer,
    EngineWorkers,
    TwilioServer,
)
from tests.e2e.test_conversation_engine import send
from tests.utils.anthropic_server import INPUT_TOKENS, OUTPUT_TOKENS
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.agent_tables import TurnUsage
from wta_runtime.db.tables import Conversation
from wta_runtime.local.processes import ManagedProcess


@pytest.fixture(scope="module")
def claude_worker(
    engine_workers: EngineWorkers, anthropic_server: AnthropicServer
) -> Iterator[ManagedProcess]:
    """claude-pizza's worker; the platform's OpenAI key stays in its environment, unused."""
    anthropic_server.reset()
    process = engine_workers.spawn(CLAUDE_TENANT, "claude-worker")
    yield process
    process.stop()
    engine_workers.processes.remove(process)


def asked_with(anthropic: AnthropicServer, token: str) -> list[dict[str, Any]]:
    """The Messages API requests whose first user message carries `token`."""
    return [
        r
        for r in anthropic.model.requests
        if any(token in str(m["content"]) for m in r["messages"] if m["role"] == "user")
    ]


async def test_a_contact_gets_the_anthropic_models_reply_and_its_tokens_are_counted(
    claude_worker: ManagedProcess,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    anthropic_server: AnthropicServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    anthropic_server.model.answer = lambda body: f"Margherita is 9 EUR ({token})."

    await send(engine_workers, catalog, CLAUDE_TENANT, contact, f"How much is a pizza? {token}")

    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body == f"Margherita is 9 EUR ({token})."
    [request] = asked_with(anthropic_server, token)  # one turn, one call: nothing redone
    assert request["model"] == CLAUDE_MODEL
    assert "Acme Pizza" in str(request["system"])
    assert CLAUDE_KEY in anthropic_server.api_keys
    assert not any(token in str(r) for r in scripted_model.requests)  # not the OpenAI endpoint
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(TurnUsage).where(
                    TurnUsage.tenant == CLAUDE_TENANT, TurnUsage.provider == "anthropic"
                )
            )
        ).all()
    assert any(
        (r.model, r.prompt_tokens, r.completion_tokens, r.model_calls)
        == (CLAUDE_MODEL, INPUT_TOKENS, OUTPUT_TOKENS, 1)
        for r in rows
    )


async def test_the_anthropic_models_handoff_tool_call_hands_the_conversation_to_a_person(
    claude_worker: ManagedProcess,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    anthropic_server: AnthropicServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact, token = new_contact(), secrets.token_hex(3)
    anthropic_server.model.answer = None
    anthropic_server.model.replies += [
        ScriptedReply(tool_calls=[call("handoff_to_human", reason=f"refund {token}")]),
        f"A person will write to you here shortly ({token}).",
    ]

    await send(engine_workers, catalog, CLAUDE_TENANT, contact, f"I want a refund {token}")

    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body == f"A person will write to you here shortly ({token})."
    first, second = asked_with(anthropic_server, token)
    assert "handoff_to_human" in [t["name"] for t in first["tools"]]
    assert second["messages"][-1]["content"][0]["type"] == "tool_result"

    async def status() -> str | None:
        async with sessions() as session:
            return await session.scalar(
                select(Conversation.status).where(Conversation.contact_number == contact)
            )

    assert await eventually(status, until=lambda s: s == "human_handoff") == "human_handoff"
