"""Scale to zero: put an idle tenant's workers to sleep and wake them for a message or a timer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import kopf

from wta_operator.adapters.database import DatabaseUnavailableError, own_next_timer
from wta_operator.adapters.kube import KubeError
from wta_operator.adapters.streams import StreamUnavailableError
from wta_operator.builders.sleep import (
    SLEEPING,
    StreamActivity,
    asleep,
    awake,
    sleep_reason,
    wake_reason,
    watching,
)
from wta_operator.conditions import Condition, merge_conditions, now_utc
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.runtime import apply_runtime
from wta_operator.reconcile.tenant_database import read_tenant_database
from wta_operator.views import AgentView, TenantView

log = logging.getLogger("wta.operator.sleep")


def sleep_condition(
    plane: ControlPlane, tenant: TenantView, status: Mapping[str, Any]
) -> Condition | None:
    """The tenant's Sleeping condition (None without spec.runtime.idleAfter): as last decided in
    this process, else as the status shows it (after a restart), else awake."""
    key = (tenant.namespace, tenant.name)
    idle_after = tenant.spec.runtime.idle_after
    if idle_after is None:
        plane.sleep_states.pop(key, None)
        return None
    known = plane.sleep_states.get(key)
    if known is not None:
        return known
    for shown in status.get("conditions") or []:
        if shown.get("type") == SLEEPING and shown.get("status") == "True":
            known = asleep(str(shown.get("message") or ""))
    known = known or watching(idle_after)
    plane.sleep_states[key] = known
    return known


async def next_timer(plane: ControlPlane, tenant: TenantView) -> datetime | None:
    """When the tenant's scheduler next moves a conversation (None: no timer set, or no way into
    its database). Raises DatabaseUnavailableError."""
    idle = tenant.spec.timers.idle
    return await read_tenant_database(
        plane,
        tenant,
        lambda admin, scope: admin.next_timer(scope, tenant.name, idle),
        lambda url, timeout: own_next_timer(url, tenant.name, idle, timeout=timeout),
    )


@dataclass
class Place:
    """What other objects decide for the tenant: its agents, and whether it may run at all."""

    agents: list[AgentView]
    name_taken: str


@dataclass
class TimerCache:
    """A sleeping tenant's next timer, read again every `every` (the database is not asked on
    every poll of the stream)."""

    every: timedelta
    at: datetime | None = None
    read_at: datetime | None = None

    async def get(self, plane: ControlPlane, tenant: TenantView, now: datetime) -> datetime | None:
        if self.read_at is None or now - self.read_at >= self.every:
            self.at, self.read_at = await next_timer(plane, tenant), now
        return self.at

    def forget(self) -> None:
        self.read_at = None


class SleepKeeper:
    """One tenant's sleep and wake decisions, one step at a time (a daemon calls `step`)."""

    def __init__(self, plane: ControlPlane, body: kopf.Body) -> None:
        self._plane = plane
        self._body = body
        config = plane.config
        self._margin = timedelta(seconds=config.wake_before_timer_seconds)
        self._timers = TimerCache(timedelta(seconds=config.sleep_check_seconds))
        # When this daemon last saw the consumers hand out a message (servers before NATS 2.10
        # give no `last_active`).
        self._handed_out: int | None = None
        self._moved_at: datetime | None = None

    async def step(self, tenant: TenantView, place: Place) -> float:
        """Sleep or wake if it is time; returns the seconds until the next step."""
        config = self._plane.config
        try:
            return await self._step(tenant, place)
        except (StreamUnavailableError, DatabaseUnavailableError, KubeError) as exc:
            log.warning("[%s/%s] sleep check skipped: %s", tenant.namespace, tenant.name, exc)
            return config.sleep_check_seconds

    async def _step(self, tenant: TenantView, place: Place) -> float:
        config = self._plane.config
        status = self._body.get("status") or {}
        current = sleep_condition(self._plane, tenant, status)
        spec, idle_after = tenant.spec, tenant.spec.runtime.idle_after
        # A shared tenant costs the shared runtime under a megabyte: it never sleeps.
        shared = spec.runtime.mode == "shared"
        stopped = spec.suspend or spec.runtime.replicas == 0 or bool(place.name_taken) or shared
        if current is None or idle_after is None or stopped:
            if current is not None and current.ok:
                await self._turn(tenant, place, awake("the workers are stopped by the spec"))
            return config.sleep_check_seconds
        activity = await self._plane.streams.activity(tenant.name)
        if activity is None:
            return config.sleep_check_seconds
        now = now_utc()
        if current.ok:
            timer = await self._timers.get(self._plane, tenant, now)
            reason = wake_reason(activity, timer, timer_margin=self._margin, now=now)
            if reason is not None:
                await self._turn(tenant, place, awake(reason, "Woken"), event="Woken")
                return config.sleep_check_seconds
            return config.wake_poll_seconds
        if self._idle(activity, idle_after, now):
            timer = await next_timer(self._plane, tenant)
            reason = sleep_reason(
                activity,
                timer,
                idle_after=idle_after,
                timer_margin=self._margin,
                now=now,
            )
            if reason is not None:
                await self._turn(tenant, place, asleep(reason), event="Sleeping")
                return config.wake_poll_seconds
        return config.sleep_check_seconds

    def _idle(self, activity: StreamActivity, idle_after: timedelta, now: datetime) -> bool:
        if self._handed_out is not None and activity.handed_out != self._handed_out:
            self._moved_at = now
        self._handed_out = activity.handed_out
        last = max(activity.last_active, self._moved_at or activity.last_active)
        return not activity.busy and now - last >= idle_after

    async def _turn(
        self, tenant: TenantView, place: Place, condition: Condition, event: str | None = None
    ) -> None:
        """Scale the workers for `condition`, show it in the status, say why in an Event."""
        plane, key = self._plane, (tenant.namespace, tenant.name)
        async with plane.tenant_lock(*key):
            before = plane.sleep_states.get(key)
            plane.sleep_states[key] = condition
            outcome = await apply_runtime(
                plane,
                self._body,
                tenant,
                place.agents,
                may_run=not place.name_taken,
                conflict=place.name_taken,
                sleeping=condition.ok,
            )
            if outcome.condition.reason == "ApplyFailed":
                self._restore(key, before)
                raise KubeError(outcome.condition.message)
            await self._show(tenant, [outcome.condition, condition])
        self._timers.forget()
        log.info(
            "[%s/%s] %s: %s", tenant.namespace, tenant.name, condition.reason, condition.message
        )
        if event is not None:
            kopf.info(self._body, reason=event, message=condition.message)

    def _restore(self, key: tuple[str, str], before: Condition | None) -> None:
        if before is None:
            self._plane.sleep_states.pop(key, None)
        else:
            self._plane.sleep_states[key] = before

    async def _show(self, tenant: TenantView, conditions: list[Condition]) -> None:
        """Replace the Runtime and Sleeping conditions in the live status, keeping the others."""
        raw = await self._plane.kube.read_tenant(tenant.namespace, tenant.name)
        if raw is None:
            return
        shown = list((raw.get("status") or {}).get("conditions") or [])
        generation = (raw.get("metadata") or {}).get("generation")
        merged = merge_conditions(shown, conditions, generation=generation, now=now_utc())
        replaced = {c["type"]: c for c in merged}
        kept = [replaced.pop(str(c.get("type")), c) for c in shown]
        await self._plane.kube.patch_tenant_status(
            tenant.namespace, tenant.name, {"conditions": kept + list(replaced.values())}
        )
