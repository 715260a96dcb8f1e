"""A shared runtime serves two tenants in one process, each with its own database role and NATS
user, never mixing them; a tenant moves between a dedicated and a shared runtime under traffic
without losing a message or answering one twice.

Real processes: a gateway with the gateway's NATS user, workers in dedicated and shared mode,
NATS with per-tenant users and permissions, one PostgreSQL database and role per tenant.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.utils.manifests import tenant_documents
from tests.utils.probes import probe
from tests.utils.servers import serve_in_thread
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.db.engine import create_engine
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.local.embedded_postgres import create_database
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.nats_users import (
    LocalNatsUsers,
    make_tenant_streams,
    mint_local_users,
    write_server_config,
)
from wta_runtime.local.processes import ManagedProcess, free_port, stop_together
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app
from wta_runtime.stream.permissions import with_credentials

A, B = "shared-a", "shared-b"
ACCOUNTS = {A: "AC" + "a1" * 16, B: "AC" + "b2" * 16}
NUMBERS = {A: "+14155550171", B: "+14155550172"}
ANSWERS = {A: "Tenant A opens at nine.", B: "Tenant B opens at noon."}
ACK_WAIT = 30.0


@dataclass
class SharedPlatform:
    """Everything the tests start, and how to start more workers."""

    catalog: TenantCatalog
    gateway_url: str
    nats_url: str
    users: LocalNatsUsers
    database_urls: dict[str, str]
    engines: dict[str, AsyncEngine]
    messages: list[RecordedMessage]
    manifests: Path
    secrets: Path
    logs: Path
    processes: list[ManagedProcess]

    def worker(
        self,
        name: str,
        *,
        shared: list[str] | None = None,
        dedicated: str = "",
        command: str = "worker",
        secrets: Path | None = None,
    ) -> ManagedProcess:
        """A worker (or `command`) process: shared over `shared`, or dedicated to `dedicated`."""
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
            "WTA_MANIFESTS_DIR": str(self.manifests),
            "WTA_TWILIO_API_BASE": self.twilio_url,
            "WTA_WORKER_METRICS_PORT": str(port),
            "WTA_SCHEDULER_METRICS_PORT": str(port),
            "WTA_SCHEDULER_INTERVAL_SECONDS": "1",
            "WTA_THREAD_LEASE_SECONDS": "4",
            "WTA_STREAM_ACK_WAIT_SECONDS": str(ACK_WAIT),
            "WTA_MEDIA_DIR": str(self.logs / "media"),
            "WTA_LOG_LEVEL": "INFO",
        }
        if shared is not None:
            env |= _shared_env(secrets or self.secrets, self.nats_url, shared)
        else:
            env |= {
                "WTA_TENANTS": f'["{dedicated}"]',
                "WTA_NATS_URL": self.users.tenant_url(self.nats_url, dedicated),
                "WTA_DATABASE_URL": self.database_urls[dedicated],
            }
        process = ManagedProcess(
            name,
            [sys.executable, "-m", "wta_runtime", command],
            port=port,
            log_path=self.logs / f"{name}.log",
            env=env,
        )
        process.start(timeout=60)
        self.processes.append(process)
        return process

    twilio_url: str = ""


def _shared_env(secrets: Path, nats_url: str, tenants: list[str]) -> dict[str, str]:
    """A shared runtime's settings: its tenants' URLs come from their mounted Secrets only."""
    return {
        "WTA_RUNTIME_MODE": "shared",
        "WTA_TENANTS": json.dumps(tenants),
        "WTA_SECRETS_DIR": str(secrets),
        # Neither is any tenant's: a lane that fell back on them would fail the tests.
        "WTA_NATS_URL": nats_url,
        "WTA_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
    }


def _write_tenant_secrets(folder: Path, tenant: str, database_url: str, nats_url: str) -> None:
    """The `<tenant>-database` and `<tenant>-nats` Secrets as the operator mounts them."""
    for secret, value in ((f"{tenant}-database", database_url), (f"{tenant}-nats", nats_url)):
        (folder / secret).mkdir(parents=True, exist_ok=True)
        (folder / secret / "url").write_text(value)


@pytest.fixture(scope="module")
def shared_platform(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[SharedPlatform]:
    folder = tmp_path_factory.mktemp("shared-runtime")
    manifests, secrets, logs = folder / "manifests", folder / "secrets", folder / "logs"
    manifests.mkdir()
    for name in (A, B):
        docs = tenant_documents(
            name,
            account=ACCOUNTS[name],
            number=NUMBERS[name],
            answer=ANSWERS[name],
            conversation={"burstWindow": "1s"},
            rateLimit={"messagesPerSecond": 400},
        )
        (manifests / f"{name}.yaml").write_text(yaml.safe_dump_all(docs))
    catalog = load_catalog(manifests)
    users = mint_local_users([A, B])
    config = write_server_config(folder / "nats.conf", users)
    nats_port = free_port()
    nats = nats_process(folder / "nats", port=nats_port, log_path=logs / "nats.log", config=config)
    nats.start()
    nats_url = f"nats://127.0.0.1:{nats_port}"
    make_tenant_streams(users.admin_url(nats_url), [A, B], ack_wait=ACK_WAIT)
    pg_port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    database_urls = {}
    for name in (A, B):
        role = name.replace("-", "_")
        create_database(pg_port, role, role)
        database_urls[name] = f"postgresql+asyncpg://{role}@127.0.0.1:{pg_port}/{role}"
        _write_tenant_secrets(secrets, name, database_urls[name], users.tenant_url(nats_url, name))
    # `wta migrate` of a shared runtime migrates each tenant's own database.
    subprocess.run(
        [sys.executable, "-m", "wta_runtime", "migrate"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
            "WTA_MANIFESTS_DIR": str(manifests),
            **_shared_env(secrets, nats_url, [A, B]),
        },
        check=True,
        capture_output=True,
        timeout=180,
    )
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    twilio_app = create_twilio_app(accounts)
    processes: list[ManagedProcess] = []
    with serve_in_thread(twilio_app) as twilio_url:
        gateway_port = free_port()
        gateway = ManagedProcess(
            "gateway",
            [sys.executable, "-m", "wta_runtime", "gateway"],
            port=gateway_port,
            log_path=logs / "gateway.log",
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
                "WTA_NATS_URL": users.gateway_url(nats_url),
                "WTA_DATABASE_URL": database_url,
                "WTA_MANIFESTS_DIR": str(manifests),
                "WTA_GATEWAY_PORT": str(gateway_port),
                "WTA_TWILIO_API_BASE": twilio_url,
            },
        )
        gateway.start(timeout=60)
        processes.append(gateway)
        platform = SharedPlatform(
            catalog=catalog,
            gateway_url=f"http://127.0.0.1:{gateway_port}",
            nats_url=nats_url,
            users=users,
            database_urls=database_urls,
            engines={},
            messages=twilio_app.state.messages,
            manifests=manifests,
            secrets=secrets,
            logs=logs,
            processes=processes,
            twilio_url=twilio_url,
        )
        try:
            yield platform
        finally:
            stop_together(processes)
            nats.stop()


@pytest.fixture
async def engines(shared_platform: SharedPlatform) -> AsyncIterator[dict[str, AsyncEngine]]:
    made = {name: create_engine(url) for name, url in shared_platform.database_urls.items()}
    yield made
    for engine in made.values():
        await engine.dispose()


async def _post(
    platform: SharedPlatform, client: httpx.AsyncClient, tenant: str, contact: str, body: str
) -> None:
    url = f"{platform.gateway_url}/api/v1/twilio/webhook"
    params, headers = webhook_for(platform.catalog.by_name(tenant), url, contact=contact, body=body)
    response = await client.post(url, data=params, headers=headers)
    assert response.status_code == 200, response.text


def _replies(platform: SharedPlatform, contact: str) -> list[RecordedMessage]:
    return [m for m in platform.messages if m.to == f"whatsapp:{contact}"]


async def _rows(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """(tenant, contact, direction) of every message a tenant's database holds."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Message.tenant, Conversation.contact_number, Message.direction).join(
                Conversation, Conversation.id == Message.conversation_id
            )
        )
        return [(r[0], r[1], str(r[2])) for r in rows]


