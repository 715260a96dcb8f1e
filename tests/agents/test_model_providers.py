"""Agents on the `anthropic` provider: the real langchain-anthropic package against our local
Messages API, with the same tool loop, usage, cost and retries as the `openai` provider."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.conftest import AnthropicServer
from tests.utils.anthropic_server import (
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    anthropic_model,
    api_key_secret,
)
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from wta_runtime.agents.model_calls import ModelFailure
from wta_runtime.db.agent_tables import TurnUsage
from wta_runtime.egress.policy import LOOPBACK

CLAUDE = "claude-haiku-4-5"
API_KEY = "sk-ant-test-local"
FALLBACK = "Our assistant is resting; a person will reply soon."
# What the tenant pays for the Anthropic model: one call (12 in, 7 out) costs 0.012 + 0.014.
PRICE = {"model": CLAUDE, "inputPerMillion": 1000, "outputPerMillion": 2000}


@pytest.fixture
def anthropic(anthropic_server: AnthropicServer) -> AnthropicServer:
    anthropic_server.reset()
    return anthropic_server


def provider_shop(
    folder: Path, url: str, *, provider: str = "anthropic", timeout: float = 2, **spec: Any
) -> str:
    """A tenant whose agent runs on `provider`, its API key in a Secret of the manifests."""
    name = new_name()
    docs = tenant_docs(name)
    docs[1]["spec"]["spending"] = {"currency": "EUR", "prices": [PRICE]}
    model = anthropic_model(url, f"{name}-claude", CLAUDE, timeoutSeconds=timeout)
    model["provider"] = provider
    agent = agent_doc("helper", name, model=model, fallbackMessage=FALLBACK, **spec)
    write(folder, [*docs, api_key_secret(f"{name}-claude", API_KEY), agent])
    return name


async def test_a_text_reply_comes_from_the_anthropic_messages_api(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    anthropic: AnthropicServer,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = provider_shop(tmp_path, anthropic.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    anthropic.model.replies.append("We open at 11:00.")
    turn = context()

    reply = await runtime.respond(name, turn, "When do you open?", [])

    assert (reply.text, reply.provider, reply.fallback) == ("We open at 11:00.", "anthropic", False)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (
        INPUT_TOKENS,
        OUTPUT_TOKENS,
    )
    request = anthropic.model.requests[0]
    assert request["model"] == CLAUDE
    assert "You are agent helper." in str(request["system"])
    assert request["messages"][-1]["role"] == "user"
    assert "When do you open?" in str(request["messages"][-1]["content"])
    assert anthropic.api_keys == [API_KEY]  # the Secret's key, not the platform's OpenAI key
    assert model.requests == []  # nothing went to the OpenAI-compatible endpoint
    async with sessions() as session:
        usage = (
            await session.scalars(select(TurnUsage).where(TurnUsage.turn_key == turn.turn_key))
        ).one()
    assert (usage.provider, usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        "anthropic",
        CLAUDE,
        INPUT_TOKENS,
        OUTPUT_TOKENS,
    )
    async with sessions() as session:
        cost = await session.scalar(
            text("SELECT sum(cost) FROM spend_counters WHERE tenant = :tenant"), {"tenant": name}
        )
    assert cost == Decimal(INPUT_TOKENS * 1000 + OUTPUT_TOKENS * 2000) / 1_000_000


async def test_a_handoff_tool_call_round_trips_as_tool_use_and_tool_result(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    name = provider_shop(tmp_path, anthropic.url, tools={"builtin": ["handoff_to_human"]})
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    anthropic.model.replies += [
        ScriptedReply(tool_calls=[call("handoff_to_human", reason="wants a refund")]),
        "A person from our team will write to you shortly.",
    ]

    reply = await runtime.respond(name, context(), "I want my money back", [])

    assert reply.text == "A person from our team will write to you shortly."
    assert [(a.kind, a.reason) for a in reply.actions] == [("handoff_to_human", "wants a refund")]
    assert [(c.name, c.arguments, c.status) for c in reply.tool_calls] == [
        ("handoff_to_human", {"reason": "wants a refund"}, "ok")
    ]
    assert reply.usage.model_calls == 2
    assert reply.usage.prompt_tokens == 2 * INPUT_TOKENS
    first, second = anthropic.model.requests
    assert [tool["name"] for tool in first["tools"]] == ["handoff_to_human"]
    used, result = second["messages"][-2:]
    tool_use = next(b for b in used["content"] if b["type"] == "tool_use")
    assert (used["role"], tool_use["name"], tool_use["input"]) == (
        "assistant",
        "handoff_to_human",
        {"reason": "wants a refund"},
    )
    assert result["role"] == "user"
    assert result["content"][0]["type"] == "tool_result"
    assert result["content"][0]["tool_use_id"] == tool_use["id"]
    assert "done: handoff_to_human" in str(result["content"][0]["content"])


async def test_the_last_step_describes_the_tools_but_lets_none_be_called(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    name = provider_shop(tmp_path, anthropic.url, tools={"builtin": ["lookup_knowledge"]})
    runtime = make_runtime(tmp_path, egress=LOOPBACK, max_tool_steps=1)
    anthropic.model.replies += [
        ScriptedReply(tool_calls=[call("lookup_knowledge", query="hours")]),
        "We open at 11:00.",
    ]

    reply = await runtime.respond(name, context(), "When do you open?", [])

    assert reply.text == "We open at 11:00."
    assert "tool_choice" not in anthropic.model.requests[0]
    assert anthropic.model.requests[1]["tool_choice"] == {"type": "none"}


@pytest.mark.parametrize("status", [429, 529])
async def test_a_rate_limit_or_overload_is_retried_within_the_budget(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer, status: int
) -> None:
    name = provider_shop(tmp_path, anthropic.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    anthropic.model.replies += [ScriptedReply(status=status), "Hello after a retry"]

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback) == ("Hello after a retry", False)
    assert reply.usage.model_calls == 2
    assert len(anthropic.model.requests) == 2  # the integration itself did not retry


async def test_errors_beyond_the_budget_give_the_fallback(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    name = provider_shop(tmp_path, anthropic.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    anthropic.model.fail_with_status = 500

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.provider, reply.fallback) == (FALLBACK, "fallback", True)
    assert len(anthropic.model.requests) == 2  # the budget's two attempts


async def test_a_rejected_key_is_not_retried(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    name = provider_shop(tmp_path, anthropic.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK, retry_later=True)
    anthropic.model.fail_with_status = 401

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback) == (FALLBACK, True)
    assert len(anthropic.model.requests) == 1


async def test_a_slow_model_is_a_timeout_the_worker_retries_later(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    name = provider_shop(tmp_path, anthropic.url, timeout=0.3)
    runtime = make_runtime(tmp_path, egress=LOOPBACK, retry_later=True)
    anthropic.model.delay_seconds = 2

    with pytest.raises(ModelFailure) as failed:
        await runtime.respond(name, context(), "hello", [])

    assert failed.value.reason == "timeout"
    assert failed.value.usage.model_calls == 2
    assert len(anthropic.model.requests) == 2


async def test_a_provider_whose_extra_is_missing_falls_back_and_says_why(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    anthropic: AnthropicServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # langchain-google-genai is not installed here, as in an image without the `google` extra.
    name = provider_shop(tmp_path, anthropic.url, provider="google_genai")
    with caplog.at_level(logging.ERROR, logger="wta.agents"):
        runtime = make_runtime(tmp_path, egress=LOOPBACK, retry_later=True)

    first = await runtime.respond(name, context(), "hello", [])
    second = await runtime.respond(name, context(), "hello again", [])

    assert [first.text, second.text] == [FALLBACK, FALLBACK]
    assert anthropic.model.requests == []
    said = caplog.text
    assert "AIAgent default/helper cannot answer with the model" in said
    assert "'google' extra" in said
    assert "langchain-google-genai" in said
    assert API_KEY not in said


async def test_an_endpoint_the_egress_policy_refuses_is_never_called_and_gives_the_fallback(
    tmp_path: Path, make_runtime: RuntimeFactory, anthropic: AnthropicServer
) -> None:
    """The tenant wrote the agent's `baseUrl` (here loopback, which the default policy refuses,
    like any private address): the integration's own HTTP client never connects to it."""
    name = provider_shop(tmp_path, anthropic.url)
    runtime = make_runtime(tmp_path)
    anthropic.model.replies += ["never sent"]

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.provider, reply.fallback) == (FALLBACK, "fallback", True)
    assert anthropic.model.requests == []
    assert anthropic.api_keys == []
