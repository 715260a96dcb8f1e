"""Fetches, stores and (for voice) transcribes the media of inbound messages, once each."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant
from wta_runtime.channel.media import MediaDownloader, MediaRefusedError
from wta_runtime.channel.media_stores import MediaStores
from wta_runtime.channel.transcription import Transcriber
from wta_runtime.conversation.turn_text import Attachment
from wta_runtime.db.media_items import find_media, record_media, save_transcript
from wta_runtime.db.tables import MediaItem, Message

log = logging.getLogger("wta.worker")


class MediaIntake:
    """Media rows are keyed by (message, position): a retried turn never downloads twice."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        downloader: MediaDownloader,
        stores: MediaStores,
        transcriber: Transcriber | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._downloader = downloader
        self._stores = stores
        self._transcriber = transcriber
        self._clock = clock

    async def attachments(
        self, tenant: Tenant, messages: Sequence[Message]
    ) -> dict[uuid.UUID, list[Attachment]]:
        """Per message, what the agent learns about each of its attachments."""
        found: dict[uuid.UUID, list[Attachment]] = {}
        for message in messages:
            for position, item in enumerate(message.details.get("media") or []):
                row = await self._item(tenant, message, position, str(item.get("url", "")))
                found.setdefault(message.id, []).append(
                    Attachment(
                        content_type=row.content_type or item.get("content_type"),
                        transcript=row.transcript,
                        refused_reason=row.reason if row.status == "refused" else None,
                    )
                )
        return found

    async def _item(self, tenant: Tenant, message: Message, position: int, url: str) -> MediaItem:
        async with self._sessions() as session:
            row = await find_media(session, message.id, position)
        if row is None:
            row = await self._fetch(tenant, message, position, url)
        if (
            row.status == "stored"
            and row.transcript is None
            and self._transcriber is not None
            and (row.content_type or "").startswith("audio/")
            and row.storage_key
        ):
            audio = await self._stores.for_tenant(tenant).read(tenant.name, row.storage_key)
            text = await self._transcriber.transcribe(tenant, audio, row.content_type or "")
            async with self._sessions.begin() as session:
                await save_transcript(session, row.id, text)
            row.transcript = text
        return row

    async def _fetch(self, tenant: Tenant, message: Message, position: int, url: str) -> MediaItem:
        values: dict[str, object] = {
            "id": uuid.uuid4(),
            "tenant": tenant.name,
            "message_id": message.id,
            "position": position,
            "source_url": url,
            "created_at": self._clock(),
        }
        try:
            media = await self._downloader.download(tenant, url)
        except MediaRefusedError as refused:
            log.warning("media %d of a message of %s refused: %s", position, tenant.name, refused)
            values |= {"status": "refused", "reason": refused.reason}
        else:
            store = self._stores.for_tenant(tenant)
            stored = await store.save(tenant.name, media.content, media.content_type)
            values |= {
                "status": "stored",
                "content_type": media.content_type,
                "size_bytes": len(media.content),
                "sha256": stored.sha256,
                "storage_key": stored.key,
            }
        async with self._sessions.begin() as session:
            return await record_media(session, values)
