"""Model failures are retried within the budget, then the fallback message goes out, flagged."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from wta_runtime.db.agent_tables import TurnUsage

AGENT_FALLBACK = "Our assistant is resting; a person will reply soon."


def _shop(folder: Path, **spec: object) -> str:
    name = new_name()
    model = {"name": "gpt-4o-mini", "timeoutSeconds": 0.3}
    write(
        folder,
        [
            *tenant_docs(name),
            agent_doc("helper", name, model=model, fallbackMessage=AGENT_FALLBACK, **spec),
        ],
    )
    return name


def _metric(name: str, tenant: str) -> float:
    return REGISTRY.get_sample_value(name, {"tenant": tenant, "agent": "helper"}) or 0.0


async def test_a_model_that_times_out_gets_the_fallback_after_the_retries(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    # Slower than the agent's 0.3 s timeout: a runtime that waited would get its answer.
    model.delay_seconds = 2
    turn = context()

    reply = await runtime.respond(name, turn, "hello", [])

    assert (reply.text, reply.provider, reply.fallback) == (AGENT_FALLBACK, "fallback", True)
    assert reply.usage.model_calls == 2
    assert len(model.requests) == 2
    assert _metric("wta_agent_fallbacks_total", name) == 1
    async with sessions() as session:
        usage = (
            await session.scalars(select(TurnUsage).where(TurnUsage.turn_key == turn.turn_key))
        ).one()
    assert (usage.outcome, usage.provider, usage.model_calls) == ("fallback", "fallback", 2)


async def test_a_rate_limit_or_server_error_is_retried_and_then_answered(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    model.replies += [ScriptedReply(status=429), "Hello after a retry"]

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback, reply.usage.model_calls) == (
        "Hello after a retry",
        False,
        2,
    )


async def test_malformed_tool_calls_end_in_the_fallback_never_an_error(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path, tools={"builtin": ["lookup_knowledge"]})
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[("lookup_knowledge", "{not json")]),
        ScriptedReply(tool_calls=[("no_such_tool", "{}")]),
    ]

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback) == (AGENT_FALLBACK, True)


async def test_a_rejected_request_is_not_retried(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    model.fail_with_status = 401

    reply = await runtime.respond(name, context(), "hello", [])

    assert reply.fallback
    assert len(model.requests) == 1


async def test_usage_is_stored_and_exported_per_tenant_and_agent(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path)
    turn = context()

    reply = await runtime.respond(name, turn, "hello", [])

    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (10, 5)
    assert reply.latency_seconds > 0
    assert _metric("wta_agent_prompt_tokens_total", name) == 10
    assert _metric("wta_agent_completion_tokens_total", name) == 5
    assert _metric("wta_agent_respond_seconds_count", name) == 1
    async with sessions() as session:
        usage = (
            await session.scalars(select(TurnUsage).where(TurnUsage.turn_key == turn.turn_key))
        ).one()
    assert usage.conversation_id == turn.conversation_id
    assert (usage.agent, usage.model, usage.prompt_tokens, usage.outcome) == (
        "helper",
        "gpt-4o-mini",
        10,
        "answered",
    )
