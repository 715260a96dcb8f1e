"""Queries of a contact's long-term memory, always scoped to one tenant and one contact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.agent_tables import MemoryItem

_BY_VECTOR = text(
    "SELECT id FROM agent_memory WHERE tenant = :tenant AND contact_number = :contact"
    " AND embedding_model = :model"
    " ORDER BY CAST(embedding AS vector) <=> CAST(CAST(:query AS real[]) AS vector), id DESC"
    " LIMIT :limit"
)
_BY_WORDS = text(
    "SELECT id FROM agent_memory WHERE tenant = :tenant AND contact_number = :contact"
    " AND search @@ to_tsquery('simple', :query)"  # the table's SEARCH_CONFIG
    " ORDER BY ts_rank_cd(search, to_tsquery('simple', :query)) DESC, id DESC"
    " LIMIT :limit"
)


async def remember(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store memory rows; a row whose source key is stored already is left as it was."""
    await session.execute(
        insert(MemoryItem)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["tenant", "source_key"])
    )


async def pgvector_installed(session: AsyncSession) -> bool:
    installed = await session.scalar(
        text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")
    )
    return bool(installed)


async def nearest_by_vector(
    session: AsyncSession,
    *,
    tenant: str,
    contact: str,
    model: str,
    vector: Sequence[float],
    limit: int,
) -> list[int]:
    """Ids of the contact's memory closest to `vector` (pgvector's cosine distance)."""
    params = {"tenant": tenant, "contact": contact, "model": model, "limit": limit}
    result = await session.execute(_BY_VECTOR, {**params, "query": list(vector)})
    return list(result.scalars())


async def latest_embeddings(
    session: AsyncSession, *, tenant: str, contact: str, model: str, limit: int
) -> list[tuple[int, list[float]]]:
    """(id, embedding) of the contact's latest memory rows, for ranking without pgvector."""
    rows = await session.execute(
        select(MemoryItem.id, MemoryItem.embedding)
        .where(
            MemoryItem.tenant == tenant,
            MemoryItem.contact_number == contact,
            MemoryItem.embedding_model == model,
        )
        .order_by(MemoryItem.id.desc())
        .limit(limit)
    )
    return [(row.id, list(row.embedding)) for row in rows]


async def matching_words(
    session: AsyncSession, *, tenant: str, contact: str, query: str, limit: int
) -> list[int]:
    """Ids of the contact's memory matching the `to_tsquery` expression, best first."""
    params = {"tenant": tenant, "contact": contact, "query": query, "limit": limit}
    result = await session.execute(_BY_WORDS, params)
    return list(result.scalars())


async def memory_texts(
    session: AsyncSession, ids: Sequence[int], *, tenant: str, contact: str
) -> dict[int, tuple[str, str]]:
    """(role, content) of these memory rows, if they are the contact's."""
    found = await session.execute(
        select(MemoryItem.id, MemoryItem.role, MemoryItem.content).where(
            MemoryItem.id.in_(list(ids)),
            MemoryItem.tenant == tenant,
            MemoryItem.contact_number == contact,
        )
    )
    return {row.id: (row.role, row.content) for row in found}
