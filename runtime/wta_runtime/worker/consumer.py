"""Pulls each served tenant's inbound stream and acknowledges only what was fully handled."""

from __future__ import annotations

import asyncio
import logging

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from wta_runtime import metrics
from wta_runtime.catalog import UnknownTenantError
from wta_runtime.channel.sender import SendError
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import MAX_DELIVERIES, ensure_tenant_stream
from wta_runtime.worker.turn_processor import TurnProcessor

log = logging.getLogger("wta.worker")

FETCH_BATCH = 16
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


def retry_delay(num_delivered: int) -> float:
    """Backoff before the next delivery of a message that failed `num_delivered` times."""
    return RETRY_DELAYS[min(num_delivered, len(RETRY_DELAYS)) - 1]


class InboundConsumer:
    """One pull loop per tenant; messages of a tenant are handled one after another, in order."""

    def __init__(self, js: JetStreamContext, processor: TurnProcessor, tenants: list[str]) -> None:
        self._js = js
        self._processor = processor
        self._tenants = tenants
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        for tenant in self._tenants:
            await ensure_tenant_stream(self._js, TenantStream(tenant))
        async with asyncio.TaskGroup() as group:
            for tenant in self._tenants:
                group.create_task(self._pull(TenantStream(tenant)), name=f"pull-{tenant}")

    def stop(self) -> None:
        self._stopping.set()

    async def _pull(self, names: TenantStream) -> None:
        subscription = await self._js.pull_subscribe_bind(names.worker_durable, stream=names.stream)
        log.info("consuming %s", names.stream)
        while not self._stopping.is_set():
            try:
                batch = await subscription.fetch(FETCH_BATCH, timeout=1.0)
            except TimeoutError:  # nats raises its own subclass or the builtin
                continue
            for msg in batch:
                await self.handle(names.tenant, msg)
        await subscription.unsubscribe()

    async def handle(self, tenant: str, msg: Msg) -> None:
        """Process one stream message and settle it: ack, nak with backoff, or term."""
        try:
            inbound = InboundMessage.model_validate_json(msg.data)
        except ValidationError:
            log.error("dropping malformed stream message on %s", msg.subject)
            await msg.term()
            return
        delivered = msg.metadata.num_delivered
        try:
            outcome = await self._processor.handle(inbound)
        except UnknownTenantError:
            log.error("no configuration for tenant %s; message kept for redelivery", tenant)
            await msg.nak(delay=retry_delay(delivered))
            return
        except SendError as exc:
            if exc.retryable and delivered < MAX_DELIVERIES:
                log.warning("send failed (%s); retrying delivery %d", exc, delivered)
                await msg.nak(delay=retry_delay(delivered))
            else:
                log.error("send of reply to %s failed for good: %s", inbound.message_sid, exc)
                metrics.TURNS.labels(tenant, "", "send_failed").inc()
                await msg.term()
            return
        except Exception:
            log.exception("turn failed for %s (delivery %d)", inbound.message_sid, delivered)
            if delivered >= MAX_DELIVERIES:
                await msg.term()
            else:
                await msg.nak(delay=retry_delay(delivered))
            return
        agent = self._processor.catalog.by_name(tenant).default_agent()
        metrics.TURNS.labels(tenant, agent.name if agent else "", outcome).inc()
        await msg.ack()
