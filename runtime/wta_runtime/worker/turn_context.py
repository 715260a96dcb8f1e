"""Builds what the agent is given for one turn from the stored conversation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from wta_runtime.agents.spend_limits import SpendTotals
from wta_runtime.agents.turn import AgentTurn, ConversationContext, HistoryEntry
from wta_runtime.catalog import Agent, Tenant
from wta_runtime.conversation.contact_language import contact_language
from wta_runtime.conversation.turn_text import (
    HUMAN_HANDLED_NOTE,
    Attachment,
    ContactMessage,
    message_text,
    turn_text,
)
from wta_runtime.db import bursts
from wta_runtime.db import conversation_store as store
from wta_runtime.db.agent_records import EarlierTurns
from wta_runtime.db.driver import Driver
from wta_runtime.db.tables import Conversation, Message

NOT_DELIVERED = frozenset({"refused", "failed", "undelivered", "canceled"})


def _said(
    body: str, details: Mapping[str, Any], attachments: Sequence[Attachment] = ()
) -> ContactMessage:
    return ContactMessage(
        body=body,
        button_text=details.get("button_text"),
        button_payload=details.get("button_payload"),
        attachments=tuple(attachments),
    )


def contact_message(message: Message, attachments: Sequence[Attachment] = ()) -> ContactMessage:
    return _said(message.body, message.details, attachments)


def history_entry(
    direction: str,
    author: str,
    body: str,
    delivery_status: str | None,
    details: Mapping[str, Any] | None,
) -> HistoryEntry | None:
    """A stored message as the agent remembers it; what never reached the contact is left out."""
    details = details or {}
    if direction == "inbound":
        return HistoryEntry("user", message_text(_said(body, details)))
    if delivery_status in NOT_DELIVERED:
        return None
    prefix = "(support) " if author == "support" else ""
    # A file sent is part of what was said: the model should know the menu already went out.
    lines = [body] if body else []
    lines += [f"[sent a file: {url}]" for url in details.get("media_urls", [])]
    return HistoryEntry("assistant", prefix + "\n".join(lines))


async def build_turn(
    db: Driver,
    *,
    tenant: Tenant,
    agent: Agent,
    window: int | None = None,
    conversation: Conversation,
    batch: Sequence[Message],
    attachments: Mapping[uuid.UUID, Sequence[Attachment]],
    human_handled: bool | None = None,
    spent: SpendTotals | None = None,
    recent: Sequence[Sequence[Any]] | None = None,
    earlier: EarlierTurns | None = None,
) -> AgentTurn:
    """History before the burst, the burst as one user turn, and notes about the conversation.

    `window` (default: the agent's own) is how many earlier messages to load; an agent runtime
    that selects another agent trims it to that agent's window. `human_handled`, when the caller
    read it already, saves asking whether a person handed the conversation back; `spent`,
    read with the turn's state, saves the agent runtime reading the tenant's spend. `recent`
    (the `window` messages before the burst, as `TurnState.recent`) and `earlier` (the agents'
    earlier turns), read with the turn's state too, save reading them here and in the runtime.
    The agent runtime hands the turn's record back: the worker writes it with the reply.
    """
    window = agent.spec.memory.window if window is None else window
    if recent is None:
        batch_ids = {m.id for m in batch}
        messages = await store.recent_messages(db, conversation.id, window + len(batch))
        recent = [
            (m.direction, m.author, m.body, m.delivery_status, m.details)
            for m in messages
            if m.id not in batch_ids
        ]
    history = [entry for entry in (history_entry(*said) for said in recent) if entry is not None]
    if human_handled is None:
        human_handled = await bursts.human_handled(db, conversation.id)
    return AgentTurn(
        tenant=tenant,
        agent=agent,
        contact_name=conversation.contact_name,
        history=tuple(history[-window:]),
        user_text=turn_text(
            [contact_message(m, attachments.get(m.id, ())) for m in batch],
            notes=(HUMAN_HANDLED_NOTE,) if human_handled else (),
        ),
        context=ConversationContext(
            turn_key=batch[-1].idempotency_key,
            conversation_id=conversation.id,
            contact_number=conversation.contact_number,
            contact_name=conversation.contact_name,
            language=contact_language(
                [m.body for m in batch if m.body], conversation.contact_number
            ),
            spent=spent,
            earlier=earlier,
            record_with_reply=True,
        ),
    )
