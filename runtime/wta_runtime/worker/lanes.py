"""Lanes: the tenants one worker process serves through one database engine and NATS connection.

A dedicated runtime has one lane for all its tenants (WTA_DATABASE_URL, WTA_NATS_URL). A shared
runtime has one lane per tenant, with the tenant's own database role and NATS user, its own slice
of the catalog, agent runtime, leases and caches: nothing a turn holds is another tenant's.
What lanes share holds no tenant's data: the HTTP clients, the media stores, the transcriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from wta_runtime.agents.agent_catalog import AgentCatalog
from wta_runtime.agents.choose import AgentSettings, agent_runtime, ingester_from_settings
from wta_runtime.agents.embeddings import Embedder
from wta_runtime.agents.hot_reload import CatalogReloader
from wta_runtime.agents.knowledge_ingest import KnowledgeIngester
from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.channel.media import MediaDownloader
from wta_runtime.channel.media_stores import MediaStores
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.channel.transcription import OpenAITranscriber
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.db.driver import DATABASE_ERRORS, Sql, dispose, driver
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.logging_setup import serving_tenant
from wta_runtime.scheduler.loop import run_scheduler
from wta_runtime.settings import Settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.worker.consumer import InboundConsumer, RetryPolicy
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.health import LaneState
from wta_runtime.worker.heap_trim import HeapTrim
from wta_runtime.worker.lane_plans import LanePlan
from wta_runtime.worker.media_intake import MediaIntake
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.stream_lag import watch_stream_lag
from wta_runtime.worker.thread_ownership import ThreadOwnership
from wta_runtime.worker.turn_processor import TurnProcessor, utcnow

log = logging.getLogger("wta.worker")

# What a lane asks its database to tell that it is reachable (on the turns' own connections).
_ALIVE = Sql("SELECT 1")


@dataclass(frozen=True)
class SharedTools:
    """What every lane of the process uses and no tenant's data stays in."""

    settings: Settings
    agent_settings: AgentSettings
    embedder: Embedder
    http: httpx.AsyncClient
    sender: OutboundSender
    downloader: MediaDownloader
    stores: MediaStores
    transcriber: OpenAITranscriber | None
    heap: HeapTrim = field(default_factory=HeapTrim)


class Lane:
    """A running lane: its consumer, and the catalog slice its turns and agents see."""

    def __init__(
        self,
        plan: LanePlan,
        processor: TurnProcessor,
        consumer: InboundConsumer,
        agents: AgentRuntime,
        js: JetStreamContext,
        ingester: KnowledgeIngester,
        sweep_every: float | None,
        *,
        nats: NATS,
    ) -> None:
        self.plan = plan
        self._sweep_every = sweep_every
        self.processor = processor
        self.consumer = consumer
        self._agents = agents
        self._js = js
        self._nats = nats
        self._db = driver(processor.sessions)
        self._ingester = ingester

    def use_catalog(self, updated: AgentCatalog) -> None:
        """Serve later turns with the new version of this lane's tenants."""
        mine = updated.only(self.plan.tenants)
        self.processor.catalog = mine.tenants
        self._agents.swap(mine)

    async def check(self, timeout: float) -> LaneState:
        """Running, or which of its servers the lane cannot reach now (NATS first)."""
        if not self._nats.is_connected:
            return LaneState.NATS_UNREACHABLE
        try:
            async with asyncio.timeout(timeout):
                await self._db.fetchval(_ALIVE)
        except DATABASE_ERRORS:  # the timeout's TimeoutError among them, as an OSError
            return LaneState.DATABASE_UNREACHABLE
        return LaneState.RUNNING

    def _sweep_timers(self, stop: asyncio.Event) -> asyncio.Task[None] | None:
        """The scheduler's sweeps of this lane's tenants, in this process (the pod has no other).

        Every replica sweeps: the sweeps claim rows with SKIP LOCKED, so none is moved twice.
        """
        if self._sweep_every is None:
            return None
        return asyncio.create_task(
            run_scheduler(
                lambda: self.processor.catalog.tenants.values(),
                self.processor.sessions,
                interval=self._sweep_every,
                stop=stop,
            )
        )

    async def run(self) -> None:
        """Consume until stopped; every log line of a one-tenant lane names its tenant."""
        if len(self.plan.tenants) == 1:
            serving_tenant.set(self.plan.tenants[0])
        stopped = asyncio.Event()
        lag = asyncio.create_task(watch_stream_lag(self._js, self.plan.tenants, stopped))
        ingesting = asyncio.create_task(self._ingester.run(stopped))
        sweeping = self._sweep_timers(stopped)
        try:
            await self.consumer.run()
        finally:
            stopped.set()
            await lag
            if sweeping is not None:
                await sweeping
            # An ingestion may be fetching a slow URL: stop it (its transaction rolls back, its
            # lease expires) rather than hold the shutdown.
            ingesting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ingesting


