"""A worker process's /ready follows its lane's NATS and database, as the kubelet reads it.

Real processes: the pod's command (`python -m wta_runtime worker`) on a NATS server of its own,
which the tests stop and start again, and a database of its own, which they close to new
connections; /live stays 200 throughout, since the worker's loop runs on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.utils.databases import fresh_database
from tests.utils.probes import probe
from tests.utils.waiting import eventually
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
TENANT = "acme-pizza"


@dataclass
class ProbedWorker:
    """A dedicated worker of acme-pizza, its NATS server and its database."""

    worker: ManagedProcess
    nats: ManagedProcess
    database: str  # the database's name
    admin_url: str  # a plain URL to the server's `postgres` database, to close and open it

    async def serving(self) -> None:
        """Start whatever is not running, and wait for the worker to be ready."""
        if not self.nats.running():
            self.nats.start()
        if not self.worker.running():
            self.worker.start(timeout=60)
        await self.ready_says(200, "1 lane(s) running")

    async def ready_says(self, status: int, reason: str) -> None:
        """Wait until /ready answers `status` with `reason` (the lane checks every 5 s)."""
        await eventually(
            lambda: self.probe("/ready"), until=lambda got: got == (status, reason), timeout=60
        )

    def probe(self, path: str) -> tuple[int, str]:
        return probe(self.worker.port, path)

    async def allow_connections(self, allowed: bool) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(
                f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'
            )
            if not allowed:
                await connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    self.database,
                )
        finally:
            await connection.close()


def _worker(folder: Path, nats_url: str, database_url: str) -> ManagedProcess:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_MANIFESTS_DIR": str(ROOT / "examples"),
        "WTA_TENANTS": f'["{TENANT}"]',
        "WTA_NATS_URL": nats_url,
        "WTA_DATABASE_URL": database_url,
        "WTA_WORKER_METRICS_PORT": str(port),
        "WTA_MEDIA_DIR": str(folder / "media"),
        "WTA_LOG_LEVEL": "INFO",
    }
    return ManagedProcess(
        "worker",
        [sys.executable, "-m", "wta_runtime", "worker"],
        port=port,
        log_path=folder / "worker.log",
        env=env,
    )


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ProbedWorker]:
    """The worker and its servers, not yet started: each test starts what it needs."""
    folder = tmp_path_factory.mktemp("worker-probes")
    nats_port = free_port()
    nats = nats_process(folder / "nats", port=nats_port, log_path=folder / "nats.log")
    url, plain_url = fresh_database(database_url, "probes")
    upgrade_database(url)
    worker = _worker(folder, f"nats://127.0.0.1:{nats_port}", url)
    yield ProbedWorker(worker, nats, "probes", plain_url.rsplit("/", 1)[0] + "/postgres")
    worker.stop()
    nats.stop()


async def test_a_worker_is_not_ready_until_its_lane_consumes(probed: ProbedWorker) -> None:
    probed.worker.stop()
    probed.nats.stop()
    probed.worker.start(timeout=60)  # its NATS is not up yet: the lane waits to connect
    assert probed.probe("/ready") == (503, f"lanes not running: {TENANT}: starting")
    assert probed.probe("/live") == (200, "event loop responsive")
    probed.nats.start()
    await probed.ready_says(200, "1 lane(s) running")


async def test_a_lane_whose_nats_goes_away_makes_the_worker_unready_until_it_is_back(
    probed: ProbedWorker,
) -> None:
    await probed.serving()
    probed.nats.stop()
    await probed.ready_says(503, f"lanes not running: {TENANT}: NATS unreachable")
    assert probed.probe("/live")[0] == 200  # not stuck: restarting it would not bring NATS back
    probed.nats.start()
    await probed.ready_says(200, "1 lane(s) running")


async def test_a_lane_whose_database_goes_away_makes_the_worker_unready_until_it_is_back(
    probed: ProbedWorker,
) -> None:
    await probed.serving()
    await probed.allow_connections(False)
    try:
        await probed.ready_says(503, f"lanes not running: {TENANT}: database unreachable")
        assert probed.probe("/live")[0] == 200
    finally:
        await probed.allow_connections(True)
    await probed.ready_says(200, "1 lane(s) running")
    assert probed.worker.running()
    assert "postgresql" not in probed.probe("/ready")[1]
