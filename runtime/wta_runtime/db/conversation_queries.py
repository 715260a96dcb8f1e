"""Read-side queries of the conversation API, always scoped to one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import Conversation, Message, StateChange


async def list_conversations(
    session: AsyncSession,
    tenant: str,
    *,
    status: Sequence[str] = (),
    contact: str | None = None,
    flagged: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Conversation]:
    """The tenant's conversations, most recently active first, filtered."""
    query = select(Conversation).where(Conversation.tenant == tenant)
    if status:
        query = query.where(Conversation.status.in_(list(status)))
    if contact:
        query = query.where(Conversation.contact_number == contact)
    if flagged is not None:
        query = query.where(
            Conversation.flagged_at.is_not(None) if flagged else Conversation.flagged_at.is_(None)
        )
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit)
    return list((await session.scalars(query.offset(offset))).all())


async def handoff_queue(session: AsyncSession, tenant: str) -> list[Conversation]:
    """Conversations with a person, waiting longest first; unassigned ones before assigned."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.tenant == tenant, Conversation.status == "human_handoff")
        .order_by(Conversation.assigned_to.is_not(None), Conversation.handoff_at, Conversation.id)
    )
    return list(rows.all())


async def tenant_conversation(
    session: AsyncSession, tenant: str, conversation_id: uuid.UUID
) -> Conversation | None:
    found = await session.get(Conversation, conversation_id, populate_existing=True)
    return found if found is not None and found.tenant == tenant else None


async def conversation_messages(session: AsyncSession, conversation_id: uuid.UUID) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.ordinal)
    )
    return list(rows.all())


async def newest_inbound(session: AsyncSession, conversation_id: uuid.UUID) -> Message | None:
    """The contact's newest message of the conversation (what a typing indicator names)."""
    return await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
        .order_by(Message.created_at.desc(), Message.ordinal.desc())
        .limit(1)
    )


async def conversation_history(
    session: AsyncSession, conversation_id: uuid.UUID
) -> list[StateChange]:
    rows = await session.scalars(
        select(StateChange)
        .where(StateChange.conversation_id == conversation_id)
        .order_by(StateChange.id)
    )
    return list(rows.all())
