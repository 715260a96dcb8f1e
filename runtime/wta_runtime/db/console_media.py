"""The console's attachments: contacts' stored media and the files staff send, per tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.staff_tables import OutboundFile
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


async def record_outbound_file(
    session: AsyncSession,
    *,
    tenant: str,
    storage_key: str,
    content_type: str,
    filename: str,
    size_bytes: int,
    uploaded_by: str,
    now: datetime,
) -> uuid.UUID:
    """Remember a file staff uploaded; its id is what the signed URL names."""
    file_id = uuid.uuid4()
    session.add(
        OutboundFile(
            id=file_id,
            tenant=tenant,
            storage_key=storage_key,
            content_type=content_type,
            filename=filename,
            size_bytes=size_bytes,
            uploaded_by=uploaded_by,
            created_at=now,
        )
    )
    return file_id


async def outbound_file(session: AsyncSession, file_id: uuid.UUID) -> OutboundFile | None:
    return await session.get(OutboundFile, file_id)
