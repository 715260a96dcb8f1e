"""What the gateway's routes share: settings, the tenant catalog and the JetStream publisher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NATS

from wta_runtime.catalog import TenantCatalog
from wta_runtime.gateway.publisher import InboundPublisher
from wta_runtime.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    catalog: TenantCatalog
    nats: NATS
    publisher: InboundPublisher


async def get_gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


GatewayDep = Annotated[GatewayState, Depends(get_gateway_state)]
