"""Entry point of the scheduler process."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.db.driver import dispose
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.scheduler.loop import run_scheduler
from wta_runtime.settings import Settings
from wta_runtime.worker.lane_plans import plan_lanes

log = logging.getLogger("wta.scheduler")


async def run_scheduler_process(settings: Settings) -> None:
    """Sweep conversation timers every interval until SIGTERM or SIGINT."""
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    if settings.scheduler_metrics_port:
        start_http_server(settings.scheduler_metrics_port, addr=settings.metrics_host)
    if settings.runtime_mode == "dedicated":
        lanes = [(catalog, settings.database_url)]
    else:  # a shared runtime: each tenant's timers in its own database, as its own role
        lanes = [
            (TenantCatalog({n: catalog.tenants[n] for n in plan.tenants}), plan.database_url)
            for plan in plan_lanes(settings, catalog, settings.tenants or sorted(catalog.tenants))
        ]
    engines = [create_engine(url, pool_size=1 if len(lanes) > 1 else 2) for _, url in lanes]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("scheduler sweeping every %.0fs", settings.scheduler_interval_seconds)
    try:
        async with asyncio.TaskGroup() as group:
            for (served, _), engine in zip(lanes, engines, strict=True):
                group.create_task(
                    run_scheduler(
                        served.tenants.values,
                        session_factory(engine),
                        interval=settings.scheduler_interval_seconds,
                        stop=stop,
                    )
                )
    finally:
        for engine in engines:
            await dispose(engine)
        log.info("scheduler stopped")
