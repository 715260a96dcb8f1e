"""Twilio status callbacks applied to outbound messages: the furthest status wins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.channel.delivery_status import is_further
from wta_runtime.db.tables import Message

StatusOutcome = Literal["applied", "stale", "unknown"]


async def apply_status(
    session: AsyncSession,
    *,
    tenant: str,
    twilio_sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
) -> StatusOutcome:
    """Record `status` if it is further than what the message reached; `unknown` if no message."""
    message = await session.scalar(
        select(Message)
        .where(
            Message.tenant == tenant,
            Message.twilio_sid == twilio_sid,
            Message.direction == "outbound",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if message is None:
        return "unknown"
    if not is_further(message.delivery_status, status):
        return "stale"
    message.delivery_status = status
    message.status_updated_at = now
    if error_code:
        message.error_code = error_code
    return "applied"
