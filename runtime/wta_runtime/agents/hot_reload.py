"""Reloads agent definitions when their files change, swapping the whole catalog at once.

A running turn keeps the catalog it started with; the next turn sees the new one. Nothing stops
consuming while a reload happens, so no message waits or is lost. A broken change is logged and
the last good catalog stays in service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from wta_runtime.agents.agent_catalog import AgentCatalog, fingerprint, load_agent_catalog
from wta_runtime.manifests import ManifestError

log = logging.getLogger("wta.agents.reload")

CatalogListener = Callable[[AgentCatalog], None]


class CatalogReloader:
    """Polls the manifest, Secret and ConfigMap folders; loads and publishes a changed catalog."""

    def __init__(
        self,
        manifests_dir: Path,
        *,
        secrets_dir: Path | None = None,
        configmaps_dir: Path | None = None,
        interval_seconds: float = 2.0,
        initial: AgentCatalog | None = None,
    ) -> None:
        self._manifests_dir = manifests_dir
        self._secrets_dir = secrets_dir
        self._configmaps_dir = configmaps_dir
        self._interval = interval_seconds
        self._listeners: list[CatalogListener] = []
        self.current = initial or load_agent_catalog(manifests_dir, secrets_dir, configmaps_dir)
        self.last_error: str | None = None
        self._refused = ""

    def subscribe(self, listener: CatalogListener) -> None:
        """Call `listener` with every new catalog (e.g. the worker's and the agent runtime's)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: CatalogListener) -> None:
        """Stop calling `listener` (a lane that closed)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def check(self) -> bool:
        """Reload if any file changed; True when a new catalog was published (blocking I/O)."""
        stamp = fingerprint(self._manifests_dir, self._secrets_dir, self._configmaps_dir)
        if stamp in (self.current.fingerprint, self._refused):
            return False
        try:
            loaded = load_agent_catalog(
                self._manifests_dir, self._secrets_dir, self._configmaps_dir
            )
        except (ManifestError, OSError, ValueError) as exc:
            log.error("agent definitions not reloaded, keeping the previous ones: %s", exc)
            self.last_error = str(exc)
            self._refused = stamp
            return False
        self.last_error = None
        self.current = loaded
        for listener in self._listeners:
            listener(loaded)
        log.info(
            "agent definitions reloaded: %s",
            ", ".join(f"{t}/{a}" for t, a in sorted(loaded.resources)) or "no agents",
        )
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Check every interval until `stop` is set."""
        while not stop.is_set():
            await asyncio.to_thread(self.check)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
