"""The platform the worker benchmark runs against, started as a user starts it.

Embedded NATS and PostgreSQL (pg_stat_statements preloaded), `wta local-twilio`, the benchmark
model (hack/bench_model.py) and the gateway, each a real process with its log in `<tmp>/logs`;
databases are migrated with `wta migrate` of the runtime under test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hack import bench_probes as probes
from hack.bench import bench_manifests, run_load, signed_bodies
from hack.bench_report import Scenario
from wta_runtime.catalog import Tenant, load_catalog
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "/api/v1/twilio/webhook"
ROLE = "wta"


class BenchPlatform:
    """NATS, PostgreSQL, local Twilio, the model and the gateway, all started by `start()`."""

    def __init__(self, tmp: Path, runtime_source: Path) -> None:
        self.tmp = tmp
        self.runtime_source = runtime_source
        self.nats_port, self.pg_port = free_port(), free_port()
        self.twilio_port, self.model_port, self.gateway_port = free_port(), free_port(), free_port()
        self.manifests = bench_manifests(tmp / "manifests")
        self.tenant: Tenant = next(iter(load_catalog(self.manifests).tenants.values()))
        self.processes: list[ManagedProcess] = []
        self.postgres_pid = 0  # the postmaster, once started

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def model_url(self) -> str:
        return f"http://127.0.0.1:{self.model_port}"

    def database_url(self, name: str, *, user: str = ROLE, driver: str = "+asyncpg") -> str:
        return f"postgresql{driver}://{user}@127.0.0.1:{self.pg_port}/{name}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a platform process: loopback servers, the runtime under test."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
            "WTA_NATS_URL": self.nats_url,
            "WTA_DATABASE_URL": self.database_url("wta"),
            "WTA_MANIFESTS_DIR": str(self.manifests),
            "WTA_TWILIO_API_BASE": f"http://127.0.0.1:{self.twilio_port}",
            "WTA_MEDIA_DIR": str(self.tmp / "media"),
            "WTA_LOG_LEVEL": "WARNING",
            "PYTHONPATH": f"{self.runtime_source}{os.pathsep}{ROOT}",
            **extra,
        }

    def _run(self, name: str, argv: list[str], port: int, **extra: str) -> ManagedProcess:
        process = ManagedProcess(
            name, argv, port=port, env=self.env(**extra), cwd=ROOT, log_path=self.log(name)
        )
        self.processes.append(process)
        process.start(timeout=60)
        return process

    def log(self, name: str) -> Path:
        return self.tmp / "logs" / f"{name}.log"

    def start(self) -> None:
        nats = nats_process(self.tmp / "nats", port=self.nats_port, log_path=self.log("nats"))
        postgres = postgres_process(self.tmp / "pg", port=self.pg_port, log_path=self.log("pg"))
        postgres.argv = [*postgres.argv, *probes.PG_STAT_STATEMENTS, *probes.PG_TRACK_PLANNING]
        for process in (nats, postgres):
            self.processes.append(process)
            process.start()
        assert postgres.process is not None
        self.postgres_pid = postgres.process.pid
        self.database("wta", migrate=True)
        probes.enable_statement_counts(self.pg_port)
        wta = [sys.executable, "-m", "wta_runtime"]
        self._run(
            "twilio", [*wta, "local-twilio", "--port", str(self.twilio_port)], self.twilio_port
        )
        model = [sys.executable, "-m", "hack.bench_model", "--port", str(self.model_port)]
        self._run("model", model, self.model_port)
        gateway = [
            *[sys.executable, "-m", "uvicorn", "wta_runtime.gateway.asgi:app_from_environment"],
            *["--factory", "--port", str(self.gateway_port), "--log-level", "warning"],
            "--no-access-log",
        ]
        self._run("gateway", gateway, self.gateway_port)

    def database(self, name: str, *, migrate: bool) -> None:
        """A fresh database for one run, migrated by the runtime under test (`wta migrate`)."""
        create_database(self.pg_port, name, ROLE)
        if migrate:
            subprocess.run(
                [sys.executable, "-m", "wta_runtime", "migrate"],
                env=self.env(WTA_DATABASE_URL=self.database_url(name)),
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=120,
            )

    def offer(self, scenario: Scenario, contact_prefix: str) -> None:
        """Send one signed webhook per distinct contact at the scenario's rate."""
        url = f"http://127.0.0.1:{self.gateway_port}{WEBHOOK}"
        contacts = [f"+1{contact_prefix}{n:07d}" for n in range(scenario.contacts)]
        bodies = signed_bodies(self.tenant, url, contacts, scenario.contacts)
        result = run_load({"mode": "open", "url": url, "bodies": bodies, "rate": scenario.rate})
        refused = [status for _, _, status in result["accepted"] if status != 200]
        if refused:
            print(f"  gateway refused {len(refused)} webhooks: {sorted(set(refused))}", flush=True)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
