"""Replays a stored conversation's inbound messages through a candidate agent, sending nothing.

The conversation is read in one read-only transaction of the tenant's database; the candidate runs
on the agent runtime without a database (no memory, usage or state is written) and without a
channel (nothing reaches Twilio). Each turn gets the stored conversation before it as history, so
every candidate answer is compared with what was sent on the same footing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.agent_catalog import AgentCatalog, agent_catalog_of
from wta_runtime.agents.knowledge import config_maps_from_files, config_maps_from_manifests
from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.agents.turn import ConversationContext, HistoryEntry
from wta_runtime.conversation.contact_language import contact_language
from wta_runtime.db.conversation_queries import conversation_messages
from wta_runtime.db.tables import Conversation
from wta_runtime.manifests import ManifestError, read_manifest_files, read_manifests


class ConversationNotFound(LookupError):
    """No stored conversation has that id."""


@dataclass(frozen=True)
class StoredTurn:
    """The contact's messages of one turn (a burst is one turn) and what was sent after them."""

    said: str
    sent: tuple[str, ...]


@dataclass(frozen=True)
class StoredConversation:
    """A conversation as stored: its tenant, contact and turns, oldest first."""

    id: uuid.UUID
    tenant: str
    contact_number: str
    contact_name: str | None
    turns: tuple[StoredTurn, ...]


@dataclass(frozen=True)
class ReplayedTurn:
    """One turn: what the contact said, what was sent, what the candidate would say."""

    said: str
    sent: tuple[str, ...]
    candidate: str
    agent: str | None
    handed_off: bool


def stored_turns(messages: Sequence[tuple[str, str]]) -> tuple[StoredTurn, ...]:
    """(direction, body) in order -> turns: inbound messages in a row, then the outbound after."""
    turns: list[StoredTurn] = []
    said: list[str] = []
    sent: list[str] = []
    for direction, body in messages:
        if direction == "inbound":
            if sent:
                turns.append(StoredTurn("\n".join(said), tuple(sent)))
                said, sent = [], []
            said.append(body)
        elif said:  # what was sent before the contact wrote (a template) is no turn
            sent.append(body)
    if said:
        turns.append(StoredTurn("\n".join(said), tuple(sent)))
    return tuple(turns)


async def read_conversation(
    sessions: async_sessionmaker[AsyncSession], conversation_id: uuid.UUID
) -> StoredConversation:
    """The conversation and its messages, read in one read-only transaction."""
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION READ ONLY"))
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        messages = await conversation_messages(session, conversation_id)
        return StoredConversation(
            id=conversation.id,
            tenant=conversation.tenant,
            contact_number=conversation.contact_number,
            contact_name=conversation.contact_name,
            turns=stored_turns([(m.direction, m.body) for m in messages]),
        )


def candidate_catalog(
    manifests_dir: Path, candidates: Sequence[Path], secrets_dir: Path | None
) -> AgentCatalog:
    """The platform's tenants with their agents replaced by the candidate AIAgent manifests."""
    manifests = read_manifests(manifests_dir)
    candidate = read_manifest_files(candidates)
    if not candidate.agents:
        raise ManifestError(f"{', '.join(map(str, candidates))}: no AIAgent manifest")
    manifests.agents = candidate.agents
    for key, data in candidate.secrets.items():
        manifests.secrets.setdefault(key, {}).update(data)
    config_maps = {
        **config_maps_from_manifests(manifests_dir),
        **config_maps_from_files(candidates),
    }
    return agent_catalog_of(manifests, config_maps, secrets_dir)


async def replay(runtime: AgentRuntime, conversation: StoredConversation) -> list[ReplayedTurn]:
    """Each stored turn answered by the candidate, with the stored conversation as history."""
    history: list[HistoryEntry] = []
    replayed: list[ReplayedTurn] = []
    agent: str | None = None
    for number, turn in enumerate(conversation.turns, start=1):
        said = [entry.text for entry in history if entry.role == "user"] + [turn.said]
        context = ConversationContext(
            turn_key=f"replay:{conversation.id}:{number}",
            contact_number=conversation.contact_number,
            contact_name=conversation.contact_name,
            language=contact_language(said, conversation.contact_number),
            sticky_agent=agent,
        )
        reply = await runtime.respond(conversation.tenant, context, turn.said, history)
        agent = reply.agent or agent
        handed_off = any(action.kind == "handoff_to_human" for action in reply.actions)
        replayed.append(ReplayedTurn(turn.said, turn.sent, reply.text, reply.agent, handed_off))
        history.append(HistoryEntry("user", turn.said))
        history += [HistoryEntry("assistant", body) for body in turn.sent]
    return replayed