async def test_two_tenants_in_one_shared_runtime_never_see_each_others_data(
    shared_platform: SharedPlatform, engines: dict[str, AsyncEngine]
) -> None:
    shared = shared_platform.worker("shared-both", shared=[A, B])
    same_contact = new_contact()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(
                _post(shared_platform, client, A, same_contact, "when do you open?"),
                _post(shared_platform, client, B, same_contact, "when do you open?"),
            )
        replies = await eventually(
            lambda: _replies(shared_platform, same_contact), until=lambda r: len(r) >= 2
        )
        await asyncio.sleep(1.5)  # a third reply (one tenant answering twice) would come now
        replies = _replies(shared_platform, same_contact)
        by_sender = {(m.account_sid, m.from_): m.body for m in replies}
        assert len(replies) == 2
        for tenant in (A, B):
            body = by_sender[(ACCOUNTS[tenant], f"whatsapp:{NUMBERS[tenant]}")]
            assert ANSWERS[tenant] in body
            other = B if tenant == A else A
            assert ANSWERS[other] not in body
        for tenant, engine in engines.items():
            rows = [row for row in await _rows(engine) if row[1] == same_contact]
            assert {row[0] for row in rows} == {tenant}
            assert len(rows) == 2  # the contact's message and the tenant's own reply
        # Each tenant's turns reached PostgreSQL as its own role only.
        async with engines[A].connect() as connection:
            assert shared.process is not None
            roles = await connection.execute(
                text(
                    "SELECT DISTINCT usename, datname FROM pg_stat_activity "
                    "WHERE application_name LIKE 'wta-worker %:' || :pid"
                ),
                {"pid": str(shared.process.pid)},
            )
            seen = {(r[0], r[1]) for r in roles}
        assert seen == {("shared_a", "shared_a"), ("shared_b", "shared_b")}
        log = (shared_platform.logs / "shared-both.log").read_text()
        assert f"tenant={A} " in log
        assert f"tenant={B} " in log
    finally:
        shared.stop()
        shared_platform.processes.remove(shared)


