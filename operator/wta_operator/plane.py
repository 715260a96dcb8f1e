"""The operator's long-lived clients and locks, made at startup and kept in kopf's memo."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wta_operator.adapters.database import DatabaseAdmin
from wta_operator.adapters.kube import KubeClient
from wta_operator.adapters.streams import StreamPlane
from wta_operator.conditions import Condition
from wta_operator.settings import OperatorConfig


@dataclass
class PublishedClaims:
    """What the number claims ConfigMap was last given, and when (by `clock`, in seconds)."""

    clock: Callable[[], float] = time.monotonic
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owners: dict[str, str] | None = None
    at: float = 0.0

    def due(self, owners: Mapping[str, str], every: float) -> bool:
        """Changed since the last write, or unchanged for `every` seconds."""
        return owners != self.owners or self.clock() - self.at >= every

    def written(self, owners: Mapping[str, str]) -> None:
        self.owners, self.at = dict(owners), self.clock()


@dataclass
class ControlPlane:
    """Everything a handler needs besides the object it handles."""

    config: OperatorConfig
    kube: KubeClient
    streams: StreamPlane
    database: DatabaseAdmin | None
    # Timers, change handlers and agent handlers may reconcile one tenant at the same time.
    tenant_locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    # One read-modify-write of the shared routes Secret at a time in this process.
    routes_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    published_claims: PublishedClaims = field(default_factory=PublishedClaims)
    # Each sleep-managed tenant's Sleeping condition as last decided (status follows it).
    sleep_states: dict[tuple[str, str], Condition] = field(default_factory=dict)

    def tenant_lock(self, namespace: str, name: str) -> asyncio.Lock:
        return self.tenant_locks.setdefault((namespace, name), asyncio.Lock())

    async def close(self) -> None:
        await self.streams.close()
        self.kube.close()


def control_plane(memo: Any) -> ControlPlane:
    """The ControlPlane the startup handler put in kopf's memo."""
    plane = memo.plane
    if not isinstance(plane, ControlPlane):
        raise RuntimeError("the operator's startup handler has not run")
    return plane
