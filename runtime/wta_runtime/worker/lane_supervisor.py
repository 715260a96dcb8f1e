"""Each lane runs on its own: in a shared runtime, a tenant whose lane cannot start or stops with
an error is tried again with a growing delay (its Secrets read again), and the other tenants'
lanes go on. A dedicated runtime's one lane still ends the process on an error, so the pod
restarts as it always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from prometheus_client import Counter

from wta_runtime.agents.hot_reload import CatalogReloader
from wta_runtime.worker.health import LaneState, WorkerHealth
from wta_runtime.worker.lane_plans import LanePlan, replan
from wta_runtime.worker.lanes import Lane, SharedTools, open_lane

log = logging.getLogger("wta.worker")

LANE_RESTARTS = Counter(
    "wta_worker_lane_restarts",
    "Lanes of a shared runtime that failed and are tried again, by tenant.",
    ["tenant"],
)


@dataclass
class LaneSupervisor:
    """Opens, runs and (in a shared runtime) reopens the lanes of one worker process."""

    tools: SharedTools
    reloader: CatalogReloader
    application_name: str
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    first_delay: float = 1.0
    connect_seconds: float = 10.0
    max_delay: float = 60.0
    running: dict[str, Lane] = field(default_factory=dict)
    health: WorkerHealth = field(default_factory=WorkerHealth)
    # How often a running lane's NATS connection and database are looked at for `/ready`.
    check_every: float = 5.0

    def stop(self) -> None:
        """Stop every lane (each finishes its turns in flight) and retry none."""
        self.stopping.set()
        for label, lane in list(self.running.items()):
            self.health.report(label, LaneState.STOPPED)
            lane.consumer.stop()

    async def serve(self, plan: LanePlan, *, retry: bool) -> None:
        """Run the lane until stopped; on an error, raise it (`retry` False) or open it again."""
        delay = self.first_delay
        while not self.stopping.is_set():
            self.health.report(plan.label, LaneState.STARTING)
            try:
                await self._run_once(plan, self.connect_seconds if retry else None)
                break
            except Exception as exc:
                self.health.report(plan.label, LaneState.FAILED, type(exc).__name__)
                if not retry:
                    raise
                LANE_RESTARTS.labels(plan.label).inc()
                # The class only: a connection error's text may carry the URL it was given.
                log.error(
                    "lane of %s stopped (%s); trying again in %.0f s, the other tenants go on",
                    plan.label,
                    type(exc).__name__,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            delay = min(delay * 2, self.max_delay)
            plan = replan(self.tools.settings, plan)
        self.health.report(plan.label, LaneState.STOPPED)

    async def _run_once(self, plan: LanePlan, connect_seconds: float | None) -> None:
        async with open_lane(
            plan,
            self.tools,
            self.reloader,
            self.application_name,
            first_connect_seconds=connect_seconds,
        ) as lane:
            self.running[plan.label] = lane
            self.reloader.subscribe(lane.use_catalog)
            watching = asyncio.create_task(self._watch(lane))
            try:
                if self.stopping.is_set():
                    lane.consumer.stop()
                await lane.run()
            finally:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
                self.reloader.unsubscribe(lane.use_catalog)
                self.running.pop(plan.label, None)

    async def _watch(self, lane: Lane) -> None:
        """Report the lane running once it consumes, then whether it still reaches both servers."""
        await lane.consumer.consuming.wait()
        while not self.stopping.is_set():
            state = await lane.check(timeout=self.check_every)
            if self.stopping.is_set():
                return  # stop() has reported it stopped; a check in flight must not undo that
            self.health.report(lane.plan.label, state)
            await asyncio.sleep(self.check_every)
