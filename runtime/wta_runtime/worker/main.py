"""Entry point of a runtime worker process."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from wta_runtime.agents.choose import provider_from_settings
from wta_runtime.catalog import load_catalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.settings import Settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.worker.consumer import InboundConsumer
from wta_runtime.worker.turn_processor import TurnProcessor

log = logging.getLogger("wta.worker")


async def run_worker(settings: Settings) -> None:
    """Consume the served tenants' streams until SIGTERM or SIGINT."""
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    tenants = settings.tenants or sorted(catalog.tenants)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr="0.0.0.0")
    engine = create_engine(settings.database_url)
    connection = await connect(settings.nats_url, name="wta-worker")
    sender = OutboundSender(settings.twilio_api_url)
    provider = provider_from_settings(settings)
    log.info("agent provider: %s; tenants: %s", provider.name, ", ".join(tenants) or "none")
    processor = TurnProcessor(
        catalog=catalog, sessions=session_factory(engine), provider=provider, sender=sender
    )
    consumer = InboundConsumer(connection.jetstream(), processor, tenants)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, consumer.stop)
    try:
        await consumer.run()
    finally:
        await sender.close()
        await close_connection(connection)
        await engine.dispose()
        log.info("worker stopped")
