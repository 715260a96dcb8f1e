"""Queries of the agents' document knowledge, always scoped to one tenant and one agent."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.knowledge_tables import KnowledgeChunk, KnowledgeSourceRow

_CLAIM = text(
    "INSERT INTO knowledge_sources AS s"
    " (tenant, agent, source, chunks, checked_at, lease_owner, lease_until)"
    " VALUES (:tenant, :agent, :source, 0, :now, :owner, :until)"
    " ON CONFLICT (tenant, agent, source) DO UPDATE"
    " SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until"
    " WHERE s.lease_until IS NULL OR s.lease_until < :now OR s.lease_owner = :owner"
    " RETURNING id, checksum, embedding_model"
)
_BY_VECTOR = text(
    "SELECT id FROM knowledge_chunks WHERE tenant = :tenant AND agent = :agent"
    " AND embedding_model = :model"
    " ORDER BY CAST(embedding AS vector) <=> CAST(CAST(:query AS real[]) AS vector), id"
    " LIMIT :limit"
)
_BY_WORDS = text(
    "SELECT id FROM knowledge_chunks WHERE tenant = :tenant AND agent = :agent"
    " AND search @@ to_tsquery('simple', :query)"
    " ORDER BY ts_rank_cd(search, to_tsquery('simple', :query)) DESC, id"
    " LIMIT :limit"
)


@dataclass(frozen=True)
class ClaimedSource:
    """A source this replica holds the lease of, and what was ingested from it last."""

    id: int
    checksum: str | None
    embedding_model: str | None


@dataclass(frozen=True)
class StoredPassage:
    """A chunk as retrieval returns it: its source's label, where it is, its text."""

    source: str
    location: str | None
    text: str

    @property
    def citation(self) -> str:
        """How the passage names its source: `configmap/faq/returns.md`, the URL, `s3/<key>`,
        and a PDF's page when known."""
        return f"{self.source}, {self.location}" if self.location else self.source


async def claim(
    session: AsyncSession,
    *,
    tenant: str,
    agent: str,
    source: str,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> ClaimedSource | None:
    """Take the source's lease (creating its row); None while another replica holds it."""
    params = {"tenant": tenant, "agent": agent, "source": source, "owner": owner, "now": now}
    row = (await session.execute(_CLAIM, {**params, "until": now + lease})).first()
    return None if row is None else ClaimedSource(row.id, row.checksum, row.embedding_model)


def _held(source_id: int, owner: str) -> Any:
    return (KnowledgeSourceRow.id == source_id) & (KnowledgeSourceRow.lease_owner == owner)


async def release(
    session: AsyncSession, source_id: int, owner: str, now: datetime, error: str | None
) -> None:
    """Give the lease back, noting the check and its error (None: the stored chunks are current)."""
    await session.execute(
        update(KnowledgeSourceRow)
        .where(_held(source_id, owner))
        .values(checked_at=now, error=error, lease_owner=None, lease_until=None)
    )


async def replace_chunks(
    session: AsyncSession,
    *,
    source_id: int,
    owner: str,
    checksum: str,
    model: str,
    chunks: Sequence[dict[str, Any]],
    now: datetime,
) -> bool:
    """Swap the source's chunks for these in one transaction; False if the lease was lost."""
    held = await session.execute(
        update(KnowledgeSourceRow)
        .where(_held(source_id, owner))
        .values(
            checksum=checksum,
            embedding_model=model,
            chunks=len(chunks),
            ingested_at=now,
            checked_at=now,
            error=None,
            lease_owner=None,
            lease_until=None,
        )
        .returning(KnowledgeSourceRow.id)
    )
    if held.first() is None:
        return False
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.source_id == source_id))
    if chunks:
        await session.execute(
            insert(KnowledgeChunk), [{**c, "source_id": source_id} for c in chunks]
        )
    return True


async def forget_sources(
    session: AsyncSession, tenant: str, keep: Collection[tuple[str, str]]
) -> int:
    """Delete the tenant's sources (and their chunks) not in `keep` (agent, source label)."""
    rows = await session.execute(
        select(KnowledgeSourceRow.id, KnowledgeSourceRow.agent, KnowledgeSourceRow.source).where(
            KnowledgeSourceRow.tenant == tenant
        )
    )
    gone = [row.id for row in rows if (row.agent, row.source) not in keep]
    if gone:
        await session.execute(delete(KnowledgeSourceRow).where(KnowledgeSourceRow.id.in_(gone)))
    return len(gone)


async def nearest_by_vector(
    session: AsyncSession,
    *,
    tenant: str,
    agent: str,
    model: str,
    vector: Sequence[float],
    limit: int,
) -> list[int]:
    """Ids of the agent's chunks closest to `vector` (pgvector's cosine distance)."""
    params = {"tenant": tenant, "agent": agent, "model": model, "limit": limit}
    result = await session.execute(_BY_VECTOR, {**params, "query": list(vector)})
    return list(result.scalars())


async def chunk_embeddings(
    session: AsyncSession, *, tenant: str, agent: str, model: str, limit: int
) -> list[tuple[int, list[float]]]:
    """(id, embedding) of the agent's chunks, for ranking without pgvector."""
    rows = await session.execute(
        select(KnowledgeChunk.id, KnowledgeChunk.embedding)
        .where(
            KnowledgeChunk.tenant == tenant,
            KnowledgeChunk.agent == agent,
            KnowledgeChunk.embedding_model == model,
        )
        .order_by(KnowledgeChunk.id)
        .limit(limit)
    )
    return [(row.id, list(row.embedding)) for row in rows]


async def matching_words(
    session: AsyncSession, *, tenant: str, agent: str, query: str, limit: int
) -> list[int]:
    """Ids of the agent's chunks matching the `to_tsquery` expression, best first."""
    params = {"tenant": tenant, "agent": agent, "query": query, "limit": limit}
    return list((await session.execute(_BY_WORDS, params)).scalars())


async def passages(
    session: AsyncSession, ids: Sequence[int], *, tenant: str, agent: str
) -> dict[int, StoredPassage]:
    """These chunks with their source's label, if they are the agent's."""
    found = await session.execute(
        select(
            KnowledgeChunk.id,
            KnowledgeSourceRow.source,
            KnowledgeChunk.location,
            KnowledgeChunk.content,
        )
        .join(KnowledgeSourceRow, KnowledgeSourceRow.id == KnowledgeChunk.source_id)
        .where(
            KnowledgeChunk.id.in_(list(ids)),
            KnowledgeChunk.tenant == tenant,
            KnowledgeChunk.agent == agent,
        )
    )
    return {row.id: StoredPassage(row.source, row.location, row.content) for row in found}
