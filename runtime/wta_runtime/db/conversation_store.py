"""Queries that find or open conversations and record their inbound messages and replies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, exists, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.conversation.lifecycle import State
from wta_runtime.db.outbound import mark_sent, save_outbound
from wta_runtime.db.tables import OPEN_STATES, Contact, Conversation, Message, StateChange
from wta_runtime.db.transitions import touch, transition

__all__ = [
    "InboundRecord",
    "find_message",
    "mark_answered",
    "mark_sent",
    "move_to_progress",
    "open_conversation",
    "recent_messages",
    "record_inbound",
    "save_reply",
    "unanswered_inbound",
]


@dataclass(frozen=True)
class InboundRecord:
    """The stored inbound message and the conversation it belongs to."""

    conversation: Conversation
    message: Message


async def open_conversation(
    session: AsyncSession,
    *,
    tenant: str,
    contact: str,
    business: str,
    contact_name: str | None,
    now: datetime,
    pending_timeout: timedelta,
) -> Conversation:
    """The open conversation of this contact and number; a new, linked one if none is open."""
    where = (
        Conversation.tenant == tenant,
        Conversation.contact_number == contact,
        Conversation.business_number == business,
    )
    open_one = select(Conversation).where(*where, Conversation.status.in_(OPEN_STATES))
    found = await session.scalar(open_one.with_for_update())
    if found is not None:
        return found
    previous = (
        select(Conversation.id)
        .where(*where)
        .order_by(Conversation.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    # A concurrent writer may create the same open conversation: the partial unique index decides.
    opened = (
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            tenant=tenant,
            contact_number=contact,
            business_number=business,
            contact_name=contact_name,
            status="pending",
            version=1,
            previous_conversation_id=previous,
            created_at=now,
            updated_at=now,
            expires_at=now + pending_timeout,
        )
        .on_conflict_do_nothing()
        .returning(Conversation)
        .cte("opened")
    )
    history = (
        insert(StateChange)
        .from_select(
            ["conversation_id", "from_status", "to_status", "reason", "changed_at"],
            select(
                opened.c.id,
                literal(None, String()),
                literal("pending"),
                literal("first_inbound_message"),
                literal(now, DateTime(timezone=True)),
            ),
        )
        .cte("history")
    )
    conversation: Conversation | None = await session.scalar(
        select(Conversation)
        .from_statement(select(opened).add_cte(history))
        .execution_options(populate_existing=True)
    )
    if conversation is None:  # the other writer's conversation: wait for it, then use it
        conversation = await session.scalar(
            open_one.with_for_update().execution_options(populate_existing=True)
        )
    assert conversation is not None
    return conversation


async def record_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message_sid: str,
    body: str,
    details: dict[str, Any],
    now: datetime,
    received_at: datetime | None = None,
    stream_seq: int | None = None,
) -> Message:
    """Store an inbound message once, keyed by its `MessageSid`; return the stored row.

    The first time, it also records the contact's last inbound time (WhatsApp's 24 h window);
    message, conversation and contact are written by one statement.
    """
    inserted = (
        insert(Message)
        .values(
            id=uuid.uuid4(),
            tenant=conversation.tenant,
            conversation_id=conversation.id,
            direction="inbound",
            author="user",
            idempotency_key=message_sid,
            body=body,
            twilio_sid=message_sid,
            details=details,
            stream_seq=stream_seq,
            created_at=received_at or now,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
        .returning(Message)
        .cte("inserted")
    )
    stored = exists(select(inserted.c.id))
    seen = (
        update(Conversation)
        .where(Conversation.id == conversation.id, stored)
        .values(last_inbound_at=now, updated_at=now)
        .cte("seen")
    )
    contact = insert(Contact).from_select(
        ["tenant", "business_number", "contact_number", "profile_name", "last_inbound_at"],
        select(
            literal(conversation.tenant),
            literal(conversation.business_number),
            literal(conversation.contact_number),
            literal(conversation.contact_name, String()),
            literal(now, DateTime(timezone=True)),
        ).where(stored),
    )
    upserted = contact.on_conflict_do_update(
        index_elements=["tenant", "business_number", "contact_number"],
        set_={
            "last_inbound_at": contact.excluded.last_inbound_at,
            "profile_name": contact.excluded.profile_name,
        },
        where=Contact.last_inbound_at < contact.excluded.last_inbound_at,
    ).cte("contact")
    row: Message | None = await session.scalar(
        select(Message)
        .from_statement(select(inserted).add_cte(seen, upserted))
        .execution_options(populate_existing=True)
    )
    if row is not None:
        return row
    found = await find_message(session, conversation.tenant, message_sid)  # stored before
    assert found is not None
    return found


async def find_message(session: AsyncSession, tenant: str, key: str) -> Message | None:
    return await session.scalar(
        select(Message)
        .where(Message.tenant == tenant, Message.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


async def message_and_conversation(
    session: AsyncSession, tenant: str, key: str
) -> tuple[Message, Conversation] | None:
    """A stored message and its conversation, read fresh, in one query."""
    row = (
        await session.execute(
            select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.tenant == tenant, Message.idempotency_key == key)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def recent_messages(
    session: AsyncSession, conversation_id: uuid.UUID, limit: int
) -> list[Message]:
    """The last `limit` messages of a conversation, oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.ordinal.desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))


async def unanswered_inbound(session: AsyncSession, conversation_id: uuid.UUID) -> list[Message]:
    """Inbound messages nothing has answered or settled yet, in the order the contact sent them."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "inbound",
            Message.answered_by.is_(None),
        )
        .order_by(Message.stream_seq.asc().nulls_last(), Message.created_at, Message.ordinal)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def mark_answered(session: AsyncSession, messages: Sequence[Message], by: str) -> None:
    """Settle inbound messages: by a reply's key, or by a marker such as `with_human`."""
    await session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in messages]), Message.answered_by.is_(None))
        .values(answered_by=by)
    )


async def save_reply(
    session: AsyncSession,
    *,
    conversation: Conversation,
    key: str,
    body: str,
    agent: str | None,
    provider: str,
    now: datetime,
) -> Message:
    """Store a one-part agent reply before it is sent, under a deterministic key."""
    parts = await save_outbound(
        session,
        conversation=conversation,
        key=key,
        parts=[body],
        author="agent",
        agent=agent,
        provider=provider,
        now=now,
    )
    return parts[0]


async def move_to_progress(
    session: AsyncSession, *, conversation: Conversation, now: datetime, timeout: timedelta
) -> None:
    """A reply moves a pending or idle conversation to progress; every reply extends its expiry."""
    row = (
        await session.execute(
            select(Conversation.status, Conversation.version).where(
                Conversation.id == conversation.id
            )
        )
    ).one()
    current = State(row.status)
    extend = {"expires_at": now + timeout}
    if current in (State.PENDING, State.IDLE_TIMEOUT):
        reason = "first_reply" if current == State.PENDING else "user_returned"
        await transition(
            session,
            conversation.id,
            State.PROGRESS,
            reason=reason,
            now=now,
            values=extend,
            known=(current, int(row.version)),
        )
    elif current == State.PROGRESS:
        await touch(session, conversation.id, now=now, values=extend)