async def test_a_shared_tenant_that_cannot_connect_fails_alone_until_its_secret_is_fixed(
    shared_platform: SharedPlatform, tmp_path: Path
) -> None:
    platform = shared_platform
    secrets = tmp_path / "secrets"
    good_b = platform.users.tenant_url(platform.nats_url, B)
    for tenant in (A, B):
        _write_tenant_secrets(
            secrets,
            tenant,
            platform.database_urls[tenant],
            platform.users.tenant_url(platform.nats_url, tenant),
        )
    user_b = urlsplit(good_b).username or ""
    wrong_b = with_credentials(platform.nats_url, user_b, "not-the-password")
    (secrets / f"{B}-nats" / "url").write_text(wrong_b)
    shared = platform.worker("shared-one-broken", shared=[A, B], secrets=secrets)
    contact_a, contact_b = new_contact(), new_contact()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await _post(platform, client, A, contact_a, "when do you open?")
            await _post(platform, client, B, contact_b, "when do you open?")
        replies_a = await eventually(lambda: _replies(platform, contact_a), until=bool)
        assert ANSWERS[A] in replies_a[0].body
        log = platform.logs / "shared-one-broken.log"
        await eventually(log.read_text, until=lambda text: f"lane of {B} stopped" in text)
        assert shared.process is not None
        assert shared.process.poll() is None  # the process, and tenant A with it, goes on
        assert not _replies(platform, contact_b)
        assert "not-the-password" not in log.read_text()
        # Still ready (A runs; B's Secret must not hold back A's rollouts), naming B and no
        # password.
        status, reason = probe(shared.port, "/ready")
        assert status == 200
        assert reason.startswith(f"1 of 2 lane(s) running; lanes not running: {B}: ")
        assert "not-the-password" not in reason
        assert probe(shared.port, "/live")[0] == 200
        # The operator fixes the Secret; the lane's next try reads it and B's message is answered.
        (secrets / f"{B}-nats" / "url").write_text(good_b)
        replies_b = await eventually(lambda: _replies(platform, contact_b), until=bool, timeout=90)
        assert ANSWERS[B] in replies_b[0].body
        assert _counted(shared, "wta_worker_lane_restarts", B) >= 1
        ready = await eventually(lambda: probe(shared.port, "/ready"), until=lambda p: p[0] == 200)
        assert ready == (200, "2 lane(s) running")
    finally:
        shared.stop()
        platform.processes.remove(shared)


def _counted(process: ManagedProcess, counter: str, tenant: str) -> float:
    """`counter` (a counter's name without `_total`) for `tenant`, from the process's metrics."""
    metrics = httpx.get(f"http://127.0.0.1:{process.port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == counter
        for sample in family.samples
        if sample.name == f"{counter}_total" and sample.labels.get("tenant") == tenant
    )


