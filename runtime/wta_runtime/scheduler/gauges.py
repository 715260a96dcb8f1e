"""Gauges the scheduler exports each sweep: open conversations by state, handoff queue age."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime import metrics
from wta_runtime.db.tables import OPEN_STATES, Conversation


async def export_conversation_gauges(session: AsyncSession, *, tenant: str, now: datetime) -> None:
    """Set `wta_conversations` and `wta_handoff_oldest_waiting_seconds` for one tenant."""
    rows = await session.execute(
        select(Conversation.status, func.count())
        .where(Conversation.tenant == tenant, Conversation.status.in_(OPEN_STATES))
        .group_by(Conversation.status)
    )
    counts = {state: count for state, count in rows.all()}
    for state in OPEN_STATES:
        metrics.CONVERSATIONS.labels(tenant, state).set(counts.get(state, 0))
    oldest = await session.scalar(
        select(func.min(func.coalesce(Conversation.handoff_at, Conversation.updated_at))).where(
            Conversation.tenant == tenant, Conversation.status == "human_handoff"
        )
    )
    waiting = (now - oldest).total_seconds() if oldest is not None else 0.0
    metrics.HANDOFF_OLDEST_WAITING.labels(tenant).set(max(0.0, waiting))
