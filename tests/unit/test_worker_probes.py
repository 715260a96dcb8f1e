"""The worker's /ready and /live as a kubelet sees them: HTTP status codes on the metrics port.

The probe server runs in a thread of its own; the event loop it watches runs in another, so a
test can hold that loop still and see what the kubelet would while a turn blocks it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.utils.waiting import eventually
from wta_runtime.local.processes import free_port
from wta_runtime.worker.health import LIVE_SECONDS, LaneState, Verdict, WorkerHealth
from wta_runtime.worker.probe_server import serve_probes


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Probed:
    health: WorkerHealth
    clock: Clock
    url: str

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)


@pytest.fixture
def probed() -> Iterator[Probed]:
    """The probe server of a worker with lanes `acme` and `bolt`, on a clock the test moves."""
    clock = Clock()
    health = WorkerHealth(["acme", "bolt"], clock=clock)
    port = free_port()
    server = serve_probes(port, "127.0.0.1", health)
    try:
        yield Probed(health, clock, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread, as the worker's does beside its probe server."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        asyncio.run_coroutine_threadsafe(_cancel_the_others(), running).result(timeout=10)
        running.call_soon_threadsafe(running.stop)
        thread.join(timeout=10)
        running.close()


async def _cancel_the_others() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def test_a_worker_is_not_ready_before_its_lanes_run(probed: Probed) -> None:
    ready = probed.get("/ready")
    assert ready.status_code == 503
    assert ready.text == "lanes not running: acme: starting; bolt: starting\n"
    assert probed.get("/live").status_code == 200


def test_a_worker_is_ready_once_every_lane_runs(probed: Probed) -> None:
    probed.health.report("acme", LaneState.RUNNING)
    probed.health.report("bolt", LaneState.RUNNING)
    ready = probed.get("/ready")
    assert ready.status_code == 200
    assert ready.text == "2 lane(s) running\n"


def test_a_single_lane_that_does_not_run_makes_the_worker_unready() -> None:
    health = WorkerHealth(["acme"])
    assert health.ready() == Verdict(False, "lanes not running: acme: starting")
    health.report("acme", LaneState.DATABASE_UNREACHABLE)
    assert health.ready() == Verdict(False, "lanes not running: acme: database unreachable")
    health.report("acme", LaneState.RUNNING)
    assert health.ready() == Verdict(True, "1 lane(s) running")


@pytest.mark.parametrize(
    ("state", "detail", "named"),
    [
        (LaneState.STARTING, "", "bolt: starting"),
        (LaneState.NATS_UNREACHABLE, "", "bolt: NATS unreachable"),
        (LaneState.DATABASE_UNREACHABLE, "", "bolt: database unreachable"),
        (LaneState.FAILED, "ConnectionRefusedError", "bolt: failed (ConnectionRefusedError)"),
        (LaneState.STOPPED, "", "bolt: stopped"),
    ],
)
def test_a_shared_runtime_stays_ready_while_one_lane_runs_and_names_the_others(
    probed: Probed, state: LaneState, detail: str, named: str
) -> None:
    probed.health.report("acme", LaneState.RUNNING)
    probed.health.report("bolt", state, detail)
    ready = probed.get("/ready")
    assert ready.status_code == 200
    assert ready.text == f"1 of 2 lane(s) running; lanes not running: {named}\n"
    probed.health.report("acme", LaneState.FAILED, "OSError")
    unready = probed.get("/ready")
    assert unready.status_code == 503
    assert unready.text == f"lanes not running: acme: failed (OSError); {named}\n"


def test_the_metrics_are_served_on_the_same_port_as_before(probed: Probed) -> None:
    metrics = probed.get("/metrics")
    assert metrics.status_code == 200
    assert "python_info" in metrics.text


async def test_a_blocked_event_loop_fails_liveness_and_readiness_until_it_runs_again(
    probed: Probed, loop: asyncio.AbstractEventLoop
) -> None:
    for lane in ("acme", "bolt"):
        probed.health.report(lane, LaneState.RUNNING)
    asyncio.run_coroutine_threadsafe(probed.health.beat_forever(every=0.01), loop)
    blocked, release = threading.Event(), threading.Event()

    def block() -> None:  # a turn that holds the loop, as a CPU-bound or blocking call would
        blocked.set()
        release.wait()

    try:
        assert probed.get("/live").status_code == 200
        loop.call_soon_threadsafe(block)
        assert blocked.wait(timeout=10)
        probed.clock.now += LIVE_SECONDS - 1
        assert probed.get("/live").status_code == 200  # slow is not stuck
        probed.clock.now += 2
        live, ready = probed.get("/live"), probed.get("/ready")
        assert (live.status_code, live.text) == (503, "event loop unresponsive for 31 s\n")
        assert (ready.status_code, ready.text) == (503, "event loop unresponsive for 31 s\n")
        release.set()
        await eventually(lambda: probed.get("/live").status_code, until=lambda code: code == 200)
        assert probed.get("/ready").status_code == 200
    finally:
        release.set()
