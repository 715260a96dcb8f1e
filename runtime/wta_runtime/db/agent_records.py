"""What the agents' turns leave behind: the agent selected, token usage, tool calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, func, insert, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.agent_tables import AgentSelection, ToolCall, TurnUsage


async def record_turn(
    session: AsyncSession,
    *,
    selection: dict[str, Any],
    usage: dict[str, Any],
    tool_calls: list[dict[str, Any]],
) -> None:
    """The rows of one turn (selection, usage, tool calls) in one statement."""
    ctes = [insert(AgentSelection).values(**selection).cte("selection")]
    if tool_calls:
        ctes.append(insert(ToolCall).values(tool_calls).cte("calls"))
    await session.execute(insert(TurnUsage).values(**usage).add_cte(*ctes))


@dataclass(frozen=True)
class EarlierTurns:
    """What a conversation's earlier turns recorded, newest first."""

    sticky_agent: str | None
    outcomes: list[str]
    # (name, arguments, result) of the latest tool calls.
    tool_calls: list[tuple[str, Any, str]]


async def earlier_turns(
    session: AsyncSession, conversation_id: uuid.UUID, *, outcomes: int, tool_calls: int
) -> EarlierTurns:
    """The last agent selected, the last `outcomes` outcomes and `tool_calls` tool calls.

    One statement (three subqueries): the turn pays one round trip for it.
    """
    sticky = (
        select(AgentSelection.agent)
        .where(AgentSelection.conversation_id == conversation_id)
        .order_by(AgentSelection.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    recent = (
        select(TurnUsage.id, TurnUsage.outcome)
        .where(TurnUsage.conversation_id == conversation_id)
        .order_by(TurnUsage.id.desc())
        .limit(outcomes)
        .subquery()
    )
    outcome_list = select(
        func.array_agg(aggregate_order_by(recent.c.outcome, recent.c.id.desc()))
    ).scalar_subquery()
    latest = (
        select(ToolCall.id, ToolCall.name, ToolCall.arguments, ToolCall.result)
        .where(ToolCall.conversation_id == conversation_id)
        .order_by(ToolCall.id.desc())
        .limit(tool_calls)
        .subquery()
    )
    calls = select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(latest.c.name, latest.c.arguments, latest.c.result),
                latest.c.id.desc(),
            ),
            type_=JSON,
        )
    ).scalar_subquery()
    row = (await session.execute(select(sticky, outcome_list, calls))).one()
    return EarlierTurns(
        sticky_agent=row[0],
        outcomes=list(row[1] or ()),
        tool_calls=[(name, arguments, result) for name, arguments, result in row[2] or ()],
    )
