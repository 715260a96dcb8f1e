"""The console's search over a tenant's conversations: filters, text in messages, pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import Conversation, Message


@dataclass(frozen=True)
class ConversationFilter:
    """What staff narrow the list by; empty fields do not filter."""

    statuses: Sequence[str] = field(default_factory=tuple)
    contact: str | None = None
    assigned_to: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


async def search_conversations(
    session: AsyncSession, tenant: str, where: ConversationFilter, *, limit: int, offset: int
) -> list[Conversation]:
    """The tenant's matching conversations, most recently active first."""
    query = select(Conversation).where(Conversation.tenant == tenant)
    if where.statuses:
        query = query.where(Conversation.status.in_(list(where.statuses)))
    if where.contact:
        query = query.where(
            or_(
                Conversation.contact_number.contains(where.contact, autoescape=True),
                Conversation.contact_name.icontains(where.contact, autoescape=True),
            )
        )
    if where.assigned_to:
        query = query.where(Conversation.assigned_to == where.assigned_to)
    if where.since:
        query = query.where(Conversation.updated_at >= where.since)
    if where.until:
        query = query.where(Conversation.created_at < where.until)
    if where.text:
        query = query.where(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.tenant == tenant,
                Message.body.icontains(where.text, autoescape=True),
            )
        )
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id)
    return list((await session.scalars(query.limit(limit).offset(offset))).all())
