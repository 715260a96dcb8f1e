"""What the agents' turns leave behind: the agent selected, token usage, tool calls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wta_runtime.db.driver import Driver, Sql, jsonb
from wta_runtime.db.spend import add_turn


def record_ctes(guard: str) -> str:
    """CTEs writing one turn's rows: the selection, the tool calls (a JSON array, in the order
    they were made), the usage, and the usage added to the agent's spend of the day; each only
    when the SQL condition `guard` holds (the reply's lease, when folded into its statement)."""
    return f"""
    counted AS ({add_turn(guard)}),
    selection AS (
        INSERT INTO agent_selections
            (tenant, conversation_id, turn_key, agent, method, detail, created_at)
        SELECT :tenant, CAST(:conversation AS uuid), :turn_key, :agent, :method, :detail,
               CAST(:now AS timestamptz)
        WHERE {guard}
    ),
    calls AS (
        INSERT INTO agent_tool_calls (tenant, agent, conversation_id, turn_key, name, arguments,
                                      result, status, seconds, created_at)
        SELECT :tenant, :agent, CAST(:conversation AS uuid), :turn_key, c->>'name',
               c->'arguments', c->>'result', c->>'status',
               CAST(c->>'seconds' AS double precision), CAST(:now AS timestamptz)
        FROM jsonb_array_elements(CAST(:calls AS jsonb)) WITH ORDINALITY AS made(c, n)
        WHERE {guard}
        ORDER BY n
    ),
    used AS (
        INSERT INTO agent_usage (tenant, agent, conversation_id, turn_key, provider, model,
                                 prompt_tokens, completion_tokens, model_calls, seconds,
                                 outcome, created_at)
        SELECT :tenant, :agent, CAST(:conversation AS uuid), :turn_key, :provider, :model,
               CAST(:prompt_tokens AS integer), CAST(:completion_tokens AS integer),
               CAST(:model_calls AS integer), CAST(:seconds AS double precision), :outcome,
               CAST(:now AS timestamptz)
        WHERE {guard}
    )
    """  # noqa: S608 (constants of ours, no input)


_RECORD_TURN = Sql(f"WITH {record_ctes('TRUE')} SELECT 1")


@dataclass(frozen=True)
class TurnRow:
    """Who answered which turn of which conversation, and when."""

    tenant: str
    agent: str
    conversation_id: uuid.UUID | None
    turn_key: str
    created_at: datetime


@dataclass(frozen=True)
class TurnRecordRows:
    """One turn's rows, ready to write: alone (`record_turn`) or with its reply.

    `usage`: provider, model, prompt_tokens, completion_tokens, model_calls, seconds, outcome,
    cost (numeric) and day (the tenant's day it is counted in); each tool call: name, arguments,
    result, status, seconds.
    """

    turn: TurnRow
    method: str
    detail: str | None
    usage: dict[str, Any]
    tool_calls: list[dict[str, Any]]

    def params(self) -> dict[str, Any]:
        """The parameters of `record_ctes`."""
        return {
            "tenant": self.turn.tenant,
            "agent": self.turn.agent,
            "conversation": self.turn.conversation_id,
            "turn_key": self.turn.turn_key,
            "now": self.turn.created_at,
            "method": self.method,
            "detail": self.detail,
            "calls": jsonb(self.tool_calls),
            **self.usage,
        }


async def record_turn(db: Driver, rows: TurnRecordRows) -> None:
    """The rows of one turn (selection, usage, tool calls, spend) in one statement."""
    await db.execute(_RECORD_TURN, **rows.params())


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