@asynccontextmanager
async def open_lane(
    plan: LanePlan,
    tools: SharedTools,
    reloader: CatalogReloader,
    application_name: str,
    *,
    first_connect_seconds: float | None = None,
) -> AsyncIterator[Lane]:
    """Connect the lane to its database and NATS; close both (and its agents) on the way out."""
    settings = tools.settings
    mine = reloader.current.only(plan.tenants)
    # Turns take a connection only for their statements, never across a model or Twilio call.
    engine = create_engine(
        plan.database_url,
        pool_size=plan.pool_size,
        max_overflow=0,
        pre_ping=False,
        application_name=application_name,
    )
    sessions = session_factory(engine)
    agents = agent_runtime(
        settings, tools.agent_settings, mine, sessions, embedder=tools.embedder, http=tools.http
    )
    ingester = ingester_from_settings(
        settings,
        sessions,
        agents,
        reloader,
        http=tools.http,
        store_for=tools.stores.for_tenant,
        agent_settings=tools.agent_settings,
        tenants=plan.tenants,
    )
    try:
        # NATS itself retries a first connection forever (a wrong password too); a lane that may
        # be retried gives up after `first_connect_seconds` and is opened again with fresh Secrets.
        connection = await asyncio.wait_for(
            connect(plan.nats_url, name=f"wta-worker {plan.label}"[:64]),
            timeout=first_connect_seconds,
        )
    except BaseException:
        reloader.unsubscribe(ingester.use_catalog)
        await agents.close()
        await dispose(engine)
        raise
    try:
        media = MediaIntake(
            sessions=sessions,
            downloader=tools.downloader,
            stores=tools.stores,
            transcriber=tools.transcriber,
            clock=utcnow,
        )
        processor = TurnProcessor(
            catalog=mine.tenants,
            sessions=sessions,
            provider=agents,
            sender=tools.sender,
            media=media,
            ownership=ThreadOwnership(sessions, ttl=settings.thread_lease_seconds),
            typing=TypingIndicator(tools.sender, renew_every=settings.typing_renew_seconds),
        )
        js = connection.jetstream()
        consumer = InboundConsumer(
            js,
            processor,
            plan.tenants,
            worked=tools.heap.worked,
            dead_letters=DeadLetters(
                js,
                tenant_of=lambda name: processor.catalog.by_name(name),
                sessions=sessions,
                inbox=processor.inbox,
                replies=processor.replies,
                sender=tools.sender,
                clock=utcnow,
                known_opt_outs=processor.known_opt_outs,
            ),
            statuses=StatusApplier(sessions, utcnow),
            policy=RetryPolicy(settings.worker_max_attempts, tuple(settings.worker_retry_delays)),
            concurrency=plan.concurrency,
            ack_wait=settings.stream_ack_wait_seconds,
        )
        sweep_every = (
            settings.scheduler_interval_seconds if settings.worker_runs_scheduler else None
        )
        yield Lane(
            plan,
            processor,
            consumer,
            agents,
            js,
            ingester,
            sweep_every,
            nats=connection,
        )
    finally:
        reloader.unsubscribe(ingester.use_catalog)
        await agents.close()
        await close_connection(connection)
        await dispose(engine)
