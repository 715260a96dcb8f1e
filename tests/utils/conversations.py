"""Factories for stored conversations and inbound messages, on an injected clock."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.webhooks import new_contact
from wta_runtime.agents.turn import AgentProvider
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db.outbound import save_outbound
from wta_runtime.db.tables import Conversation, Message, StateChange
from wta_runtime.stream.inbound import InboundMessage, MediaItem
from wta_runtime.worker.turn_processor import TurnProcessor

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ACME = "acme-pizza"
ACME_ACCOUNT = "AC00000000000000000000000000000001"
ACME_NUMBER = "+14155550100"


class Clock:
    """A clock tests move by hand: no sleeps for timers."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Waiting on this clock moves it: a burst window passes without real time passing."""
        self.now += timedelta(seconds=seconds)


def inbound(
    contact: str,
    body: str,
    *,
    at: datetime,
    tenant: str = ACME,
    number: str = ACME_NUMBER,
    media: list[MediaItem] | None = None,
    button: tuple[str, str] | None = None,
    profile_name: str | None = None,
) -> InboundMessage:
    return InboundMessage(
        tenant=tenant,
        message_sid="SM" + secrets.token_hex(16),
        account_sid=ACME_ACCOUNT,
        from_number=f"whatsapp:{contact}",
        to_number=f"whatsapp:{number}",
        body=body,
        profile_name=profile_name,
        media=media or [],
        button_text=button[0] if button else None,
        button_payload=button[1] if button else None,
        received_at=at,
    )


async def conversation_in(
    sessions: async_sessionmaker[AsyncSession], status: str, *, tenant: str = ACME
) -> Conversation:
    """A conversation stored directly in `status`, at version 1."""
    row = Conversation(
        id=uuid.uuid4(),
        tenant=tenant,
        contact_number=new_contact(),
        business_number=ACME_NUMBER,
        status=status,
        version=1,
        created_at=T0,
        updated_at=T0,
        expires_at=T0 + timedelta(hours=24),
    )
    async with sessions.begin() as session:
        session.add(row)
    return row


async def reload(
    sessions: async_sessionmaker[AsyncSession], conversation_id: uuid.UUID
) -> Conversation:
    async with sessions() as session:
        row = await session.get(Conversation, conversation_id, populate_existing=True)
    assert row is not None
    return row


async def history(
    sessions: async_sessionmaker[AsyncSession], conversation_id: uuid.UUID
) -> list[StateChange]:
    async with sessions() as session:
        rows = await session.scalars(
            select(StateChange)
            .where(StateChange.conversation_id == conversation_id)
            .order_by(StateChange.id)
        )
        return list(rows.all())


async def conversations_of(
    sessions: async_sessionmaker[AsyncSession], contact: str
) -> list[Conversation]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Conversation)
            .where(Conversation.contact_number == contact)
            .order_by(Conversation.created_at, Conversation.id)
        )
        return list(rows.all())


async def messages_of(sessions: async_sessionmaker[AsyncSession], contact: str) -> list[Message]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.contact_number == contact)
            .order_by(Message.created_at, Message.ordinal)
        )
        return list(rows.all())


def processor_for(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    agent: AgentProvider,
    sender: OutboundSender,
    clock: Clock,
) -> TurnProcessor:
    """A turn processor on the test's clock: burst windows pass without real waiting."""
    return TurnProcessor(
        catalog=catalog,
        sessions=sessions,
        provider=agent,
        sender=sender,
        clock=clock,
        sleep=clock.sleep,
    )


async def support_message(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    text: str,
    *,
    now: datetime,
    media_urls: tuple[str, ...] = (),
) -> list[Message]:
    """A person's message stored in `conversation` at `now`, not sent yet."""
    async with sessions.begin() as session:
        return await save_outbound(
            session,
            conversation=conversation,
            key=f"test:{uuid.uuid4()}",
            parts=[text],
            author="support",
            agent=None,
            provider=None,
            now=now,
            media_urls=media_urls,
        )
