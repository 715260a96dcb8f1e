"""Each tenant's database as the gateway reaches it: with the tenant's own credentials.

A tenant whose route carries a database URL (the operator's `<tenant>-database` Secret in
database mode platform, the tenant's own in mode external) gets a small pool of its own, made on
first use, at most `max_pools` at once (the least recently used goes first), and closed when the
tenant is no longer served or its URL changes. A tenant without one (the local platform, a
shared database) uses the gateway's own WTA_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wta_runtime.catalog import Tenant, TenantCatalog
from wta_runtime.channel.delivery import OutboundDelivery
from wta_runtime.channel.rate_limit import SenderPacer
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db.engine import create_engine, session_factory

log = logging.getLogger("wta.gateway")


@dataclass(frozen=True)
class TenantDatabase:
    """One database pool, its sessions, and the delivery that writes through them."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    delivery: OutboundDelivery
    # A digest of the URL it was made from: a changed URL (a new password) gets a new pool.
    fingerprint: str = field(repr=False)


def _fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class TenantDatabases:
    """The pools of the tenants the gateway serves, and the shared one of the others."""

    def __init__(
        self,
        *,
        default_url: str,
        sender: OutboundSender,
        clock: Callable[[], datetime],
        pool_size: int = 2,
        max_pools: int = 50,
    ) -> None:
        self._sender = sender
        self._clock = clock
        self._pool_size = pool_size
        self._max_pools = max_pools
        self._own: OrderedDict[str, TenantDatabase] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        # Connects on first use: Twilio's routes work without a reachable database.
        self.shared = self._open(default_url, "wta-gateway")

    def _open(self, url: str, application_name: str) -> TenantDatabase:
        engine = create_engine(
            url, pool_size=self._pool_size, max_overflow=2, application_name=application_name
        )
        sessions = session_factory(engine)
        delivery = OutboundDelivery(
            sessions=sessions, sender=self._sender, pacer=SenderPacer(sessions), clock=self._clock
        )
        return TenantDatabase(engine, sessions, delivery, _fingerprint(url))

    def of(self, tenant: Tenant) -> TenantDatabase:
        """The tenant's own pool (made now if needed), or the shared one."""
        if tenant.database_url is None:
            return self.shared
        url = tenant.database_url.get_secret_value()
        held = self._own.get(tenant.name)
        if held is not None and held.fingerprint == _fingerprint(url):
            self._own.move_to_end(tenant.name)
            return held
        if held is not None:
            self._close(tenant.name, "its database URL changed")
        made = self._open(url, "wta-gateway")
        self._own[tenant.name] = made
        while len(self._own) > self._max_pools:
            self._close(next(iter(self._own)), "least recently used")
        return made

    @property
    def open_pools(self) -> list[str]:
        """Tenants whose own pool is open, least recently used first."""
        return list(self._own)

    def _close(self, name: str, why: str) -> None:
        database = self._own.pop(name)
        log.info("database pool of tenant %s closed: %s", name, why)
        task = asyncio.get_running_loop().create_task(database.engine.dispose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def retire(self, catalog: TenantCatalog) -> None:
        """Close the pools of tenants no longer served, or whose database URL changed."""
        for name in list(self._own):
            tenant = catalog.tenants.get(name)
            url = tenant.database_url if tenant is not None else None
            if url is None:
                self._close(name, "the tenant is no longer served here")
            elif self._own[name].fingerprint != _fingerprint(url.get_secret_value()):
                self._close(name, "its database URL changed")
        await self._settle()

    async def _settle(self) -> None:
        await asyncio.gather(*list(self._closing), return_exceptions=True)

    async def close(self) -> None:
        """Close every pool (at shutdown)."""
        await self.retire(TenantCatalog())
        await self.shared.engine.dispose()
