"""Queries that record inbound messages, replies and lifecycle moves of conversations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import OPEN_STATES, Conversation, Message, StateChange


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
    found = await session.scalar(
        select(Conversation).where(*where, Conversation.status.in_(OPEN_STATES)).with_for_update()
    )
    if found is not None:
        return found
    previous = await session.scalar(
        select(Conversation.id).where(*where).order_by(Conversation.created_at.desc()).limit(1)
    )
    new_id = uuid.uuid4()
    # A concurrent writer may create the same open conversation: the partial unique index decides.
    await session.execute(
        insert(Conversation)
        .values(
            id=new_id,
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
    )
    conversation = await session.scalar(
        select(Conversation).where(*where, Conversation.status.in_(OPEN_STATES)).with_for_update()
    )
    assert conversation is not None
    if conversation.id == new_id:
        session.add(
            StateChange(
                conversation_id=new_id,
                from_status=None,
                to_status="pending",
                reason="first_inbound_message",
                changed_at=now,
            )
        )
    return conversation


async def record_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message_sid: str,
    body: str,
    details: dict[str, Any],
    now: datetime,
) -> Message:
    """Store an inbound message once, keyed by its `MessageSid`; return the stored row."""
    await session.execute(
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
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_inbound_at=now, updated_at=now)
    )
    stored = await find_message(session, conversation.tenant, message_sid)
    assert stored is not None
    return stored


async def find_message(session: AsyncSession, tenant: str, key: str) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.tenant == tenant, Message.idempotency_key == key)
    )


async def recent_messages(
    session: AsyncSession, conversation_id: uuid.UUID, limit: int
) -> list[Message]:
    """The last `limit` messages of a conversation, oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.direction.desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))


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
    """Store a reply before it is sent, under a deterministic key; an existing one wins."""
    await session.execute(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            tenant=conversation.tenant,
            conversation_id=conversation.id,
            direction="outbound",
            author="agent",
            idempotency_key=key,
            body=body,
            agent=agent,
            provider=provider,
            delivery_status="pending",
            details={},
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
    )
    stored = await find_message(session, conversation.tenant, key)
    assert stored is not None
    return stored


async def mark_sent(
    session: AsyncSession, *, message_id: uuid.UUID, twilio_sid: str, status: str, now: datetime
) -> None:
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(twilio_sid=twilio_sid, delivery_status=status, sent_at=now)
    )


async def move_to_progress(
    session: AsyncSession, *, conversation: Conversation, now: datetime, timeout: timedelta
) -> None:
    """A reply moves a pending or idle conversation to progress; every reply extends its expiry."""
    values: dict[str, Any] = {
        "updated_at": now,
        "expires_at": now + timeout,
        "version": Conversation.version + 1,
    }
    if conversation.status in ("pending", "idle_timeout"):
        values["status"] = "progress"
        session.add(
            StateChange(
                conversation_id=conversation.id,
                from_status=conversation.status,
                to_status="progress",
                reason="first_reply" if conversation.status == "pending" else "user_returned",
                changed_at=now,
            )
        )
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.version == conversation.version)
        .values(**values)
    )
