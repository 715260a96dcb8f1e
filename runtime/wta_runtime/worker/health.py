"""What the worker's probes answer: the state of each lane, and whether the event loop still runs.

The probes are served from a thread of their own, so the loop writes here (each lane's state, a
heartbeat every second) and the thread only reads: a stuck loop shows as a heartbeat grown old.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

# Liveness fails past this: no turn may hold the loop that long, so the process is stuck.
LIVE_SECONDS = 30.0
BEAT_SECONDS = 1.0


class LaneState(StrEnum):
    """Where a lane is; only `running` (connected to both, consuming) counts as ready."""

    STARTING = "starting"
    RUNNING = "running"
    NATS_UNREACHABLE = "NATS unreachable"
    DATABASE_UNREACHABLE = "database unreachable"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Verdict:
    """A probe's answer: whether it passes, and a short reason naming no secret."""

    ok: bool
    reason: str


class WorkerHealth:
    """The lanes' states and the loop's heartbeat, written by the loop and read by any thread."""

    def __init__(
        self,
        lanes: Iterable[str] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        live_seconds: float = LIVE_SECONDS,
    ) -> None:
        self._clock = clock
        self._live_seconds = live_seconds
        self._lock = threading.Lock()
        self._lanes = {label: str(LaneState.STARTING) for label in lanes}
        self._beat = clock()

    def report(self, lane: str, state: LaneState, detail: str = "") -> None:
        """Record where `lane` is now; `detail` (an error's class, never its text) is shown."""
        with self._lock:
            self._lanes[lane] = f"{state} ({detail})" if detail else str(state)

    def beat(self) -> None:
        self._beat = self._clock()

    async def beat_forever(self, every: float = BEAT_SECONDS) -> None:
        """Stamp the heartbeat until cancelled: it ages only while the loop cannot run."""
        while True:
            self.beat()
            await asyncio.sleep(every)

    def live(self) -> Verdict:
        """Live while the loop has stamped its heartbeat recently."""
        age = self._clock() - self._beat
        if age > self._live_seconds:
            return Verdict(False, f"event loop unresponsive for {age:.0f} s")
        return Verdict(True, "event loop responsive")

    def ready(self) -> Verdict:
        """Ready while live and its lane runs; with several lanes (a shared runtime), while one
        does: a tenant whose lane cannot run (its Secret, its database) must not hold back the
        rollouts of the others. The lanes that do not run are named either way."""
        live = self.live()
        if not live.ok:
            return live
        with self._lock:
            lanes = dict(self._lanes)
        waiting = [
            f"{lane}: {state}"
            for lane, state in sorted(lanes.items())
            if state != LaneState.RUNNING
        ]
        if not waiting:
            return Verdict(True, f"{len(lanes)} lane(s) running")
        running = len(lanes) - len(waiting)
        reason = "lanes not running: " + "; ".join(waiting)
        if running and len(lanes) > 1:
            return Verdict(True, f"{running} of {len(lanes)} lane(s) running; {reason}")
        return Verdict(False, reason)
