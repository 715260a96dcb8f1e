"""Tables of conversations, their messages, state history, contacts, media, API keys and pacing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
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
        # A contact's conversations, newest first (a new one links to the previous).
        Index(
            "conversations_by_contact", "tenant", "contact_number", "business_number", "created_at"
        ),
        Index(
            "conversations_handoff_queue",
            "tenant",
            "handoff_at",
            postgresql_where=text("status = 'human_handoff'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    contact_number: Mapped[str] = mapped_column(String(64))
    business_number: Mapped[str] = mapped_column(String(64))
    # What Twilio sends (profile names, error codes, content types) has no length limit here.
    contact_name: Mapped[str | None] = mapped_column(Text)
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
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flag_reason: Mapped[str | None] = mapped_column(String(256))
    handoff_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handoff_reason: Mapped[str | None] = mapped_column(String(256))
    # Handed off outside the tenant's business hours; `back_at` is when its people are back.
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_to: Mapped[str | None] = mapped_column(String(256))


class Message(Base):
    """A message in or out of a conversation; `idempotency_key` makes every write repeatable."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("direction IN ('inbound', 'outbound')", name="messages_direction_valid"),
        Index("messages_idempotency", "tenant", "idempotency_key", unique=True),
        Index("messages_by_conversation", "conversation_id", "created_at"),
        # Partial: a lookup by tenant alone (or by key) can never take it for its own.
        Index(
            "messages_by_twilio_sid",
            "tenant",
            "twilio_sid",
            postgresql_where=text("twilio_sid IS NOT NULL"),
        ),
        Index(
            "messages_unanswered",
            "conversation_id",
            postgresql_where=text("direction = 'inbound' AND answered_by IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Insertion order: breaks ties between messages stored in the same instant.
    ordinal: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    tenant: Mapped[str] = mapped_column(String(63))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id")
    )
    direction: Mapped[str] = mapped_column(String(16))
    # inbound: user; outbound: agent (the bot), support (a person) or system (fallback, template).
    author: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text, default="")
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str | None] = mapped_column(String(253))
    provider: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Inbound: position in the tenant's stream, and what settled it (a reply's key or a marker).
    stream_seq: Mapped[int | None] = mapped_column(BigInteger)
    answered_by: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Outbound: when it was last handed to Twilio (`attempted` until Twilio's answer is recorded).
    send_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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


class Contact(Base):
    """A contact of a tenant's number; `last_inbound_at` opens WhatsApp's 24 h window."""

    __tablename__ = "contacts"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    business_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    profile_name: Mapped[str | None] = mapped_column(Text)
    last_inbound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MediaItem(Base):
    """One attachment of an inbound message: where it was, what it is, where we keep it."""

    __tablename__ = "media"
    __table_args__ = (
        Index("media_per_message", "message_id", "position", unique=True),
        CheckConstraint("status IN ('stored', 'refused')", name="media_status_valid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("messages.id"))
    position: Mapped[int] = mapped_column(Integer)
    source_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A tenant-scoped API key of the handoff and conversation API; only its hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SenderPacing(Base):
    """The next free send slot of a sender number, shared by every replica (outbound rate)."""

    __tablename__ = "sender_pacing"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ThreadLease(Base):
    """Which worker answers a conversation thread, until when, and under which fencing token."""

    __tablename__ = "thread_leases"
    # Found by thread or token only: no index on `expires_at`, so a renewal updates it in place.

    thread: Mapped[str] = mapped_column(Text, primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    token: Mapped[int] = mapped_column(BigInteger, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
