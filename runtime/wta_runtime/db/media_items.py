"""Queries of the media rows of inbound messages: found, recorded once, transcribed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import MediaItem


async def find_media(
    session: AsyncSession, message_id: uuid.UUID, position: int
) -> MediaItem | None:
    """Media item `position` of a message, read fresh."""
    return await session.scalar(
        select(MediaItem)
        .where(MediaItem.message_id == message_id, MediaItem.position == position)
        .execution_options(populate_existing=True)
    )


async def record_media(session: AsyncSession, values: dict[str, Any]) -> MediaItem:
    """Store a media row once per (message, position); the row stored first wins."""
    await session.execute(
        insert(MediaItem)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["message_id", "position"])
    )
    row = await find_media(session, values["message_id"], values["position"])
    assert row is not None
    return row


async def save_transcript(session: AsyncSession, media_id: uuid.UUID, transcript: str) -> None:
    await session.execute(
        update(MediaItem).where(MediaItem.id == media_id).values(transcript=transcript)
    )
