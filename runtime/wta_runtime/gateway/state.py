"""What the gateway's routes share: settings, tenants, publisher and the tenants' databases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NATS

from wta_runtime.catalog import Tenant, TenantCatalog
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.gateway.publisher import InboundPublisher
from wta_runtime.gateway.tenant_databases import TenantDatabase, TenantDatabases
from wta_runtime.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    catalog: TenantCatalog
    nats: NATS
    publisher: InboundPublisher
    # Only the handoff API and the console use these; Twilio's routes never wait on a database.
    databases: TenantDatabases
    # The console shows the contact a person typing, as the worker shows the bot.
    typing: TypingIndicator

    def database(self, tenant: Tenant) -> TenantDatabase:
        """Where this tenant's conversations are, reached with its own credentials."""
        return self.databases.of(tenant)


async def get_gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


GatewayDep = Annotated[GatewayState, Depends(get_gateway_state)]
