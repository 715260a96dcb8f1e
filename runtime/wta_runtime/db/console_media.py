"""The console's reads of stored attachments, always scoped to one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import MediaItem


async def media_of_messages(
    session: AsyncSession, tenant: str, message_ids: Sequence[uuid.UUID]
) -> list[MediaItem]:
    """The attachments of these messages, in their order within each message."""
    if not message_ids:
        return []
    rows = await session.scalars(
        select(MediaItem)
        .where(MediaItem.tenant == tenant, MediaItem.message_id.in_(list(message_ids)))
        .order_by(MediaItem.message_id, MediaItem.position)
    )
    return list(rows.all())


async def stored_media(session: AsyncSession, tenant: str, media_id: uuid.UUID) -> MediaItem | None:
    """One stored attachment of the tenant; None for another tenant's or a refused one."""
    return await session.scalar(
        select(MediaItem).where(
            MediaItem.id == media_id,
            MediaItem.tenant == tenant,
            MediaItem.status == "stored",
            MediaItem.storage_key.is_not(None),
        )
    )
