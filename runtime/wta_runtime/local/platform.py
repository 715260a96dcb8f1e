"""`wta run`: the whole platform on this machine, on embedded NATS and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.nats_users import (
    LocalNatsUsers,
    make_tenant_streams,
    mint_local_users,
    write_server_config,
)
from wta_runtime.local.processes import (
    ManagedProcess,
    ProcessStartError,
    port_open,
    stop_together,
)
from wta_runtime.settings import Settings

# Locally, tenants' tools and documents may be served on this machine (an offline `make run`).
LOCAL_EGRESS_ALLOW = "127.0.0.0/8,::1/128"

LOCAL_DATABASE = "wta"


@dataclass(frozen=True)
class LocalEndpoints:
    """Where the embedded services listen."""

    nats_url: str
    database_url: str
    twilio_api_base: str


def local_endpoints(settings: Settings) -> LocalEndpoints:
    return LocalEndpoints(
        nats_url=f"nats://127.0.0.1:{settings.local_nats_port}",
        database_url=(
            f"postgresql+asyncpg://{LOCAL_DATABASE}@127.0.0.1:"
            f"{settings.local_postgres_port}/{LOCAL_DATABASE}"
        ),
        twilio_api_base=f"http://127.0.0.1:{settings.local_twilio_port}",
    )


def pid_file(settings: Settings) -> Path:
    return settings.local_data_dir / "run.pid"


def _wta(*args: str) -> list[str]:
    return [sys.executable, "-m", "wta_runtime", *args]


def nats_config_path(settings: Settings) -> Path:
    return settings.local_data_dir / "nats.conf"


def infrastructure_processes(settings: Settings) -> list[ManagedProcess]:
    """NATS and PostgreSQL with their data under the local data folder (not started)."""
    data = settings.local_data_dir
    nats = nats_process(
        data / "nats",
        port=settings.local_nats_port,
        log_path=data / "logs/nats.log",
        config=nats_config_path(settings),
    )
    postgres = postgres_process(
        data / "postgres", port=settings.local_postgres_port, log_path=data / "logs/postgres.log"
    )
    return [nats, postgres]


def start_infrastructure(settings: Settings, users: LocalNatsUsers) -> list[ManagedProcess]:
    """Start NATS (with these users) and PostgreSQL, make the tenants' streams, then migrate."""
    endpoints = local_endpoints(settings)
    write_server_config(nats_config_path(settings), users)
    started: list[ManagedProcess] = []
    try:
        for process in infrastructure_processes(settings):
            process.spawn()
            started.append(process)
        for process in started:
            process.wait_ready()
        make_tenant_streams(
            users.admin_url(endpoints.nats_url),
            sorted(users.tenants),
            ack_wait=settings.stream_ack_wait_seconds,
        )
        create_database(settings.local_postgres_port, LOCAL_DATABASE, LOCAL_DATABASE)
        upgrade_database(endpoints.database_url)
    except BaseException:
        stop_all(started)
        raise
    return started


def worker_processes(
    settings: Settings, env: dict[str, str], nats_url: str, users: LocalNatsUsers
) -> list[ManagedProcess]:
    """One worker per tenant, as in a cluster, each connected as its tenant's NATS user.

    The first listens for metrics on `WTA_WORKER_METRICS_PORT`, the next ones on the ports after.
    """
    tenants = sorted(users.tenants)
    if not tenants:
        return [
            ManagedProcess("worker", _wta("worker"), port=settings.worker_metrics_port, env=env)
        ]
    return [
        ManagedProcess(
            "worker" if len(tenants) == 1 else f"worker-{tenant}",
            _wta("worker"),
            port=settings.worker_metrics_port + index,
            env={
                **env,
                "WTA_TENANTS": json.dumps([tenant]),
                "WTA_NATS_URL": users.tenant_url(nats_url, tenant),
                "WTA_WORKER_METRICS_PORT": str(settings.worker_metrics_port + index),
            },
        )
        for index, tenant in enumerate(tenants)
    ]


def application_processes(
    settings: Settings, endpoints: LocalEndpoints, users: LocalNatsUsers
) -> list[ManagedProcess]:
    """The local Twilio API, the gateway and the workers, wired to embedded parts.

    As in a runtime pod, each worker sweeps its tenant's timers itself: no scheduler process.
    """
    env = {
        **os.environ,
        "WTA_NATS_URL": endpoints.nats_url,
        "WTA_DATABASE_URL": endpoints.database_url,
        "WTA_TWILIO_API_BASE": endpoints.twilio_api_base,
        "WTA_MANIFESTS_DIR": str(settings.manifests_dir.resolve()),
        # Twilio signs callbacks with this URL; locally it also turns on delivery callbacks.
        "WTA_PUBLIC_BASE_URL": settings.public_base_url
        or f"http://{settings.gateway_host}:{settings.gateway_port}",
        "WTA_EGRESS_ALLOW": ",".join(filter(None, [LOCAL_EGRESS_ALLOW, settings.egress_allow])),
        # Media lives with the rest of the local data unless a folder was chosen for it.
        "WTA_MEDIA_DIR": str(
            settings.media_dir
            if "media_dir" in settings.model_fields_set
            else settings.local_data_dir / "media"
        ),
    }
    return [
        ManagedProcess(
            "twilio",
            _wta("local-twilio", "--port", str(settings.local_twilio_port)),
            port=settings.local_twilio_port,
            env=env,
        ),
        ManagedProcess(
            "gateway",
            _wta("gateway"),
            port=settings.gateway_port,
            env={**env, "WTA_NATS_URL": users.gateway_url(endpoints.nats_url)},
        ),
        *worker_processes(settings, env, endpoints.nats_url, users),
    ]