def _turns_of(process: ManagedProcess, tenant: str) -> float:
    """Messages of `tenant` this worker process answered, from its own metrics."""
    return _counted(process, "wta_turns", tenant)


async def test_a_tenant_moves_dedicated_shared_dedicated_under_traffic_losing_nothing(
    shared_platform: SharedPlatform, engines: dict[str, AsyncEngine]
) -> None:
    contacts: list[str] = []
    answered_by: dict[str, float] = {}
    first = await asyncio.to_thread(shared_platform.worker, "dedicated-a-1", dedicated=A)
    running = [first]
    moved = asyncio.Event()

    async def traffic() -> None:
        """A new contact every 0.3 s until the moves are over, and a few more after them."""
        after = 10
        async with httpx.AsyncClient(timeout=10) as client:
            while after:
                contact = new_contact()
                contacts.append(contact)
                await _post(shared_platform, client, A, contact, "what are your hours?")
                await asyncio.sleep(0.3)
                if moved.is_set():
                    after -= 1

    async def hand_over(old: ManagedProcess, new: ManagedProcess) -> None:
        await asyncio.sleep(1.0)  # the new one shares the stream with the old one for a while
        answered_by[old.name] = await asyncio.to_thread(
            _turns_of, old, A
        )  # turns it drains uncounted
        await asyncio.to_thread(old.stop)

    async def moves() -> None:
        await asyncio.sleep(1.0)
        shared = await asyncio.to_thread(shared_platform.worker, "shared-a", shared=[A, B])
        running.append(shared)
        await hand_over(first, shared)  # dedicated -> shared
        await asyncio.sleep(1.0)
        second = await asyncio.to_thread(shared_platform.worker, "dedicated-a-2", dedicated=A)
        running.append(second)
        await hand_over(shared, second)  # shared -> dedicated
        moved.set()

    try:
        await asyncio.gather(traffic(), moves())
        await eventually(
            lambda: [c for c in contacts if not _replies(shared_platform, c)],
            until=lambda missing: not missing,
            timeout=60,
        )
        await asyncio.sleep(1.5)  # a second answer to anyone would come now
        for contact in contacts:
            replies = _replies(shared_platform, contact)
            assert len(replies) == 1, (contact, [r.body for r in replies])
            assert ANSWERS[A] in replies[0].body
        rows = await _rows(engines[A])
        inbound = [row for row in rows if row[1] in contacts and row[2] == "inbound"]
        assert len(inbound) == len(contacts)
        assert not [row for row in await _rows(engines[B]) if row[1] in contacts]
        answered_by[running[-1].name] = await asyncio.to_thread(_turns_of, running[-1], A)
        # Each runtime, dedicated, shared and dedicated again, answered some of them.
        assert all(answered_by[p.name] > 0 for p in running), answered_by
    finally:
        for process in running:
            process.stop()
            if process in shared_platform.processes:
                shared_platform.processes.remove(process)


def _both_idle(found: dict[str, set[str]]) -> bool:
    return found == {A: {"idle_timeout"}, B: {"idle_timeout"}}


@pytest.mark.parametrize("command", ["worker", "scheduler"])
async def test_the_shared_timers_are_swept_in_each_tenants_own_database(
    shared_platform: SharedPlatform, engines: dict[str, AsyncEngine], command: str
) -> None:
    """By the shared worker's lanes (as in its pod), or by `wta scheduler` run apart."""
    contact = new_contact()
    shared = shared_platform.worker("shared-for-timers", shared=[A, B])
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for tenant in (A, B):
                await _post(shared_platform, client, tenant, contact, "when do you open?")
        await eventually(lambda: _replies(shared_platform, contact), until=lambda r: len(r) == 2)
    finally:
        shared.stop()
        shared_platform.processes.remove(shared)
    for engine in engines.values():  # both conversations went quiet past the 15 min idle timer
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE conversations SET updated_at = now() - interval '1 hour' "
                    "WHERE contact_number = :contact AND status = 'progress'"
                ),
                {"contact": contact},
            )
    sweeper = shared_platform.worker(f"shared-{command}", shared=[A, B], command=command)

    async def states() -> dict[str, set[str]]:
        found = {}
        for tenant, engine in engines.items():
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(Conversation.status).where(Conversation.contact_number == contact)
                )
                found[tenant] = {row[0] for row in rows}
        return found

    try:
        await eventually(states, until=_both_idle, timeout=30)
    finally:
        sweeper.stop()
        shared_platform.processes.remove(sweeper)
