"""Usage of the agents: Prometheus metrics (tenant and agent labels only) and database records."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.turn import ConversationContext, ToolCallRecord, Usage
from wta_runtime.db import agent_records
from wta_runtime.db.agent_records import EarlierTurns, TurnRecordRows, TurnRow
from wta_runtime.db.driver import DATABASE_ERRORS, driver

log = logging.getLogger("wta.agents")
# The outcome of a turn a hard spending limit answered without the model.
LIMITED = "spend_limit"
# How many earlier outcomes a turn reads (failed turns in a row: a handoff policy counts them).
EARLIER_OUTCOMES = 20

PROMPT_TOKENS = Counter(
    "wta_agent_prompt_tokens_total", "Prompt tokens the model counted.", ["tenant", "agent"]
)
COMPLETION_TOKENS = Counter(
    "wta_agent_completion_tokens_total",
    "Completion tokens the model counted.",
    ["tenant", "agent"],
)
MODEL_CALLS = Counter(
    "wta_agent_model_calls_total", "Model calls, retries included.", ["tenant", "agent"]
)
FALLBACKS = Counter(
    "wta_agent_fallbacks_total",
    "Turns answered with the fallback message because the model failed.",
    ["tenant", "agent"],
)
TOOL_CALLS = Counter("wta_agent_tool_calls_total", "Tool calls made.", ["tenant", "agent"])
TOOL_FAILURES = Counter(
    "wta_agent_tool_failures_total", "Tool calls that failed or were refused.", ["tenant", "agent"]
)
SELECTIONS = Counter(
    "wta_agent_selections_total", "Turns each agent was selected for.", ["tenant", "agent"]
)
HANDOFFS = Counter(
    "wta_agent_handoffs_total", "Turns that asked for a handoff to a person.", ["tenant", "agent"]
)
SPEND = Counter(
    "wta_spend_cost_total",
    "What the model's tokens cost at the tenant's prices (spec.spending.prices), its currency.",
    ["tenant", "agent"],
)
SPEND_TOKENS = Counter(
    "wta_spend_tokens_total", "Input and output tokens counted against limits.", ["tenant", "agent"]
)
LIMIT_STATE = Gauge(
    "wta_spend_limit_state",
    "Spending limit state after the agent's latest turn here: 0 ok, 1 soft, 2 hard.",
    ["tenant", "agent"],
)
LIMITED_TURNS = Counter(
    "wta_spend_limited_turns_total",
    "Turns answered by spec.spending.onHardLimit instead of the model.",
    ["tenant", "agent"],
)
RESPOND_SECONDS = Histogram(
    "wta_agent_respond_seconds",
    "Time of one agent turn: selection, memory, model and tools.",
    ["tenant", "agent"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


@dataclass(frozen=True)
class TurnRecord:
    """Everything recorded about one turn."""

    tenant: str
    agent: str
    conversation_id: uuid.UUID | None
    turn_key: str
    provider: str
    model: str | None
    usage: Usage
    seconds: float
    outcome: str
    method: str
    detail: str | None
    tool_calls: Sequence[ToolCallRecord]
    handoff: bool
    # What the tokens cost at the tenant's price of the model, and the tenant's day it counts in.
    cost: Decimal
    day: date


def export_metrics(record: TurnRecord) -> None:
    """Count the turn in Prometheus: no numbers, no texts, only tenant and agent."""
    labels = (record.tenant, record.agent)
    PROMPT_TOKENS.labels(*labels).inc(record.usage.prompt_tokens)
    COMPLETION_TOKENS.labels(*labels).inc(record.usage.completion_tokens)
    SPEND.labels(*labels).inc(float(record.cost))
    SPEND_TOKENS.labels(*labels).inc(record.usage.prompt_tokens + record.usage.completion_tokens)
    if record.outcome == LIMITED:
        LIMITED_TURNS.labels(*labels).inc()
    MODEL_CALLS.labels(*labels).inc(record.usage.model_calls)
    SELECTIONS.labels(*labels).inc()
    RESPOND_SECONDS.labels(*labels).observe(record.seconds)
    if record.outcome == "fallback":
        FALLBACKS.labels(*labels).inc()
    if record.handoff:
        HANDOFFS.labels(*labels).inc()
    for call in record.tool_calls:
        TOOL_CALLS.labels(*labels).inc()
        if call.status != "ok":
            TOOL_FAILURES.labels(*labels).inc()


def record_rows(record: TurnRecord, now: datetime) -> TurnRecordRows:
    """The selection, the tool calls and the usage of the turn, as the database stores them."""
    return TurnRecordRows(
        TurnRow(record.tenant, record.agent, record.conversation_id, record.turn_key, now),
        method=record.method,
        detail=record.detail,
        usage={
            "provider": record.provider,
            "model": record.model,
            "prompt_tokens": record.usage.prompt_tokens,
            "completion_tokens": record.usage.completion_tokens,
            "model_calls": record.usage.model_calls,
            "seconds": record.seconds,
            "outcome": record.outcome,
            "cost": record.cost,
            "day": record.day,
        },
        tool_calls=[
            {
                "name": call.name,
                "arguments": call.arguments,
                "result": call.result,
                "status": call.status,
                "seconds": call.seconds,
            }
            for call in record.tool_calls
        ],
    )


async def store_turn(sessions: async_sessionmaker[AsyncSession], rows: TurnRecordRows) -> None:
    """Write the selection, the tool calls and the usage of the turn in one statement."""
    await agent_records.record_turn(driver(sessions), rows)


@dataclass(frozen=True)
class ConversationState:
    """What earlier turns of the conversation left for this one."""

    sticky_agent: str | None = None
    failed_in_a_row: int = 0
    tool_results: tuple[str, ...] = ()


async def conversation_state(
    sessions: async_sessionmaker[AsyncSession], conversation_id: uuid.UUID, *, recent_tools: int
) -> ConversationState:
    """The last selected agent, the failed turns before this one, the latest tool results."""
    earlier = await agent_records.earlier_turns(
        driver(sessions), conversation_id, outcomes=EARLIER_OUTCOMES, tool_calls=recent_tools
    )
    return state_of(earlier)


def state_of(earlier: EarlierTurns) -> ConversationState:
    """The conversation's state from what its earlier turns recorded."""
    failed = 0
    for outcome in earlier.outcomes:
        if outcome not in ("fallback", "unanswered"):
            break
        failed += 1
    results = tuple(
        f"{name}({arguments}) -> {result[:300]}" for name, arguments, result in earlier.tool_calls
    )
    return ConversationState(earlier.sticky_agent, failed, tuple(reversed(results)))


async def load_state(
    sessions: async_sessionmaker[AsyncSession] | None,
    context: ConversationContext,
    recent_tools: int,
) -> ConversationState:
    """The conversation's state; the worker's sticky agent wins; an unreadable one is empty.

    Earlier turns the caller read (`context.earlier`) are used as they are."""
    if context.earlier is not None:
        state = state_of(context.earlier)
    elif sessions is None or context.conversation_id is None:
        return ConversationState(sticky_agent=context.sticky_agent)
    else:
        try:
            state = await conversation_state(
                sessions, context.conversation_id, recent_tools=recent_tools
            )
        except DATABASE_ERRORS:
            log.warning("could not read the conversation's agent state", exc_info=True)
            state = ConversationState()
    if context.sticky_agent:
        return ConversationState(context.sticky_agent, state.failed_in_a_row, state.tool_results)
    return state
