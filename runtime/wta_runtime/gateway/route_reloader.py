"""Keeps the gateway's routes in step with the manifest folder (a mounted Secret in a cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.errors import Error as NatsError

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.gateway.state import GatewayState
from wta_runtime.manifests import ManifestError, folder_fingerprint
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream

log = logging.getLogger("wta.gateway")


class RouteReloader:
    """Polls the folders; a changed, valid catalog replaces the old one in one assignment."""

    def __init__(self, state: GatewayState, *, interval_seconds: float) -> None:
        self._state = state
        self._interval = interval_seconds
        self._folders = (state.settings.manifests_dir, state.settings.secrets_dir)
        self._seen = folder_fingerprint(*self._folders)

    def check(self) -> TenantCatalog | None:
        """The new catalog when a file changed; a broken change is logged and None returned."""
        stamp = folder_fingerprint(*self._folders)
        if stamp == self._seen:
            return None
        self._seen = stamp
        try:
            return load_catalog(
                self._state.settings.manifests_dir, self._state.settings.secrets_dir
            )
        except (ManifestError, OSError) as exc:
            log.error("routes not reloaded, keeping the previous ones: %s", exc)
            return None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            catalog = await asyncio.to_thread(self.check)
            if catalog is not None:
                # Streams first: a new tenant's first webhook must find its stream, not a 503.
                await self._create_streams(set(catalog.tenants) - set(self._state.catalog.tenants))
                self._state.catalog = catalog
                await self._state.databases.retire(catalog)
                log.info("routes reloaded: %s", ", ".join(sorted(catalog.tenants)) or "no tenants")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)

    async def _create_streams(self, tenants: set[str]) -> None:
        """New tenants' streams, so their first webhook is not refused (the operator's job too)."""
        js = self._state.nats.jetstream()
        for name in sorted(tenants):
            try:
                await ensure_tenant_stream(js, TenantStream(name), consumers=False)
            except (NatsError, TimeoutError) as exc:
                log.warning("stream of new tenant %s not created: %s", name, exc)
