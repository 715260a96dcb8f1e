"""Entry point of a runtime worker process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

import httpx
from prometheus_client import start_http_server

from wta_runtime.agents.agent_catalog import AgentCatalog
from wta_runtime.agents.choose import ingester_from_settings, runtime_from_settings
from wta_runtime.catalog import Tenant
from wta_runtime.channel.media import MediaDownloader, MediaPolicy
from wta_runtime.channel.media_store import MediaStoreError
from wta_runtime.channel.media_stores import MediaStores, platform_media_store
from wta_runtime.channel.sender import OutboundSender, status_callback_url
from wta_runtime.channel.transcription import OpenAITranscriber
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.settings import Settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.worker.consumer import InboundConsumer, RetryPolicy
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.media_intake import MediaIntake
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.stream_lag import watch_stream_lag
from wta_runtime.worker.thread_ownership import ThreadOwnership
from wta_runtime.worker.turn_processor import TurnProcessor, utcnow

log = logging.getLogger("wta.worker")


def _transcriber(settings: Settings) -> OpenAITranscriber | None:
    key = settings.openai_api_key
    if key is None or not key.get_secret_value():
        return None  # offline: voice messages reach the agent as "[audio attachment]"
    return OpenAITranscriber(
        api_key=key, base_url=settings.openai_base_url, model=settings.transcription_model
    )


async def _media_stores(settings: Settings, tenants: list[Tenant]) -> MediaStores:
    """The media stores, checked: a platform store that does not work stops the worker here."""
    stores = MediaStores(
        platform_media_store(settings, pool_size=min(settings.worker_concurrency, 32)),
        pool_size=min(settings.worker_concurrency, 32),
    )
    try:
        detail = await stores.platform.check()
    except MediaStoreError as exc:
        stores.close()
        log.error(
            "media store %s is not usable: %s (see WTA_MEDIA_*)", stores.platform.location, exc
        )
        raise SystemExit(1) from None
    log.info("media store: %s (%s)", stores.platform.location, detail)
    for tenant in tenants:
        own = stores.for_tenant(tenant)
        if own is stores.platform:
            continue
        # One tenant's wrong bucket must not stop the others: its media turns fail and retry.
        try:
            await own.check()
        except MediaStoreError as exc:
            log.error("media store of %s, %s, is not usable: %s", tenant.name, own.location, exc)
    return stores


def worker_application_name() -> str:
    """How this process shows in `pg_stat_activity`: the pod (host) and process that it is."""
    return f"wta-worker {socket.gethostname()}:{os.getpid()}"[:63]


async def run_worker(settings: Settings) -> None:
    """Consume the served tenants' streams until SIGTERM or SIGINT."""
    # Turns take a connection only for their statements, never across a model or Twilio call.
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pre_ping=False,
        application_name=worker_application_name(),
    )
    sessions = session_factory(engine)
    # The agent runtime and the worker share one catalog, re-read when the manifests change.
    agents, reloader = runtime_from_settings(settings, sessions)
    catalog = reloader.current.tenants
    tenants = settings.tenants or sorted(catalog.tenants)
    stores = await _media_stores(
        settings, [catalog.tenants[n] for n in tenants if n in catalog.tenants]
    )
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.metrics_host)
    connection = await connect(settings.nats_url, name="wta-worker")
    sender = OutboundSender(
        settings.twilio_api_url, status_callback_url=status_callback_url(settings.public_base_url)
    )
    http = httpx.AsyncClient(timeout=30.0)
    transcriber = _transcriber(settings)
    media = MediaIntake(
        sessions=sessions,
        downloader=MediaDownloader(
            http,
            MediaPolicy(frozenset(settings.media_content_types), settings.media_max_bytes),
            twilio_api_url=settings.twilio_api_url,
        ),
        stores=stores,
        transcriber=transcriber,
        clock=utcnow,
    )
    log.info("agent provider: %s; tenants: %s", agents.name, ", ".join(tenants) or "none")
    ownership = ThreadOwnership(sessions, ttl=settings.thread_lease_seconds)
    processor = TurnProcessor(
        catalog=catalog,
        sessions=sessions,
        provider=agents,
        sender=sender,
        media=media,
        ownership=ownership,
        typing=TypingIndicator(sender, renew_every=settings.typing_renew_seconds),
    )

    def use_catalog(updated: AgentCatalog) -> None:
        processor.catalog = updated.tenants

    reloader.subscribe(use_catalog)
    ingester = ingester_from_settings(
        settings, sessions, agents, reloader, http=http, store_for=stores.for_tenant
    )
    js = connection.jetstream()
    consumer = InboundConsumer(
        js,
        processor,
        tenants,
        dead_letters=DeadLetters(
            js,
            tenant_of=lambda name: processor.catalog.by_name(name),
            sessions=sessions,
            inbox=processor.inbox,
            replies=processor.replies,
            sender=sender,
            clock=utcnow,
            known_opt_outs=processor.known_opt_outs,
        ),
        statuses=StatusApplier(sessions, utcnow),
        policy=RetryPolicy(settings.worker_max_attempts, tuple(settings.worker_retry_delays)),
        concurrency=settings.worker_concurrency,
        ack_wait=settings.stream_ack_wait_seconds,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, consumer.stop)
    stopping = asyncio.Event()
    reloading = asyncio.create_task(reloader.run(stopping))
    lag = asyncio.create_task(watch_stream_lag(js, tenants, stopping))
    ingesting = asyncio.create_task(ingester.run(stopping))
    try:
        await consumer.run()
    finally:
        stopping.set()
        await reloading
        await lag
        # An ingestion may be fetching a slow URL: stop it (its transaction rolls back, its lease
        # expires) rather than hold the shutdown.
        ingesting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ingesting
        await agents.close()
        await sender.close()
        await http.aclose()
        stores.close()
        if transcriber is not None:
            await transcriber.close()
        await close_connection(connection)
        await engine.dispose()
        log.info("worker stopped")
