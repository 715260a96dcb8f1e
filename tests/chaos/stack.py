"""A platform of its own for each chaos test module: NATS, PostgreSQL, Twilio and a model that
the tests kill, fail and bring back, and the gateway, worker and scheduler processes on them.

The session's NATS and PostgreSQL (tests/conftest.py) are never touched: other tests use them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import Tenant, TenantCatalog
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.embedded_postgres import create_database, postgres_process, wait_accepting
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import ManagedProcess, free_port, port_open, stop_together
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app

WEBHOOK = "/api/v1/twilio/webhook"
# Longer than the Twilio client's 10 s timeout: the send is abandoned, never recorded.
HANG_SECONDS = 11.0


@dataclass
class KillableServer:
    """A server process that can be SIGKILLed and started again on the same data and port."""

    build: Callable[[], ManagedProcess]
    ready: Callable[[], None] = lambda: None
    process: ManagedProcess | None = None

    def start(self) -> None:
        self.process = self.build()
        self.process.start(timeout=60)
        self.ready()

    def kill(self) -> None:
        """SIGKILL the whole process group (PostgreSQL's backends too), as an OOM kill would."""
        assert self.process is not None
        assert self.process.process is not None
        os.killpg(self.process.process.pid, signal.SIGKILL)
        self.process.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class RestartableServer:
    """An ASGI app served on one fixed loopback port, which can go down and come back."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = None


@dataclass
class TwilioFaults:
    """While `until` (monotonic) is ahead, sends fail in turn with each of `kinds`."""

    kinds: tuple[int | str, ...] = (500, 429, "timeout")
    until: float = 0.0
    failed: list[tuple[float, int | str]] = field(default_factory=list)

    def fail_for(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def next_fault(self) -> int | str | None:
        if time.monotonic() >= self.until:
            return None
        kind = self.kinds[len(self.failed) % len(self.kinds)]
        self.failed.append((time.monotonic(), kind))
        return kind


def faulty_twilio_app(accounts: dict[str, str], faults: TwilioFaults) -> FastAPI:
    """The local Twilio API, answering sends with 500, 429 or nothing at all while told to."""
    app = create_twilio_app(accounts)

    @app.middleware("http")
    async def fail_sends(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method == "POST" and request.url.path.endswith("/Messages.json"):
            fault = faults.next_fault()
            if fault == "timeout":
                await asyncio.sleep(HANG_SECONDS)
                fault = 503
            if isinstance(fault, int):
                body = {"code": 20000 + fault, "message": "injected fault", "status": fault}
                return JSONResponse(body, status_code=fault)
        return await call_next(request)

    return app


@dataclass
class ChaosPlatform:
    """Everything one chaos module runs on, and the handles to break it."""

    nats: KillableServer
    postgres: KillableServer
    twilio: RestartableServer
    model: RestartableServer
    scripted_model: ScriptedModel
    faults: TwilioFaults
    database_url: str
    nats_url: str
    gateway_url: str
    processes: list[ManagedProcess]
    worker_env: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list[RecordedMessage]:
        recorded: list[RecordedMessage] = self.twilio.app.state.messages
        return recorded

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]


def _wta(*args: str) -> list[str]:
    return [sys.executable, "-m", "wta_runtime", *args]


@contextmanager
def chaos_platform(
    folder: Path,
    manifests_dir: Path,
    catalog: TenantCatalog,
    *,
    tenant: str,
    worker_env: dict[str, str],
    gateway_env: dict[str, str] | None = None,
    start_worker: bool = True,
) -> Iterator[ChaosPlatform]:
    """Start NATS, PostgreSQL, Twilio, a model, the gateway, one worker of `tenant`, a scheduler.

    Without `start_worker` the test starts its workers itself, with `ChaosPlatform.worker_env`.
    """
    nats_port, pg_port = free_port(), free_port()
    nats = KillableServer(
        lambda: nats_process(folder / "nats", port=nats_port, log_path=folder / "nats.log")
    )
    postgres = KillableServer(
        lambda: postgres_process(folder / "pg", port=pg_port, log_path=folder / "postgres.log"),
        ready=lambda: wait_accepting(pg_port),
    )
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    faults = TwilioFaults()
    twilio = RestartableServer(faulty_twilio_app(accounts, faults))
    scripted = ScriptedModel()
    model = RestartableServer(create_openai_app(scripted))
    database_url = f"postgresql+asyncpg://wta@127.0.0.1:{pg_port}/wta"
    processes: list[ManagedProcess] = []
    try:
        nats.start()
        postgres.start()
        create_database(pg_port, "wta", "wta")
        upgrade_database(database_url)
        twilio.start()
        model.start()
        base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
            "WTA_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "WTA_DATABASE_URL": database_url,
            "WTA_TWILIO_API_BASE": twilio.url,
            "WTA_MANIFESTS_DIR": str(manifests_dir),
            "WTA_LOG_LEVEL": "INFO",
        }
        gateway_port, worker_port, scheduler_port = free_port(), free_port(), free_port()
        worker = {
            **base_env,
            "WTA_TENANTS": f'["{tenant}"]',
            "WTA_WORKER_METRICS_PORT": str(worker_port),
            "WTA_OPENAI_BASE_URL": model.url + "/v1",
            **worker_env,
        }
        processes = [
            ManagedProcess(
                "gateway",
                _wta("gateway"),
                port=gateway_port,
                log_path=folder / "gateway.log",
                env={**base_env, "WTA_GATEWAY_PORT": str(gateway_port), **(gateway_env or {})},
            ),
            ManagedProcess(
                "worker",
                _wta("worker"),
                port=worker_port,
                log_path=folder / "worker.log",
                env=worker,
            ),
            ManagedProcess(
                "scheduler",
                _wta("scheduler"),
                port=scheduler_port,
                log_path=folder / "scheduler.log",
                env={
                    **base_env,
                    "WTA_SCHEDULER_METRICS_PORT": str(scheduler_port),
                    "WTA_SCHEDULER_INTERVAL_SECONDS": "1",
                },
            ),
        ]
        if not start_worker:
            processes = [p for p in processes if p.name != "worker"]
        for process in processes:
            process.start(timeout=60)
        yield ChaosPlatform(
            nats,
            postgres,
            twilio,
            model,
            scripted,
            faults,
            database_url,
            base_env["WTA_NATS_URL"],
            f"http://127.0.0.1:{gateway_port}",
            processes,
            worker,
        )
    finally:
        stop_together(processes)
        twilio.stop()
        model.stop()
        nats.stop()
        postgres.stop()


@dataclass
class Post:
    """One webhook as Twilio posted it, and what the gateway answered (0: no answer)."""

    contact: str
    data: dict[str, str]
    headers: dict[str, str]
    sent_at: float
    status: int = 0
    retry_after: str | None = None
    answered_at: float = 0.0


async def post(client: httpx.AsyncClient, sent: Post) -> Post:
    """Post (or, as Twilio does after a 503, post again) and record the answer."""
    sent.sent_at = time.monotonic()
    try:
        response = await client.post(WEBHOOK, data=sent.data, headers=sent.headers)
    except httpx.HTTPError:
        sent.status = 0
    else:
        sent.status, sent.retry_after = response.status_code, response.headers.get("retry-after")
    sent.answered_at = time.monotonic()
    return sent


async def steady_load(
    client: httpx.AsyncClient, tenant: Tenant, *, count: int, per_second: float, body: str
) -> list[Post]:
    """`count` signed webhooks, each from a new contact, posted at a steady rate."""
    url = str(client.base_url).rstrip("/") + WEBHOOK

    async def one(index: int) -> Post:
        await asyncio.sleep(index / per_second)
        contact = new_contact()
        data, headers = webhook_for(tenant, url, contact=contact, body=f"{body} #{index}")
        return await post(client, Post(contact, data, headers, 0.0))

    return list(await asyncio.gather(*(one(i) for i in range(count))))


@dataclass
class Outage:
    """When a server was killed, when its restart began and when it accepted connections again
    (monotonic): until `restarting_at` it was certainly dead."""

    killed_at: float = 0.0
    restarting_at: float = 0.0
    back_at: float = 0.0


async def outage(server: KillableServer, *, after: float, down_for: float) -> Outage:
    """SIGKILL `server` after `after` seconds and start it again `down_for` seconds later."""
    seen = Outage()
    await asyncio.sleep(after)
    server.kill()
    seen.killed_at = time.monotonic()
    await asyncio.sleep(down_for)
    seen.restarting_at = time.monotonic()
    await asyncio.to_thread(server.start)
    seen.back_at = time.monotonic()
    return seen


def gateway_client(platform: ChaosPlatform) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return httpx.AsyncClient(base_url=platform.gateway_url, timeout=30, limits=limits)


async def count_replies(platform: ChaosPlatform, stop: asyncio.Event) -> list[tuple[float, int]]:
    """(monotonic time, replies Twilio has recorded) every 50 ms until `stop` is set."""
    samples: list[tuple[float, int]] = []
    while not stop.is_set():
        samples.append((time.monotonic(), len(platform.messages)))
        await asyncio.sleep(0.05)
    return samples


async def all_answered(platform: ChaosPlatform, contacts: list[str], *, timeout: float) -> None:
    """Wait until every contact has a reply, then past the ack wait, so a resend would show."""
    await eventually(
        lambda: [c for c in contacts if not platform.sent_to(c)],
        until=lambda missing: not missing,
        timeout=timeout,
    )
    await asyncio.sleep(4)


def first_reply_after(samples: list[tuple[float, int]], moment: float) -> float:
    """Seconds from `moment` to the first reply Twilio recorded after it."""
    before = max((count for at, count in samples if at <= moment), default=0)
    return next(at for at, count in samples if at > moment and count > before) - moment
