"""Tables of conversations, their messages and their state history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wta_runtime.conversation.lifecycle import OPEN, State

ALL_STATES = tuple(state.value for state in State)
OPEN_STATES = tuple(state.value for state in State if state in OPEN)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """One conversation between a contact and a tenant's number, from first message to close."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("status", ALL_STATES), name="conversations_status_valid"),
        # One open conversation per (tenant, contact, business number).
        Index(
            "conversations_one_open",
            "tenant",
            "contact_number",
            "business_number",
            unique=True,
            postgresql_where=text(_in("status", OPEN_STATES)),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    contact_number: Mapped[str] = mapped_column(String(64))
    business_number: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str | None] = mapped_column(String(253))
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """A message in or out of a conversation; `idempotency_key` makes every write repeatable."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("direction IN ('inbound', 'outbound')", name="messages_direction_valid"),
        Index("messages_idempotency", "tenant", "idempotency_key", unique=True),
        Index("messages_by_conversation", "conversation_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id")
    )
    direction: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text, default="")
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(253))
    provider: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StateChange(Base):
    """Every lifecycle move of a conversation, in order."""

    __tablename__ = "conversation_state_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
