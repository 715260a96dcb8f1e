"""Runs the timer sweeps for every served tenant at a fixed interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime import metrics
from wta_runtime.catalog import Tenant
from wta_runtime.scheduler.gauges import export_conversation_gauges
from wta_runtime.scheduler.sweeps import expire_conversations, idle_conversations

log = logging.getLogger("wta.scheduler")


async def sweep_once(
    tenants: Iterable[Tenant],
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
) -> dict[str, int]:
    """One pass over `tenants`; returns the number of conversations moved per new state."""
    moved = {"idle_timeout": 0, "expired": 0}
    for tenant in tenants:
        async with sessions.begin() as session:
            expired = await expire_conversations(session, tenant=tenant.name, now=now)
            idled = await idle_conversations(
                session, tenant=tenant.name, now=now, idle=tenant.spec.timers.idle
            )
            await export_conversation_gauges(session, tenant=tenant.name, now=now)
        metrics.CONVERSATIONS_EXPIRED.labels(tenant.name, "expired").inc(expired)
        metrics.CONVERSATIONS_EXPIRED.labels(tenant.name, "idle_timeout").inc(idled)
        moved["expired"] += expired
        moved["idle_timeout"] += idled
    return moved


async def run_scheduler(
    tenants: Callable[[], Iterable[Tenant]],
    sessions: async_sessionmaker[AsyncSession],
    *,
    interval: float,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Sweep the tenants `tenants()` gives (asked each pass) until `stop` is set.

    A failed pass is logged and tried again next interval.
    """
    while not stop.is_set():
        try:
            moved = await sweep_once(tenants(), sessions, clock())
            if any(moved.values()):
                log.info("moved conversations: %s", moved)
        except Exception:
            log.exception("scheduler pass failed; retrying next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
