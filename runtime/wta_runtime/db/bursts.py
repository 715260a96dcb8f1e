"""Queries about the unanswered messages of a conversation: stored, when they came, moved."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.conversation.lifecycle import State
from wta_runtime.db.driver import Driver, Sql
from wta_runtime.db.tables import Message


async def stored_keys(session: AsyncSession, tenant: str, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys (inbound: `MessageSid`s) are stored already."""
    if not keys:
        return set()
    rows = await session.scalars(
        select(Message.idempotency_key).where(
            Message.tenant == tenant, Message.idempotency_key.in_(keys)
        )
    )
    return set(rows.all())


async def unanswered_span(
    session: AsyncSession, conversation_id: uuid.UUID
) -> tuple[datetime | None, datetime | None]:
    """When the oldest and the newest unanswered inbound message of a conversation came."""
    oldest, newest = (
        await session.execute(
            select(func.min(Message.created_at), func.max(Message.created_at)).where(
                Message.conversation_id == conversation_id,
                Message.direction == "inbound",
                Message.answered_by.is_(None),
            )
        )
    ).one()
    return oldest, newest


async def move_unanswered(session: AsyncSession, *, source: uuid.UUID, target: uuid.UUID) -> None:
    """Unanswered inbound messages of conversation `source` move to conversation `target`."""
    await session.execute(
        update(Message)
        .where(
            Message.conversation_id == source,
            Message.direction == "inbound",
            Message.answered_by.is_(None),
        )
        .values(conversation_id=target)
    )


_HUMAN_HANDLED = Sql(
    f"""
    SELECT EXISTS (
        SELECT 1 FROM conversation_state_history
        WHERE conversation_id = :conversation AND from_status = '{State.HUMAN_HANDOFF.value}'
          AND to_status = '{State.PROGRESS.value}'
    )
    """  # noqa: S608 (constants of ours, no input)
)


async def human_handled(db: Driver, conversation_id: uuid.UUID) -> bool:
    """Whether a person handed this conversation back to the bot at some point."""
    return bool(await db.fetchval(_HUMAN_HANDLED, conversation=conversation_id))
