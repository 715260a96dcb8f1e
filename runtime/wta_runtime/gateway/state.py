"""What the gateway's routes share: settings, tenants, publisher, database and Twilio sender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.delivery import OutboundDelivery
from wta_runtime.gateway.publisher import InboundPublisher
from wta_runtime.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    catalog: TenantCatalog
    nats: NATS
    publisher: InboundPublisher
    # Only the handoff and conversation API use these; Twilio's routes never wait on the database.
    sessions: async_sessionmaker[AsyncSession]
    delivery: OutboundDelivery


async def get_gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


GatewayDep = Annotated[GatewayState, Depends(get_gateway_state)]
