"""Searching an agent's ingested documents: passages by meaning and by words, with their source.

Ranked as contact memory is (pgvector's cosine when installed, else in Python; PostgreSQL's
full-text; fused by reciprocal rank fusion), always within one tenant's one agent.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.embeddings import Embedder, cosine
from wta_runtime.agents.memory import CANDIDATES, reciprocal_rank_fusion, text_query
from wta_runtime.db import agent_memory, knowledge_store
from wta_runtime.db.knowledge_store import StoredPassage

PYTHON_SCAN_LIMIT = 5000  # chunks of one agent ranked in Python when pgvector is missing


class DocumentSearch:
    """The passages of an agent's documents most related to a question, best first."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], embedder: Embedder) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._pgvector: bool | None = None

    async def search(
        self, *, tenant: str, agent: str, query: str, limit: int
    ) -> list[StoredPassage]:
        [vector] = await self._embedder.embed([query])
        scope = {"tenant": tenant, "agent": agent}
        async with self._sessions() as session:
            by_meaning = await self._by_meaning(session, tenant, agent, vector)
            words = text_query(query)
            by_words: list[int] = []
            if words is not None:
                by_words = await knowledge_store.matching_words(
                    session, **scope, query=words, limit=CANDIDATES
                )
            fused = reciprocal_rank_fusion([by_meaning, by_words])[:limit]
            if not fused:
                return []
            found = await knowledge_store.passages(session, fused, **scope)
        return [found[i] for i in fused if i in found]

    async def _by_meaning(
        self, session: AsyncSession, tenant: str, agent: str, vector: list[float]
    ) -> list[int]:
        if self._pgvector is None:
            self._pgvector = await agent_memory.pgvector_installed(session)
        scope = {"tenant": tenant, "agent": agent, "model": self._embedder.name}
        if self._pgvector:
            return await knowledge_store.nearest_by_vector(
                session, **scope, vector=vector, limit=CANDIDATES
            )
        rows = await knowledge_store.chunk_embeddings(session, **scope, limit=PYTHON_SCAN_LIMIT)
        ranked = sorted(rows, key=lambda row: -cosine(row[1], vector))
        return [row_id for row_id, _ in ranked[:CANDIDATES]]
