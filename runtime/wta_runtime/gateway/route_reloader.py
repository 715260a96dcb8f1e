"""Keeps the gateway's routes in step with the manifest folder (a mounted Secret in a cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.errors import Error as NatsError

from wta_runtime.catalog import load_catalog
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

    def check(self) -> bool:
        """Reload when a file changed; a broken change is logged and the old routes stay."""
        stamp = folder_fingerprint(*self._folders)
        if stamp == self._seen:
            return False
        self._seen = stamp
        try:
            catalog = load_catalog(
                self._state.settings.manifests_dir, self._state.settings.secrets_dir
            )
        except (ManifestError, OSError) as exc:
            log.error("routes not reloaded, keeping the previous ones: %s", exc)
            return False
        self._state.catalog = catalog
        log.info("routes reloaded: %s", ", ".join(sorted(catalog.tenants)) or "no tenants")
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            known = set(self._state.catalog.tenants)
            if await asyncio.to_thread(self.check):
                await self._state.databases.retire(self._state.catalog)
                await self._create_streams(set(self._state.catalog.tenants) - known)
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