# The setting that moves each local process to another port.
PORT_SETTINGS = {
    "nats": "WTA_LOCAL_NATS_PORT",
    "postgres": "WTA_LOCAL_POSTGRES_PORT",
    "twilio": "WTA_LOCAL_TWILIO_PORT",
    "gateway": "WTA_GATEWAY_PORT",
    "worker": "WTA_WORKER_METRICS_PORT",
}


def _port_setting(process: str) -> str:
    if process.startswith("worker-"):  # one per tenant, on the ports after the first's
        return PORT_SETTINGS["worker"]
    return PORT_SETTINGS.get(process, "its port")


class PortTakenError(RuntimeError):
    """A port the local platform needs is already in use by another program."""


def check_ports_free(processes: list[ManagedProcess]) -> None:
    """Refuse to start when a port is taken: a readiness check would see the other program."""
    taken = [p for p in processes if p.port is not None and port_open(p.port)]
    if taken:
        lines = [
            f"  {p.name}: port {p.port} is already in use; stop what listens there (another "
            f"`make run`? `make stop`) or set {_port_setting(p.name)}"
            for p in taken
        ]
        raise PortTakenError("cannot start the local platform:\n" + "\n".join(lines))


def stop_all(processes: list[ManagedProcess]) -> None:
    """Stop the applications together first, then the infrastructure they drain into."""
    infrastructure = {"nats", "postgres"}
    stop_together([p for p in processes if p.name not in infrastructure])
    stop_together([p for p in processes if p.name in infrastructure])


def describe(catalog: TenantCatalog, settings: Settings, provider: str) -> str:
    lines = ["", "WhatsApp Twilio AI is running locally:"]
    lines.append(f"  gateway         http://{settings.gateway_host}:{settings.gateway_port}")
    lines.append(
        f"  staff console   http://{settings.gateway_host}:{settings.gateway_port}/console"
    )
    lines.append(f"  twilio (local)  http://127.0.0.1:{settings.local_twilio_port}")
    lines.append(f"  agent provider  {provider}")
    for tenant in catalog.tenants.values():
        agents = ", ".join(a.name for a in tenant.agents) or "no agents"
        lines.append(f"  tenant {tenant.name}: {', '.join(tenant.numbers)} ({agents})")
    lines += [
        "",
        "Talk to it:  make chat      Stop: Ctrl-C or make stop",
        "Console login:  .venv/bin/wta staff add TENANT EMAIL --role supervisor",
        "",
    ]
    return "\n".join(lines)


def run_local_platform(settings: Settings) -> None:
    """Start everything, wait for Ctrl-C / SIGTERM (or a child dying), then stop everything."""
    settings = settings.model_copy(update={"local_data_dir": settings.local_data_dir.resolve()})
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    settings.local_data_dir.mkdir(parents=True, exist_ok=True)
    pid_file(settings).write_text(str(os.getpid()))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    processes: list[ManagedProcess] = []
    users = mint_local_users(sorted(catalog.tenants))
    applications = application_processes(settings, local_endpoints(settings), users)
    try:
        check_ports_free([*infrastructure_processes(settings), *applications])
        processes += start_infrastructure(settings, users)
        for process in applications:
            process.spawn()
            processes.append(process)
        for process in applications:
            process.wait_ready(timeout=60)
        key_set = settings.openai_api_key is not None
        provider = "OpenAI-compatible model" if key_set else "OFFLINE (set WTA_OPENAI_API_KEY)"
        print(describe(catalog, settings, provider), flush=True)
        while not stop.wait(0.5):
            dead = [p.name for p in processes if not p.running()]
            if dead:
                print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
                break
    except (PortTakenError, ProcessStartError) as exc:
        print(f"{exc}\n(logs: {settings.local_data_dir / 'logs'})", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        stop_all(processes)
        pid_file(settings).unlink(missing_ok=True)
        print("stopped", flush=True)


def stop_local_platform(settings: Settings) -> bool:
    """Ask a running `wta run` to stop; returns False when none is running."""
    path = pid_file(settings)
    if not path.exists():
        return False
    try:
        os.kill(int(path.read_text().strip()), signal.SIGTERM)
    except (ProcessLookupError, ValueError):
        path.unlink(missing_ok=True)
        return False
    return True
