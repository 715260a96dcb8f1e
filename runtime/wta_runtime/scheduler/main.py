"""Entry point of the scheduler process."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from wta_runtime.catalog import load_catalog
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.scheduler.loop import run_scheduler
from wta_runtime.settings import Settings

log = logging.getLogger("wta.scheduler")


async def run_scheduler_process(settings: Settings) -> None:
    """Sweep conversation timers every interval until SIGTERM or SIGINT."""
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    if settings.scheduler_metrics_port:
        start_http_server(settings.scheduler_metrics_port, addr=settings.metrics_host)
    engine = create_engine(settings.database_url, pool_size=2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("scheduler sweeping every %.0fs", settings.scheduler_interval_seconds)
    try:
        await run_scheduler(
            catalog,
            session_factory(engine),
            interval=settings.scheduler_interval_seconds,
            stop=stop,
        )
    finally:
        await engine.dispose()
        log.info("scheduler stopped")
