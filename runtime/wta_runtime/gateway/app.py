"""Builds the gateway's FastAPI application and owns its NATS connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.gateway.publisher import InboundPublisher
from wta_runtime.gateway.routes import health, webhook
from wta_runtime.gateway.state import GatewayState
from wta_runtime.settings import Settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream


def create_app(settings: Settings, catalog: TenantCatalog | None = None) -> FastAPI:
    """The gateway app; the catalog is read from `settings.manifests_dir` unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tenants = catalog or load_catalog(settings.manifests_dir, settings.secrets_dir)
        connection = await connect(settings.nats_url, name="wta-gateway")
        js = connection.jetstream()
        for name in tenants.tenants:
            await ensure_tenant_stream(js, TenantStream(name))
        app.state.gateway = GatewayState(
            settings=settings,
            catalog=tenants,
            nats=connection,
            publisher=InboundPublisher(js, timeout=settings.publish_timeout_seconds),
        )
        try:
            yield
        finally:
            await close_connection(connection)

    app = FastAPI(title="WhatsApp Twilio AI gateway", lifespan=lifespan)
    app.include_router(health.router)
    app.include_router(webhook.router)
    return app
