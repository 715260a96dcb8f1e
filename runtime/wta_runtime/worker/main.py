"""Entry point of a runtime worker process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from wta_runtime.agents.choose import AgentSettings, catalog_reloader, embedder_from_settings
from wta_runtime.catalog import Tenant
from wta_runtime.channel.media import MediaDownloader, MediaPolicy
from wta_runtime.channel.media_store import MediaStoreError
from wta_runtime.channel.media_stores import MediaStores, platform_media_store
from wta_runtime.channel.sender import OutboundSender, status_callback_url
from wta_runtime.channel.transcription import OpenAITranscriber
from wta_runtime.egress.connections import egress_client
from wta_runtime.settings import Settings
from wta_runtime.worker.health import WorkerHealth
from wta_runtime.worker.lane_plans import plan_lanes
from wta_runtime.worker.lane_supervisor import LaneSupervisor
from wta_runtime.worker.lanes import SharedTools
from wta_runtime.worker.probe_server import serve_probes

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
        egress=settings.egress_policy,
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
    agent_settings = AgentSettings()
    # Every lane's agents and turns see the catalog re-read when the manifests change.
    reloader = catalog_reloader(settings, agent_settings)
    catalog = reloader.current.tenants
    tenants = settings.tenants or sorted(catalog.tenants)
    stores = await _media_stores(
        settings, [catalog.tenants[n] for n in tenants if n in catalog.tenants]
    )
    plans = plan_lanes(settings, catalog, tenants)
    # Not ready before the planned lanes consume; the probes share the metrics port.
    health = WorkerHealth(plan.label for plan in plans)
    if settings.worker_metrics_port:
        serve_probes(settings.worker_metrics_port, settings.metrics_host, health)
    sender = OutboundSender(
        settings.twilio_api_url, status_callback_url=status_callback_url(settings.public_base_url)
    )
    # Tenants' HTTP tools and knowledge URLs reach only where the platform allows.
    http = egress_client(settings.egress_policy, timeout=30.0)
    transcriber = _transcriber(settings)
    downloader = MediaDownloader(
        MediaPolicy(frozenset(settings.media_content_types), settings.media_max_bytes),
        twilio_api_url=settings.twilio_api_url,
        egress=settings.egress_policy,
    )
    tools = SharedTools(
        settings=settings,
        agent_settings=agent_settings,
        embedder=embedder_from_settings(settings, agent_settings),
        http=http,
        sender=sender,
        downloader=downloader,
        stores=stores,
        transcriber=transcriber,
    )
    log.info("%s runtime; tenants: %s", settings.runtime_mode, ", ".join(tenants) or "none")
    supervisor = LaneSupervisor(tools, reloader, worker_application_name(), health=health)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, supervisor.stop)
    # A shared runtime's tenants fail alone; a dedicated runtime's one lane ends the process.
    retry = settings.runtime_mode == "shared"
    reloading = asyncio.create_task(reloader.run(supervisor.stopping))
    trimming = asyncio.create_task(tools.heap.run(supervisor.stopping))
    # Beats until the process ends, through the drain after SIGTERM: a draining worker is live.
    beating = asyncio.create_task(health.beat_forever())
    try:
        await asyncio.gather(*(supervisor.serve(plan, retry=retry) for plan in plans))
    finally:
        supervisor.stopping.set()
        await reloading
        await trimming
        await sender.close()
        await http.aclose()
        await downloader.close()
        stores.close()
        if transcriber is not None:
            await transcriber.close()
        beating.cancel()
        log.info("worker stopped")
