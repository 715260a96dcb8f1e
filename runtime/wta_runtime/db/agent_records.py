"""What the agents' turns leave behind: the agent selected, token usage, tool calls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wta_runtime.db.driver import Driver, Sql, jsonb
from wta_runtime.db.spend import ADD_TURN

# The selection, the tool calls (a JSON array, in the order they were made), the usage, and
# the usage added to the agent's spend of the day.
_RECORD_TURN = Sql(
    f"""
    WITH counted AS ({ADD_TURN}),
    selection AS (
        INSERT INTO agent_selections
            (tenant, conversation_id, turn_key, agent, method, detail, created_at)
        VALUES (:tenant, :conversation, :turn_key, :agent, :method, :detail, :now)
    ),
    calls AS (
        INSERT INTO agent_tool_calls (tenant, agent, conversation_id, turn_key, name, arguments,
                                      result, status, seconds, created_at)
        SELECT :tenant, :agent, :conversation, :turn_key, c->>'name', c->'arguments',
               c->>'result', c->>'status', CAST(c->>'seconds' AS double precision), :now
        FROM jsonb_array_elements(CAST(:calls AS jsonb)) WITH ORDINALITY AS made(c, n)
        ORDER BY n
    )
    INSERT INTO agent_usage (tenant, agent, conversation_id, turn_key, provider, model,
                             prompt_tokens, completion_tokens, model_calls, seconds, outcome,
                             created_at)
    VALUES (:tenant, :agent, :conversation, :turn_key, :provider, :model, :prompt_tokens,
            :completion_tokens, :model_calls, :seconds, :outcome, :now)
    """  # noqa: S608 (constants of ours, no input)
)


@dataclass(frozen=True)
class TurnRow:
    """Who answered which turn of which conversation, and when."""

    tenant: str
    agent: str
    conversation_id: uuid.UUID | None
    turn_key: str
    created_at: datetime


async def record_turn(
    db: Driver,
    turn: TurnRow,
    *,
    method: str,
    detail: str | None,
    usage: dict[str, Any],
    tool_calls: list[dict[str, Any]],
) -> None:
    """The rows of one turn (selection, usage, tool calls) in one statement.

    `usage`: provider, model, prompt_tokens, completion_tokens, model_calls, seconds, outcome,
    cost (numeric) and day (the tenant's day it is counted in); each tool call: name, arguments,
    result, status, seconds.
    """
    await db.execute(
        _RECORD_TURN,
        tenant=turn.tenant,
        agent=turn.agent,
        conversation=turn.conversation_id,
        turn_key=turn.turn_key,
        now=turn.created_at,
        method=method,
        detail=detail,
        calls=jsonb(tool_calls),
        **usage,
    )


@dataclass(frozen=True)
class EarlierTurns:
    """What a conversation's earlier turns recorded, newest first."""

    sticky_agent: str | None
    outcomes: list[str]
    # (name, arguments, result) of the latest tool calls.
    tool_calls: list[tuple[str, Any, str]]


def earlier_turns_columns(conversation: str) -> str:
    """The columns `sticky_agent`, `outcomes` and `tool_calls` of the conversation whose id is
    the SQL expression `conversation`, with the parameters `:outcomes` and `:tool_calls`."""
    return f"""
        (SELECT agent FROM agent_selections WHERE conversation_id = {conversation}
         ORDER BY id DESC LIMIT 1) AS sticky_agent,
        (SELECT array_agg(outcome ORDER BY id DESC) FROM (
            SELECT id, outcome FROM agent_usage WHERE conversation_id = {conversation}
            ORDER BY id DESC LIMIT :outcomes) AS recent) AS outcomes,
        (SELECT json_agg(json_build_array(name, arguments, result) ORDER BY id DESC) FROM (
            SELECT id, name, arguments, result FROM agent_tool_calls
            WHERE conversation_id = {conversation}
            ORDER BY id DESC LIMIT :tool_calls) AS latest) AS tool_calls
    """  # noqa: S608 (constants of ours, no input)


_EARLIER_TURNS = Sql(f"SELECT {earlier_turns_columns(':conversation')}")


def earlier_of(row: Mapping[str, Any]) -> EarlierTurns:
    """The `earlier_turns_columns` of a row."""
    return EarlierTurns(
        sticky_agent=row["sticky_agent"],
        outcomes=list(row["outcomes"] or ()),
        tool_calls=[
            (name, arguments, result) for name, arguments, result in row["tool_calls"] or ()
        ],
    )


async def earlier_turns(
    db: Driver, conversation_id: uuid.UUID, *, outcomes: int, tool_calls: int
) -> EarlierTurns:
    """The last agent selected, the last `outcomes` outcomes and `tool_calls` tool calls.

    One statement (three subqueries): the turn pays one round trip for it.
    """
    row = await db.fetchrow(
        _EARLIER_TURNS, conversation=conversation_id, outcomes=outcomes, tool_calls=tool_calls
    )
    assert row is not None
    return earlier_of(row)
