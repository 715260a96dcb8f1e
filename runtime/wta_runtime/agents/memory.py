"""Long-term memory of a contact: what was said before, recalled by meaning and by words.

Every row belongs to one tenant and one contact, and every query is filtered by both: a contact
never recalls another contact's conversations, nor a tenant another tenant's. Vector ranking uses
pgvector when the extension is installed, else the same cosine in Python; full-text ranking uses
PostgreSQL's own; the two rankings are fused by reciprocal rank fusion.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.embeddings import Embedder, cosine
from wta_runtime.agents.offline import OFFLINE_LABEL
from wta_runtime.agents.turn import ToolCallRecord
from wta_runtime.db import agent_memory

RRF_K = 60  # the constant of Cormack et al.; damps the weight of the very first ranks
CANDIDATES = 20  # rows each ranking contributes before fusion
PYTHON_SCAN_LIMIT = 500  # most recent rows ranked in Python when pgvector is missing
_TOKEN = re.compile(r"\w+", re.UNICODE)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Ids ordered by the sum of 1 / (k + rank) over the rankings they appear in."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], -item))


def memory_items(
    user_text: str, answer: str, tool_calls: Sequence[ToolCallRecord], outcome: str
) -> list[tuple[str, str, str]]:
    """(key suffix, role, text) of a turn worth remembering: no fallback, no knowledge lookups."""
    items = [("user", "user", user_text)]
    if outcome != "fallback":
        items.append(("assistant", "assistant", answer.removeprefix(OFFLINE_LABEL).strip()))
    items += [
        (f"tool:{n}", "tool", f"{c.name}: {c.result}")
        for n, c in enumerate(tool_calls)
        if c.status == "ok" and c.name != "lookup_knowledge"
    ]
    return items


def text_query(query: str) -> str | None:
    """A `to_tsquery` expression matching any word of the query (words only: no operators)."""
    tokens = list(dict.fromkeys(t for t in _TOKEN.findall(query.lower()) if len(t) > 1))[:30]
    return " | ".join(tokens) or None


class ContactMemory:
    """Writes a turn's messages to memory once and recalls a contact's earlier ones."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        embedder: Embedder,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._clock = clock
        self._pgvector: bool | None = None

    async def remember(
        self,
        *,
        tenant: str,
        contact: str,
        conversation_id: uuid.UUID | None,
        turn_key: str,
        items: Sequence[tuple[str, str, str]],
    ) -> None:
        """Store (key suffix, role, text) items of a turn; a repeated turn writes nothing new."""
        kept = [(suffix, role, body) for suffix, role, body in items if body.strip()]
        if not kept:
            return
        vectors = await self._embedder.embed([body for _, _, body in kept])
        now = self._clock()
        rows = [
            {
                "tenant": tenant,
                "contact_number": contact,
                "conversation_id": conversation_id,
                "source_key": f"{turn_key}:{suffix}"[:200],
                "role": role,
                "content": body,
                "embedding": vector,
                "embedding_model": self._embedder.name,
                "created_at": now,
            }
            for (suffix, role, body), vector in zip(kept, vectors, strict=True)
        ]
        async with self._sessions.begin() as session:
            await agent_memory.remember(session, rows)

    async def recall(
        self, *, tenant: str, contact: str, query: str, top_k: int, skip: Sequence[str] = ()
    ) -> list[str]:
        """The contact's earlier messages most related to `query`, best first (`skip` aside)."""
        [vector] = await self._embedder.embed([query])
        async with self._sessions() as session:
            by_meaning = await self._by_meaning(session, tenant, contact, vector)
            words = text_query(query)
            by_words: list[int] = []
            if words is not None:
                by_words = await agent_memory.matching_words(
                    session, tenant=tenant, contact=contact, query=words, limit=CANDIDATES
                )
            fused = reciprocal_rank_fusion([by_meaning, by_words])
            if not fused:
                return []
            rows = await agent_memory.memory_texts(session, fused, tenant=tenant, contact=contact)
        skipped = set(skip)
        recalled = [
            f"{rows[i][0]}: {rows[i][1]}" for i in fused if i in rows and rows[i][1] not in skipped
        ]
        return recalled[:top_k]

    async def _by_meaning(
        self, session: AsyncSession, tenant: str, contact: str, vector: list[float]
    ) -> list[int]:
        if self._pgvector is None:
            self._pgvector = await agent_memory.pgvector_installed(session)
        scope = {"tenant": tenant, "contact": contact, "model": self._embedder.name}
        if self._pgvector:
            return await agent_memory.nearest_by_vector(
                session, **scope, vector=vector, limit=CANDIDATES
            )
        rows = await agent_memory.latest_embeddings(session, **scope, limit=PYTHON_SCAN_LIMIT)
        ranked = sorted(rows, key=lambda row: -cosine(row[1], vector))
        return [row_id for row_id, _ in ranked[:CANDIDATES]]
