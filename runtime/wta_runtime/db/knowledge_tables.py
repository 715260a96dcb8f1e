"""Tables of the agents' document knowledge (migration branch `knowledge`, k001_knowledge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from wta_runtime.db.agent_tables import SEARCH_CONFIG
from wta_runtime.db.tables import Base


class KnowledgeSourceRow(Base):
    """One source of one agent: the checksum last ingested, its chunk count, its last error."""

    __tablename__ = "knowledge_sources"
    __table_args__ = (Index("knowledge_sources_key", "tenant", "agent", "source", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    agent: Mapped[str] = mapped_column(String(253))
    source: Mapped[str] = mapped_column(String(2048))  # KnowledgeSource.label
    checksum: Mapped[str | None] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(Integer, server_default="0")
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    ingested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(1024))
    # The replica ingesting the source now, until when: one replica at a time.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnowledgeChunk(Base):
    """A passage of a source, with where it is in the document and its embedding."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        Index("knowledge_chunks_by_agent", "tenant", "agent"),
        Index("knowledge_chunks_by_source", "source_id", "chunk_index"),
        Index("knowledge_chunks_search", "search", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    source_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("knowledge_sources.id", ondelete="CASCADE")
    )
    tenant: Mapped[str] = mapped_column(String(63))
    agent: Mapped[str] = mapped_column(String(253))
    chunk_index: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(64))  # "page 3" of a PDF
    content: Mapped[str] = mapped_column(Text)
    embedding: Mapped[list[float]] = mapped_column(ARRAY(REAL))
    embedding_model: Mapped[str] = mapped_column(String(200))
    search: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(f"to_tsvector('{SEARCH_CONFIG}', content)", persisted=True)
    )
