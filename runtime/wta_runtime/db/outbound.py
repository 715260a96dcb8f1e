"""Outbound messages: stored before they are sent, then marked sent, refused or failed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.storable import storable_json, storable_text
from wta_runtime.db.tables import Conversation, Message


def part_key(key: str, index: int) -> str:
    """The key of part `index` (0-based) of a message split in several: key, key#2, key#3..."""
    return key if index == 0 else f"{key}#{index + 1}"


def with_media(parts: Sequence[str], media_urls: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Each part's body and media: the first file with the first part, each other one alone."""
    # WhatsApp delivers one media per message (Twilio ignores the others): one file per part.
    bodies = list(parts) or [""]
    laid_out = [
        (body, [media_urls[0]] if index == 0 and media_urls else [])
        for index, body in enumerate(bodies)
    ]
    return laid_out + [("", [url]) for url in media_urls[1:]]


async def save_outbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    key: str,
    parts: list[str],
    author: str,
    agent: str | None,
    provider: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
    media_urls: Sequence[str] = (),
) -> list[Message]:
    """Store every part of an outbound message (media too) as `pending`; parts stored before win."""
    laid_out = with_media(parts, media_urls) if media_urls else [(p, []) for p in parts]
    rows: list[dict[str, Any]] = []
    for index, (body, media) in enumerate(laid_out):
        part_details = {**(details or {}), "part": index + 1, "parts": len(laid_out)}
        if media:
            part_details["media_urls"] = media
        rows.append(
            {
                "id": uuid.uuid4(),
                "tenant": conversation.tenant,
                "conversation_id": conversation.id,
                "direction": "outbound",
                "author": author,
                "idempotency_key": part_key(key, index),
                "body": storable_text(body),
                "agent": agent,
                "provider": provider,
                "delivery_status": "pending",
                "details": storable_json(part_details),
                "created_at": now,
            }
        )
    # Every part in one statement; RETURNING gives them back unless some were stored before.
    inserted = await session.scalars(
        select(Message)
        .from_statement(
            insert(Message)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
            .returning(Message)
        )
        .execution_options(populate_existing=True)
    )
    stored = sorted(inserted.all(), key=lambda m: m.ordinal)
    if len(stored) == len(rows):
        return stored
    return await message_parts(session, conversation.tenant, key)


async def message_parts(session: AsyncSession, tenant: str, key: str) -> list[Message]:
    """Every stored part of the outbound message `key`, in order."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.tenant == tenant,
            or_(
                Message.idempotency_key == key,
                Message.idempotency_key.startswith(key + "#", autoescape=True),
            ),
        )
        .order_by(Message.ordinal)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def mark_sent(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    twilio_sid: str,
    status: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {"twilio_sid": twilio_sid, "delivery_status": status, "sent_at": now}
    if details:
        values["details"] = Message.details.op("||")(details)
    await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def mark_unsent(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    status: str,
    reason: str,
    error_code: int | None = None,
    now: datetime,
) -> None:
    """A message that will never leave: `refused` by our rules or `failed` at Twilio."""
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status == "pending")
        .values(
            delivery_status=status,
            failure_reason=storable_text(reason),
            error_code=str(error_code) if error_code is not None else None,
            status_updated_at=now,
        )
    )
