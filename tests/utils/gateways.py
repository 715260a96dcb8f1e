"""The gateway app in the test's event loop, on real NATS, reached through an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from wta_runtime.catalog import TenantCatalog
from wta_runtime.gateway.app import create_app
from wta_runtime.settings import Settings

GATEWAY_BASE = "http://gateway.test"


@asynccontextmanager
async def gateway_client(catalog: TenantCatalog, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose public URL (what Twilio signs) is `GATEWAY_BASE`."""
    app = create_app(Settings(nats_url=nats_url, public_base_url=GATEWAY_BASE), catalog)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_BASE) as client:
            yield client
