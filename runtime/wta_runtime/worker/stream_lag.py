"""Exports each served tenant's consumer lag (`wta_stream_pending_messages`) at an interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from wta_runtime import metrics
from wta_runtime.stream.names import TenantStream

log = logging.getLogger("wta.worker")


async def export_stream_lag(js: JetStreamContext, tenants: list[str]) -> None:
    """One reading of every tenant's worker consumer: messages not yet delivered to it."""
    for tenant in tenants:
        names = TenantStream(tenant)
        try:
            info = await js.consumer_info(names.stream, names.worker_durable)
        except (NatsError, JetStreamError, TimeoutError) as exc:
            log.debug("no consumer info for %s: %s", tenant, exc)
            continue
        metrics.STREAM_PENDING.labels(tenant).set(info.num_pending or 0)


async def watch_stream_lag(
    js: JetStreamContext, tenants: list[str], stop: asyncio.Event, *, interval: float = 10.0
) -> None:
    """Read the lag until `stop` is set; the first reading comes soon after the consumers exist."""
    wait = 1.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        await export_stream_lag(js, tenants)
        wait = interval
