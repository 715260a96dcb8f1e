"""Ingests the agents' `knowledge.sources` outside the turns, in the worker.

At start, whenever the agent catalog is reloaded (a ConfigMap or manifest changed) and every
refresh interval (URLs and objects change without telling), each source of each served tenant's
agents is fetched, and re-ingested only when its checksum (or the embedder) changed: extracted,
split, embedded and swapped into `knowledge_chunks` in one transaction. A row lease on the source
lets one worker replica at a time do it. A source that fails keeps its last good chunks; its error
is stored for `status.knowledge`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.agent_catalog import AgentCatalog
from wta_runtime.agents.document_sources import (
    FetchedDocument,
    FetchPolicy,
    SourceError,
    SourceRefusedByEgress,
    fetch_config_map,
    fetch_object,
    fetch_url,
)
from wta_runtime.agents.document_text import DocumentError, extract, guess_format, split
from wta_runtime.agents.embeddings import Embedder
from wta_runtime.catalog import Tenant
from wta_runtime.channel.media_store import MediaStore
from wta_runtime.db import knowledge_store
from wta_runtime.db.driver import DATABASE_ERRORS
from wta_runtime.metrics import EGRESS_REFUSED
from wta_runtime.openai_errors import openai_errors
from wta_runtime.specs.agent import Knowledge, KnowledgeSource

log = logging.getLogger("wta.agents.knowledge")

LEASE = timedelta(minutes=5)
EMBED_BATCH = 64
INGESTIONS = Counter(
    "wta_knowledge_ingestions",
    "Knowledge sources checked, by outcome: ingested, unchanged or failed.",
    ["tenant", "agent", "outcome"],
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class IngestReport:
    """What one pass did, by `<tenant>/<agent>/<source>`."""

    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # another replica holds the lease
    failed: dict[str, str] = field(default_factory=dict)


class KnowledgeIngester:
    """Keeps the served tenants' document knowledge in the database current."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        embedder: Embedder,
        *,
        http: httpx.AsyncClient,
        store_for: Callable[[Tenant], MediaStore] | None = None,
        tenants: Collection[str] | None = None,
        policy: FetchPolicy | None = None,
        refresh_seconds: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        """`tenants`: those this worker serves (None: every tenant of the catalog)."""
        self._sessions = sessions
        self._embedder = embedder
        self._http = http
        self._store_for = store_for
        self._tenants = None if tenants is None else frozenset(tenants)
        self._policy = policy or FetchPolicy()
        self._refresh = refresh_seconds
        self._clock = clock
        self._owner = owner or replica_name()
        self._catalog: AgentCatalog | None = None
        self._wake = asyncio.Event()

    def use_catalog(self, catalog: AgentCatalog) -> None:
        """Ingest from this catalog from now on, at once (a CatalogReloader listener)."""
        self._catalog = catalog
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Ingest now, then on every catalog change and refresh interval, until `stop`."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.ingest_all()
            except DATABASE_ERRORS:
                log.warning("knowledge not ingested: the database is unavailable", exc_info=True)
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _, pending = await asyncio.wait(
                waits, timeout=self._refresh, return_when=asyncio.FIRST_COMPLETED
            )
            for waiting in pending:
                waiting.cancel()

    async def ingest_all(self) -> IngestReport:
        """One pass over every source of the served tenants' agents."""
        report = IngestReport()
        catalog = self._catalog
        if catalog is None:
            return report
        for (tenant_name, agent_name), resources in sorted(catalog.resources.items()):
            if self._tenants is not None and tenant_name not in self._tenants:
                continue
            tenant = catalog.tenant(tenant_name)
            if tenant is None:
                continue
            knowledge = resources.agent.spec.knowledge
            for source in knowledge.sources:
                await self._ingest(tenant, agent_name, knowledge, source, catalog, report)
        await self._forget_removed(catalog)
        return report

    async def _forget_removed(self, catalog: AgentCatalog) -> None:
        """Drop what was ingested from sources no agent of a served tenant lists any more."""
        for tenant in catalog.tenants.tenants.values():
            if self._tenants is not None and tenant.name not in self._tenants:
                continue
            keep = {
                (agent.name, source.label)
                for agent in tenant.agents
                for source in agent.spec.knowledge.sources
            }
            async with self._sessions.begin() as session:
                await knowledge_store.forget_sources(session, tenant.name, keep)

    async def _ingest(
        self,
        tenant: Tenant,
        agent: str,
        knowledge: Knowledge,
        source: KnowledgeSource,
        catalog: AgentCatalog,
        report: IngestReport,
    ) -> None:
        where = f"{tenant.name}/{agent}/{source.label}"
        async with self._sessions.begin() as session:
            claimed = await knowledge_store.claim(
                session,
                tenant=tenant.name,
                agent=agent,
                source=source.label,
                owner=self._owner,
                now=self._clock(),
                lease=LEASE,
            )
        if claimed is None:
            report.busy.append(where)
            return
        error: str | None = None
        try:
            document = await self._fetch(tenant, knowledge, source, catalog.config_maps)
            checksum = hashlib.sha256(document.data).hexdigest()
            model = self._embedder.name
            if (claimed.checksum, claimed.embedding_model) == (checksum, model):
                report.unchanged.append(where)
                INGESTIONS.labels(tenant.name, agent, "unchanged").inc()
            else:
                rows = await self._chunk_rows(tenant.name, agent, source, document)
                async with self._sessions.begin() as session:
                    kept = await knowledge_store.replace_chunks(
                        session,
                        source_id=claimed.id,
                        owner=self._owner,
                        checksum=checksum,
                        model=model,
                        chunks=rows,
                        now=self._clock(),
                    )
                if not kept:  # the lease ran out and another replica took the source over
                    report.busy.append(where)
                    return
                report.ingested.append(where)
                INGESTIONS.labels(tenant.name, agent, "ingested").inc()
                log.info("knowledge %s ingested: %d passages", where, len(rows))
                return
        except (SourceError, DocumentError) as exc:
            error = str(exc)[:1024]
            if isinstance(exc, SourceRefusedByEgress):
                EGRESS_REFUSED.labels(tenant.name, "knowledge").inc()
        except openai_errors(httpx.HTTPError) as exc:
            error = f"the embeddings could not be made ({type(exc).__name__}); retried later"
        if error is not None:
            report.failed[where] = error
            INGESTIONS.labels(tenant.name, agent, "failed").inc()
            log.warning("knowledge %s not ingested: %s", where, error)
        async with self._sessions.begin() as session:
            await knowledge_store.release(session, claimed.id, self._owner, self._clock(), error)

    async def _fetch(
        self,
        tenant: Tenant,
        knowledge: Knowledge,
        source: KnowledgeSource,
        config_maps: Mapping[str, Mapping[str, str]],
    ) -> FetchedDocument:
        if source.config_map is not None:
            return fetch_config_map(source, config_maps)
        if source.url is not None:
            return await fetch_url(self._http, source.url, knowledge, self._policy)
        assert source.s3 is not None
        store = self._store_for(tenant) if self._store_for else None
        return await fetch_object(store, tenant.name, source.s3.key)

    async def _chunk_rows(
        self, tenant: str, agent: str, source: KnowledgeSource, document: FetchedDocument
    ) -> list[dict[str, object]]:
        fmt = source.format or guess_format(document.name, document.content_type, document.data)
        chunks = split(extract(document.data, fmt), fmt)
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            vectors += await self._embedder.embed([c.text for c in batch])
        return [
            {
                "tenant": tenant,
                "agent": agent,
                "chunk_index": index,
                "location": chunk.location,
                "content": chunk.text,
                "embedding": vector,
                "embedding_model": self._embedder.name,
            }
            for index, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
        ]
