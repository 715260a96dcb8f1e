"""The gateway app in the test's event loop, on real NATS, reached through an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from wta_runtime.catalog import TenantCatalog
from wta_runtime.gateway.app import create_app
from wta_runtime.settings import Settings

GATEWAY_BASE = "http://gateway.test"


@asynccontextmanager
async def gateway_client(catalog: TenantCatalog, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose public URL (what Twilio signs) is `GATEWAY_BASE`."""
    settings = Settings(nats_url=nats_url, public_base_url=GATEWAY_BASE)
    async with serving(settings, catalog) as client:
        yield client


@asynccontextmanager
async def reloading_gateway_client(
    manifests_dir: Path, nats_url: str, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway that re-reads `manifests_dir` every 0.1 s, as a mounted Secret."""
    settings = Settings(
        nats_url=nats_url,
        database_url=database_url,
        manifests_dir=manifests_dir,
        public_base_url=GATEWAY_BASE,
        reload_interval_seconds=0.1,
    )
    async with serving(settings) as client:
        yield client


@asynccontextmanager
async def serving(
    settings: Settings, catalog: TenantCatalog | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, catalog)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_BASE) as client:
            yield client
