"""Conversations handed to a person the way a contact causes it: by asking the bot for one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import ConsolePlatform
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.db.tables import Conversation


async def status_of(
    sessions: async_sessionmaker[AsyncSession], tenant: str, contact: str
) -> Conversation | None:
    async with sessions() as session:
        return await session.scalar(
            select(Conversation)
            .where(Conversation.tenant == tenant, Conversation.contact_number == contact)
            .order_by(Conversation.created_at.desc())
            .limit(1)
        )


async def handed_off(
    platform: ConsolePlatform,
    sessions: async_sessionmaker[AsyncSession],
    tenant: str,
    *,
    body: str = "I want to talk to a human please",
    name: str = "Maria",
    contact: str | None = None,
    media: Sequence[str] = (),
) -> tuple[uuid.UUID, str]:
    """A new contact asks for a person; returns the conversation (now waiting) and the contact."""
    contact = contact or new_contact()
    await platform.contact_writes(tenant, contact, body, name, media)
    conversation = await eventually(
        lambda: status_of(sessions, tenant, contact),
        until=lambda c: c is not None and c.status == "human_handoff",
    )
    assert conversation is not None
    return conversation.id, contact
