"""`status.knowledge` of an AIAgent from the rows its worker stored (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wta_operator.adapters.database import KnowledgeRow
from wta_runtime.specs.status import AgentKnowledge, KnowledgeSourceError


def knowledge_status(rows: Iterable[KnowledgeRow]) -> dict[str, Any]:
    """Documents ingested, their chunks, the latest ingestion and each source's last error."""
    listed = list(rows)
    ingested = [at for _, _, at, _ in listed if at is not None]
    knowledge = AgentKnowledge(
        documents=len(ingested),
        chunks=sum(chunks for _, chunks, at, _ in listed if at is not None),
        last_ingested=max(ingested, default=None),
        errors=[
            KnowledgeSourceError(source=source, message=error)
            for source, _, _, error in listed
            if error
        ],
    )
    dumped: dict[str, Any] = knowledge.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped
