"""`python -m hack.bench_shared`: memory of one shared runtime serving 1, 10, 50, 200 tenants.

Embedded NATS with one user per tenant (as the operator mints them) and PostgreSQL, `wta
local-twilio` and the gateway run as a user runs them; `python -m wta_runtime worker` in mode
shared serves the first N tenants, each with its own NATS connection and database engine (pool 2).
RSS is read from /proc after start (idle) and after every tenant has answered one message.
The section "## Shared runtime: memory per tenant" of docs/benchmarks.md is replaced.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tests.utils.manifests import tenant_documents

from hack.bench_probes import cpu_seconds, superuser_dsn
from hack.bench_report import DOC, replace_section
from hack.machine import machine
from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.chat import signed_webhook
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.nats_users import make_tenant_streams, mint_local_users, write_server_config
from wta_runtime.local.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Shared runtime: memory per tenant"
COUNTS = tuple(int(n) for n in os.environ.get("WTA_BENCH_SHARED_COUNTS", "1,10,50,200").split(","))
GOAL_MB = 5.0
IDLE_SECONDS = 20.0
WEBHOOK = "/api/v1/twilio/webhook"


def tenant_name(index: int) -> str:
    return f"small-{index:03d}"


def write_manifests(folder: Path, count: int) -> None:
    """`count` tenants, each with its own account, number, token Secret and an offline agent."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        name = tenant_name(index)
        docs = tenant_documents(
            name,
            account=f"AC{index:032d}",
            number=f"+1415600{index:04d}",
            answer="9 to 5.",
            conversation={"burstWindow": "0s"},
        )
        (folder / f"{name}.yaml").write_text(yaml.safe_dump_all(docs))


def metric_samples(port: int, name: str) -> list[float]:
    """The values of one metric's samples on a Prometheus endpoint."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=60) as response:
        exposition = response.read().decode()
    return [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class SharedBench:
    """The servers, started once; `measure(n)` runs a shared worker over the first n tenants."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = max(COUNTS)
        self.manifests = tmp / "manifests"
        write_manifests(self.manifests, self.count)
        self.catalog: TenantCatalog = load_catalog(self.manifests)
        self.names = [tenant_name(i) for i in range(self.count)]
        self.users = mint_local_users(self.names)
        self.nats_port, self.pg_port = free_port(), free_port()
        self.twilio_port, self.gateway_port = free_port(), free_port()
        self.processes: list[ManagedProcess] = []

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://wta@127.0.0.1:{self.pg_port}/shared_bench"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
            "WTA_MANIFESTS_DIR": str(self.manifests),
            "WTA_TWILIO_API_BASE": f"http://127.0.0.1:{self.twilio_port}",
            "WTA_MEDIA_DIR": str(self.tmp / "media"),
            "WTA_LOG_LEVEL": "WARNING",
            "WTA_DATABASE_URL": self.database_url,
            **extra,
        }

    def start(self) -> None:
        config = write_server_config(self.tmp / "nats.conf", self.users)
        nats = nats_process(
            self.tmp / "nats", port=self.nats_port, log_path=self.tmp / "nats.log", config=config
        )
        postgres = postgres_process(
            self.tmp / "pg", port=self.pg_port, log_path=self.tmp / "pg.log"
        )
        # Each tenant's lane keeps its own small pool open: 200 tenants are 200-400 clients.
        postgres.argv = [*postgres.argv, "-c", f"max_connections={2 * self.count + 50}"]
        for process in (nats, postgres):
            self.processes.append(process)
            process.start()
        create_database(self.pg_port, "shared_bench", "wta")
        from wta_runtime.db.migrate import upgrade_database

        upgrade_database(self.database_url)
        make_tenant_streams(self.users.admin_url(self.nats_url), self.names, ack_wait=30.0)
        secrets = self.tmp / "secrets"
        for name in self.names:
            (secrets / f"{name}-nats").mkdir(parents=True)
            (secrets / f"{name}-nats" / "url").write_text(
                self.users.tenant_url(self.nats_url, name)
            )
        wta = [sys.executable, "-m", "wta_runtime"]
        for name, argv, port, extra in (
            (
                "twilio",
                [*wta, "local-twilio", "--port", str(self.twilio_port)],
                self.twilio_port,
                {},
            ),
            (
                "gateway",
                [*wta, "gateway"],
                self.gateway_port,
                {
                    "WTA_GATEWAY_PORT": str(self.gateway_port),
                    "WTA_NATS_URL": self.users.gateway_url(self.nats_url),
                },
            ),
        ):
            process = ManagedProcess(
                name,
                argv,
                port=port,
                env=self.env(**extra),
                cwd=ROOT,
                log_path=self.tmp / f"{name}.log",
            )
            self.processes.append(process)
            process.start(timeout=60)

    def measure(self, count: int) -> dict[str, float]:
        """Idle RSS after start, and RSS after one answered message per tenant, in MB."""
        port = free_port()
        worker = ManagedProcess(
            f"shared-{count}",
            [sys.executable, "-m", "wta_runtime", "worker"],
            port=port,
            env=self.env(
                WTA_RUNTIME_MODE="shared",
                WTA_TENANTS=json.dumps(self.names[:count]),
                WTA_SECRETS_DIR=str(self.tmp / "secrets"),
                WTA_NATS_URL=self.nats_url,
                WTA_WORKER_METRICS_PORT=str(port),
            ),
            cwd=ROOT,
            log_path=self.tmp / f"shared-{count}.log",
        )
        try:
            worker.start(timeout=300)
            assert worker.process is not None
            pid = worker.process.pid
            # The metrics port answers before the lanes are open: wait for every lane's lag gauge.
            self.wait_for(port, "wta_stream_pending_messages", count)
            time.sleep(5)
            idle = rss_mb(pid)
            cpu = cpu_seconds(pid)
            time.sleep(IDLE_SECONDS)
            idle_cpu = (cpu_seconds(pid) - cpu) / IDLE_SECONDS
            url = f"http://127.0.0.1:{self.gateway_port}{WEBHOOK}"
            with httpx.Client(timeout=30) as client:
                for index, name in enumerate(self.names[:count]):
                    tenant = self.catalog.by_name(name)
                    params, signature = signed_webhook(
                        tenant,
                        url,
                        contact=f"+1555{count:03d}{index:04d}",
                        body="hours?",
                        profile_name="Bench",
                        message_sid=f"SM{count:04d}{index:028d}",
                    )
                    response = client.post(
                        url, data=params, headers={"X-Twilio-Signature": signature}
                    )
                    response.raise_for_status()
            self.wait_for(port, "wta_turns_total", count, total=True)
            time.sleep(3)
            busy = rss_mb(pid)
            clients = asyncio.run(self.clients_of(pid))
        finally:
            worker.stop(timeout=60)
        return {
            "tenants": count,
            "idle": idle,
            "after": busy,
            "connections": clients,
            "idle_cpu": idle_cpu,
        }

    def wait_for(self, port: int, name: str, count: int, *, total: bool = False) -> None:
        """Until the metric has `count` samples (or, with `total`, sums to `count`)."""
        deadline = time.monotonic() + 900
        while True:
            try:
                samples = metric_samples(port, name)
            except OSError:  # a worker busy opening 200 lanes may answer slowly
                samples = []
            if (sum(samples) if total else len(samples)) >= count:
                return
            if time.monotonic() > deadline:
                tail = (self.tmp / f"shared-{count}.log").read_text()[-4000:]
                raise RuntimeError(f"{count} tenants: no {name} for each in time:\n{tail}")
            time.sleep(1)

    async def clients_of(self, pid: int) -> int:
        """PostgreSQL connections the worker process holds (its application name ends in pid)."""
        connection = await asyncpg.connect(superuser_dsn(self.pg_port))
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1",
                f"wta-worker %:{pid}",
            )
        finally:
            await connection.close()
        return int(found)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def report(rows: list[dict[str, float]], seconds: float) -> str:
    first, last = rows[0], rows[-1]
    extra = last["tenants"] - first["tenants"]
    per_idle = (last["idle"] - first["idle"]) / extra if extra else 0.0
    per_after = (last["after"] - first["after"]) / extra if extra else 0.0
    lines = [
        HEADING,
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- command: `python -m hack.bench_shared` (part of `make bench`)",
        "- one `wta_runtime worker` process in mode shared (WTA_RUNTIME_MODE=shared) serving the "
        "first N tenants: per tenant its own NATS connection with its own NATS user (embedded "
        "nats-server with one user per tenant, as the operator mints them), its own database "
        "engine (pool 2, connections opened when first used), catalog slice, agent runtime, "
        "consumer and leases; offline agent, local Twilio, the real gateway. All tenants' "
        "engines point at one embedded PostgreSQL database here (in a cluster, each tenant its "
        "own role and schema: the process holds the same objects either way).",
        "- RSS from /proc/<pid>/status: idle 5 s after every lane is open (each tenant's lag gauge "
        "exported), and after each tenant answered one message (its connections open); idle "
        f"CPU over {IDLE_SECONDS:.0f} s from /proc/<pid>/stat; run took {seconds:.0f} s.",
        "",
        "| tenants | RSS idle MB | RSS after one message each MB | PostgreSQL connections "
        "| idle CPU (share of a core) |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {r['tenants']:.0f} | {r['idle']:.1f} | {r['after']:.1f} | {r['connections']:.0f} "
            f"| {r['idle_cpu']:.0%} |"
            for r in rows
        ],
        "",
        f"Per additional tenant ({first['tenants']:.0f} -> {last['tenants']:.0f}): "
        f"**{per_idle:.2f} MB idle, {per_after:.2f} MB with its connections open** "
        f"(goal: under {GOAL_MB:g} MB).",
        "",
        "For comparison, a dedicated runtime is a process of its own per tenant: the 1-tenant "
        f"row ({first['after']:.0f} MB), plus its scheduler sidecar. The idle CPU of a shared "
        "runtime is its lanes' polling (each tenant pulls its turns and its status callbacks "
        "with a 1 s long poll) and grows with the tenants; the PostgreSQL connections grow "
        "with the tenants that were active, up to 2 each (see docs/operating.md, Scaling).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wta-bench-shared-") as folder:
        bench = SharedBench(Path(folder))
        try:
            bench.start()
            rows = []
            for count in COUNTS:
                rows.append(bench.measure(count))
                print(rows[-1], flush=True)
        finally:
            bench.stop()
    section = report(rows, time.monotonic() - started)
    print(section)
    replace_section(DOC, HEADING, section)


if __name__ == "__main__":
    main()
