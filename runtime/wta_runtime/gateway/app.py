"""Builds the gateway's FastAPI application and owns its NATS, database and Twilio clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.types import Receive, Scope, Send

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.channel.sender import OutboundSender, status_callback_url
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.console.app import mount_console
from wta_runtime.gateway.jetstream_acks import JetStreamAcks
from wta_runtime.gateway.publisher import InboundPublisher
from wta_runtime.gateway.route_reloader import RouteReloader
from wta_runtime.gateway.routes import contacts, conversations, handoff, health
from wta_runtime.gateway.routes.twilio import match_twilio_path, serve_twilio
from wta_runtime.gateway.state import GatewayState
from wta_runtime.gateway.tenant_databases import TenantDatabases
from wta_runtime.settings import Settings
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream


class GatewayApp(FastAPI):
    """The FastAPI app, except for Twilio's posts: they take the lean route of routes/twilio.py."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            twilio = match_twilio_path(scope["path"])
            if twilio is not None:
                handler, tenant = twilio
                state: GatewayState = self.state.gateway
                await serve_twilio(state, handler, tenant, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def unprocessable(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, its JSON kept ASCII: a bad input echoed back may be a lone surrogate."""
    assert isinstance(exc, RequestValidationError)
    detail = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(detail, 422, media_type="application/json")


def create_app(settings: Settings, catalog: TenantCatalog | None = None) -> GatewayApp:
    """The gateway app; the catalog is read from `settings.manifests_dir` unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tenants = catalog or load_catalog(settings.manifests_dir, settings.secrets_dir)
        connection = await connect(settings.nats_url, name="wta-gateway")
        js = connection.jetstream()
        for name in tenants.tenants:
            # Streams only: the consumers belong to the workers and the operator.
            await ensure_tenant_stream(js, TenantStream(name), consumers=False)
        sender = OutboundSender(
            settings.twilio_api_url,
            status_callback_url=status_callback_url(settings.public_base_url),
        )
        databases = TenantDatabases(
            default_url=settings.database_url,
            sender=sender,
            clock=lambda: datetime.now(UTC),
            max_pools=settings.gateway_tenant_pools,
        )
        app.state.gateway = GatewayState(
            settings=settings,
            catalog=tenants,
            nats=connection,
            publisher=InboundPublisher(
                await JetStreamAcks.subscribe(connection),
                timeout=settings.publish_timeout_seconds,
            ),
            databases=databases,
            typing=TypingIndicator(sender),
        )
        stop = asyncio.Event()
        reloader = None
        if catalog is None and settings.reload_interval_seconds > 0:
            reloader = asyncio.create_task(
                RouteReloader(
                    app.state.gateway, interval_seconds=settings.reload_interval_seconds
                ).run(stop)
            )
        try:
            yield
        finally:
            stop.set()
            if reloader is not None:
                await reloader
            await close_connection(connection)
            await sender.close()
            await databases.close()

    app = GatewayApp(title="WhatsApp Twilio AI gateway", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, unprocessable)
    app.include_router(health.router)
    app.include_router(conversations.router)
    app.include_router(handoff.router)
    app.include_router(contacts.router)
    mount_console(app, settings)
    return app
