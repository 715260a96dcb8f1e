"""Ways a burst is settled without the bot answering it, and the markers that record them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.catalog import Agent, Tenant
from wta_runtime.channel.delivery_status import PENDING
from wta_runtime.conversation.intents import is_closing_intent
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db import conversation_store as store
from wta_runtime.db.outbound import mark_unsent, message_parts
from wta_runtime.db.storable import storable_text
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.db.transitions import touch, transition
from wta_runtime.worker.turn_context import contact_message

Outcome = Literal[
    "replied",
    "already_replied",
    "with_human",
    "closed_by_user",
    "no_agent",
    "tenant_suspended",
    "refused",
    "opted_out",
]

# Markers in `messages.answered_by` for inbound messages settled without a reply of the bot.
WITH_HUMAN, CLOSED_BY_USER, NO_AGENT = "with_human", "closed_by_user", "no_agent"
OPTED_OUT = "opted_out"
MARKERS: dict[str, Outcome] = {
    WITH_HUMAN: "with_human",
    CLOSED_BY_USER: "closed_by_user",
    NO_AGENT: "no_agent",
    OPTED_OUT: "opted_out",
}


def is_farewell(tenant: Tenant, message: Message) -> bool:
    """A message that only says goodbye (closing words, no attachment): nothing to answer."""
    return not message.details.get("num_media") and is_closing_intent(
        contact_message(message).body, tenant.spec.conversation.closing_keywords
    )


def needs_answer(tenant: Tenant, batch: list[Message]) -> bool:
    """Whether the burst says anything besides goodbye ("opening hours?" then "thanks" does)."""
    return any(not is_farewell(tenant, message) for message in batch)


def closes_after_reply(tenant: Tenant, batch: list[Message]) -> bool:
    """A burst that asks, then says goodbye: answered first, then closed as `user_closed`."""
    return bool(batch) and is_farewell(tenant, batch[-1]) and needs_answer(tenant, batch)


def answers_plainly(
    tenant: Tenant, agent: Agent | None, conversation: Conversation, batch: list[Message]
) -> bool:
    """True when `settle_without_agent` would leave the burst to the bot (and write nothing)."""
    return (
        bool(batch)
        and agent is not None
        and conversation.status != State.HUMAN_HANDOFF
        and needs_answer(tenant, batch)
    )


async def settle_without_agent(
    session: AsyncSession,
    tenant: Tenant,
    agent: Agent | None,
    conversation: Conversation,
    batch: list[Message],
    *,
    now: datetime,
) -> Outcome | None:
    """Settle the burst when the bot must not answer it: with a person, only goodbyes, no agent.

    Handoff words are the agent's business (`AIAgent.spec.handoff`): it answers with the
    `handoff_to_human` action, which the worker applies after sending its reply.
    """
    if conversation.status == State.HUMAN_HANDOFF:
        await store.mark_answered(session, batch, WITH_HUMAN)
        return "with_human"
    if batch and not needs_answer(tenant, batch):
        # Only goodbyes: a burst that also asks something is answered, then closed.
        await transition(
            session, conversation.id, State.USER_CLOSED, reason="user_closing_words", now=now
        )
        await store.mark_answered(session, batch, CLOSED_BY_USER)
        return "closed_by_user"
    if agent is None:
        await store.mark_answered(session, batch, NO_AGENT)
        return "no_agent"
    return None


def fallback_text(tenant: Tenant, agent: Agent | None) -> str:
    return (agent.spec.fallback_message if agent else None) or tenant.spec.fallback_message


async def flag(
    session: AsyncSession, conversation: Conversation, reason: str, now: datetime
) -> None:
    """Mark a conversation for a person to look at (kept until someone clears it)."""
    flagged = {"flagged_at": now, "flag_reason": storable_text(reason)[:256]}
    await touch(session, conversation.id, now=now, values=flagged)


async def refuse_pending(
    session: AsyncSession, tenant: str, key: str, reason: str, now: datetime
) -> None:
    """Parts of a stored message that must not leave any more.

    An `attempted` part may be at Twilio already: it keeps that status rather than a false
    `refused` (only a delivery, which asks Twilio, settles it).
    """
    for part in await message_parts(session, tenant, key):
        if part.delivery_status != PENDING:
            continue
        await mark_unsent(session, message_id=part.id, status="refused", reason=reason, now=now)
