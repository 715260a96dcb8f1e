"""Tables of the agents: long-term memory, tool calls, token usage and agent selections.

Created by the `agents` migration branch (a001_agent_memory). Embeddings are `real[]` so the
schema works on any PostgreSQL; recall ranks them with pgvector when the extension is installed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from wta_runtime.db.tables import Base

# 'simple': no stemming or stop words, so Portuguese, Spanish and English are searched alike.
SEARCH_CONFIG = "simple"


class MemoryItem(Base):
    """A message or tool result a contact's later conversations may recall."""

    __tablename__ = "agent_memory"
    __table_args__ = (
        Index("agent_memory_source", "tenant", "source_key", unique=True),
        Index("agent_memory_by_contact", "tenant", "contact_number", "created_at"),
        Index("agent_memory_search", "search", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    contact_number: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # '<turn key>:user', '<turn key>:assistant', '<turn key>:tool:<n>': written once.
    source_key: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    embedding: Mapped[list[float]] = mapped_column(ARRAY(REAL))
    embedding_model: Mapped[str] = mapped_column(String(200))
    search: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(f"to_tsvector('{SEARCH_CONFIG}', content)", persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ToolCall(Base):
    """One tool call the model made, with its result."""

    __tablename__ = "agent_tool_calls"
    __table_args__ = (Index("agent_tool_calls_by_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    agent: Mapped[str] = mapped_column(String(253))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    turn_key: Mapped[str] = mapped_column(String(160))
    name: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TurnUsage(Base):
    """Tokens, model calls and latency of one agent turn."""

    __tablename__ = "agent_usage"
    __table_args__ = (
        Index("agent_usage_by_agent", "tenant", "agent", "created_at"),
        Index("agent_usage_by_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    agent: Mapped[str] = mapped_column(String(253))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    turn_key: Mapped[str] = mapped_column(String(160))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    model_calls: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    # answered | unanswered (no useful answer) | fallback (the model failed) | handoff
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgentSelection(Base):
    """Which agent took a conversation's turn, and why (rule, router, sticky, default)."""

    __tablename__ = "agent_selections"
    __table_args__ = (Index("agent_selections_by_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    turn_key: Mapped[str] = mapped_column(String(160))
    agent: Mapped[str] = mapped_column(String(253))
    method: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
