"""In a cluster the gateway reads each tenant's conversations with that tenant's own role.

Two tenants in database mode platform (a role and a schema each, made by the real operator); the
gateway gets only the routes Secret the operator writes, mounted as files, and its own database
URL, which holds neither tenant's data. The handoff API and the console serve each tenant from
its own schema, and neither tenant's key or staff reaches the other's.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.console.conftest import StaffLogin, csrf_of, log_in
from tests.operator.factories import unique_name, unique_number
from tests.operator.harness import RunningOperator
from tests.utils.conversations import conversation_in
from tests.utils.gateways import reloading_gateway_client
from tests.utils.waiting import eventually
from wta_operator.builders.database import database_scope
from wta_runtime.console.passwords import hash_password, new_password
from wta_runtime.db.api_keys import issue_api_key
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.db.staff_accounts import add_staff


@dataclass(frozen=True)
class SeededTenant:
    """A Ready tenant whose schema holds one conversation with a person, a key and a staff."""

    name: str
    role: str
    conversation: uuid.UUID
    contact: str
    api_key: str
    staff: StaffLogin


def _mount_routes(op: RunningOperator, folder: Path) -> None:
    """What the kubelet does with the routes Secret: one file per key, removed keys gone."""
    routes = op.routes()
    for stale in folder.glob("*.yaml"):
        if stale.name not in routes:
            stale.unlink()
    for key, text in routes.items():
        (folder / key).write_text(text)


async def _seed(op: RunningOperator, namespace: str, name: str) -> SeededTenant:
    secret = op.read(namespace, "Secret", f"{name}-database") or {}
    url = base64.b64decode(secret["data"]["url"]).decode()
    # The runtime's migrate init container, with the tenant's own URL.
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url, pool_size=1)
    sessions = session_factory(engine)
    try:
        conversation = await conversation_in(sessions, "human_handoff", tenant=name)
        password = new_password()
        email = f"ana@{name}.example"
        async with sessions.begin() as session:
            key = await issue_api_key(session, tenant=name, name="ops", now=datetime.now(UTC))
            await add_staff(
                session,
                tenant=name,
                email=email,
                role="agent",
                password_hash=hash_password(password),
                now=datetime.now(UTC),
            )
    finally:
        await engine.dispose()
    return SeededTenant(
        name,
        database_scope(namespace, name).role,
        conversation.id,
        conversation.contact_number,
        key,
        StaffLogin(name, email, password),
    )


@pytest.fixture
async def gateway(
    tmp_path: Path, operator_nats_url: str, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway reading the mounted routes folder; its own URL is the shared test database."""
    async with reloading_gateway_client(tmp_path, operator_nats_url, database_url) as client:
        yield client


async def _gateway_connections(admin_database_url: str, role: str) -> int:
    conn = await asyncpg.connect(admin_database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE usename = $1 AND application_name = 'wta-gateway'",
            role,
        )
    finally:
        await conn.close()
    return int(count)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_each_tenant_is_served_from_its_own_schema_with_its_own_role(
    live_operator: RunningOperator,
    kube_namespace: str,
    admin_database_url: str,
    tmp_path: Path,
    gateway: httpx.AsyncClient,
) -> None:
    op, namespace = live_operator, kube_namespace
    names = [unique_name("db-a"), unique_name("db-b")]
    for name in names:
        op.ready_tenant(namespace, name, [unique_number()])
    a, b = [await _seed(op, namespace, name) for name in names]
    _mount_routes(op, tmp_path)

    async def queue_of_a() -> httpx.Response:
        return await gateway.get(f"/api/v1/tenants/{a.name}/handoffs", headers=_bearer(a.api_key))

    queue = await eventually(queue_of_a, until=lambda r: r.status_code == 200, timeout=10)
    own = await gateway.get(
        f"/api/v1/tenants/{a.name}/conversations/{a.conversation}", headers=_bearer(a.api_key)
    )
    others_path = await gateway.get(
        f"/api/v1/tenants/{b.name}/handoffs", headers=_bearer(a.api_key)
    )
    others_conversation = await gateway.get(
        f"/api/v1/tenants/{a.name}/conversations/{b.conversation}", headers=_bearer(a.api_key)
    )
    b_queue = await gateway.get(f"/api/v1/tenants/{b.name}/handoffs", headers=_bearer(b.api_key))

    assert [c["id"] for c in queue.json()] == [str(a.conversation)]
    assert own.json()["contact_number"] == a.contact
    assert others_path.status_code == 401  # A's key is no key in B's database
    assert others_conversation.status_code == 404
    assert [c["id"] for c in b_queue.json()] == [str(b.conversation)]
    assert await _gateway_connections(admin_database_url, a.role) >= 1
    assert await _gateway_connections(admin_database_url, b.role) >= 1

    assert (await log_in(gateway, a.staff)).status_code == 303
    console_queue = await gateway.get("/console")
    own_page = await gateway.get(f"/console/conversations/{a.conversation}")
    others_page = await gateway.get(f"/console/conversations/{b.conversation}")
    await gateway.post("/console/logout", data={"csrf": csrf_of(console_queue.text)})
    assert (await log_in(gateway, b.staff)).status_code == 303
    b_console_queue = await gateway.get("/console")

    assert a.contact in console_queue.text
    assert b.contact not in console_queue.text
    assert own_page.status_code == 200
    assert others_page.status_code == 404
    assert b.contact in b_console_queue.text
    assert a.contact not in b_console_queue.text

    op.delete(namespace, "whatsapptenant", a.name, wait=True)
    _mount_routes(op, tmp_path)

    closed = await eventually(
        lambda: _gateway_connections(admin_database_url, a.role), until=lambda n: n == 0
    )
    gone = await gateway.get(f"/api/v1/tenants/{a.name}/handoffs", headers=_bearer(a.api_key))
    still = await gateway.get(f"/api/v1/tenants/{b.name}/handoffs", headers=_bearer(b.api_key))

    assert closed == 0
    assert gone.status_code == 401
    assert still.status_code == 200
