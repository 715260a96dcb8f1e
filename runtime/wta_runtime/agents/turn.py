"""What an agent is given for one turn and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from wta_runtime.catalog import Agent, Tenant


@dataclass(frozen=True)
class HistoryEntry:
    """A previous message of the conversation, oldest first."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class AgentTurn:
    """Everything the agent needs to answer the user's latest message."""

    tenant: Tenant
    agent: Agent
    contact_name: str | None
    history: tuple[HistoryEntry, ...]
    user_text: str


@dataclass(frozen=True)
class AgentReply:
    """The agent's answer and which provider produced it."""

    text: str
    provider: str


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
