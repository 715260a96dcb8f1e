"""What an agent is given for one turn and what it gives back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from wta_runtime.catalog import Agent, Tenant
from wta_runtime.conversation.business_hours import AfterHours

if TYPE_CHECKING:
    from wta_runtime.agents.spend_limits import SpendTotals
    from wta_runtime.db.agent_records import EarlierTurns, TurnRecordRows

ActionKind = Literal["handoff_to_human", "close_conversation"]
ToolStatus = Literal["ok", "error", "refused"]


@dataclass(frozen=True)
class HistoryEntry:
    """A previous message of the conversation, oldest first."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class ConversationContext:
    """Who the turn is with and where it belongs; every field but `turn_key` is optional."""

    # Idempotency key of the turn (the inbound MessageSid): memory rows are written once per key.
    turn_key: str
    conversation_id: uuid.UUID | None = None
    contact_number: str | None = None
    contact_name: str | None = None
    language: str | None = None
    # The agent that answered this conversation so far; None lets the runtime look it up.
    sticky_agent: str | None = None
    # What the tenant spent this month, read with the turn's state; None lets the runtime read
    # it when the tenant sets spending limits.
    spent: SpendTotals | None = None
    # What the conversation's earlier turns recorded (at least `usage.EARLIER_OUTCOMES` outcomes
    # and `runtime.RECENT_TOOL_RESULTS` tool calls), read with the turn's state; None: read here.
    earlier: EarlierTurns | None = None
    # True: the caller writes the turn's record with its reply, in one statement (the worker,
    # fenced by the thread's lease); the runtime hands it back as `AgentReply.record`.
    record_with_reply: bool = False


@dataclass(frozen=True)
class AgentTurn:
    """Everything the agent needs to answer the user's latest message."""

    tenant: Tenant
    agent: Agent
    contact_name: str | None
    history: tuple[HistoryEntry, ...]
    user_text: str
    context: ConversationContext | None = None


@dataclass(frozen=True)
class AgentAction:
    """A lifecycle move the agent asks the worker to make after sending the reply."""

    kind: ActionKind
    reason: str
    # A handoff outside business hours: it still queues, marked after-hours, back at this time.
    after_hours: AfterHours | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call of a turn, as the model asked and as it ended."""

    name: str
    arguments: dict[str, Any]
    result: str
    status: ToolStatus
    seconds: float = 0.0


@dataclass(frozen=True)
class Usage:
    """Tokens the model counted and model calls made for one turn (retries included)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.model_calls + other.model_calls,
        )


@dataclass(frozen=True)
class AgentReply:
    """The agent's answer, which provider produced it, and what else the turn decided."""

    text: str
    provider: str
    actions: tuple[AgentAction, ...] = ()
    tool_calls: tuple[ToolCallRecord, ...] = ()
    usage: Usage = field(default_factory=Usage)
    # The agent that answered (after selection) and how it was chosen.
    agent: str | None = None
    selected_by: str | None = None
    latency_seconds: float = 0.0
    # True when `text` is the fallback message because the model failed.
    fallback: bool = False
    # Public URLs of the agent's files sent with the reply (spec.media, chosen with send_media).
    media_urls: tuple[str, ...] = ()
    # The turn's record not written yet (`ConversationContext.record_with_reply`).
    record: TurnRecordRows | None = None


class AgentProvider(Protocol):
    """Produces the reply of an agent for one turn."""

    name: str

    async def reply(self, turn: AgentTurn) -> AgentReply: ...


def system_prompt(turn: AgentTurn) -> str:
    """The agent's instructions with the tenant, the contact and the knowledge entries."""
    spec = turn.agent.spec
    lines = [spec.instructions.strip(), "", f"Business: {turn.tenant.spec.display_name}."]
    if turn.contact_name:
        lines.append(f"Customer name: {turn.contact_name}.")
    if spec.knowledge.entries:
        lines += ["", "Knowledge:"]
        lines += [f"- Q: {e.question}\n  A: {e.answer}" for e in spec.knowledge.entries]
    return "\n".join(lines)
