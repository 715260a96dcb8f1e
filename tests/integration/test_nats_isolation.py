"""A tenant's NATS user reads and acks its own stream only; the gateway publishes to every tenant.

A real nats-server with the users the operator and the local platform mint
(`wta_runtime.stream.permissions`); the platform's admin makes the streams and consumers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, StreamConfig, StreamSource

from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.nats_users import (
    LocalNatsUsers,
    make_tenant_streams,
    mint_local_users,
    write_server_config,
)
from wta_runtime.local.processes import free_port
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream

A, B = "iso-a", "iso-b"
A_NAMES, B_NAMES = TenantStream(A), TenantStream(B)
# A refused request is never answered: keep the wait for that silence short.
REFUSED_WITHIN = 0.5


@dataclass
class AuthServer:
    url: str
    users: LocalNatsUsers


@dataclass
class Violations:
    """The permission violations the server reported on one connection."""

    messages: list[str] = field(default_factory=list)

    async def record(self, exc: Exception) -> None:
        self.messages.append(str(exc))

    async def about(self, subject: str) -> bool:
        wanted = subject.lower()  # nats-py lowercases the server's error
        for _ in range(50):
            if any(
                "permissions violation" in m.lower() and wanted in m.lower() for m in self.messages
            ):
                return True
            await asyncio.sleep(0.02)
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    folder = tmp_path_factory.mktemp("nats-auth")
    users = mint_local_users([A, B])
    config = write_server_config(folder / "nats.conf", users)
    port = free_port()
    process = nats_process(folder / "data", port=port, log_path=folder / "nats.log", config=config)
    process.start()
    url = f"nats://127.0.0.1:{port}"
    make_tenant_streams(users.admin_url(url), [A, B], ack_wait=30.0)
    yield AuthServer(url, users)
    process.stop()


@pytest.fixture
async def tenant_a(server: AuthServer) -> AsyncIterator[tuple[Client, Violations]]:
    violations = Violations()
    client = await nats.connect(
        server.users.tenant_url(server.url, A),
        inbox_prefix=f"_INBOX.wta-tenant-{A}",
        error_cb=violations.record,
        max_reconnect_attempts=0,
    )
    yield client, violations
    await client.close()


@pytest.fixture
async def gateway(server: AuthServer) -> AsyncIterator[Client]:
    client = await connect(server.users.gateway_url(server.url), name="test-gateway")
    yield client
    await close_connection(client)


async def test_a_tenant_consumes_and_acks_its_own_stream(
    server: AuthServer, gateway: Client
) -> None:
    await gateway.jetstream().publish(A_NAMES.thread_subject("+1", "+2"), b"for a")

    client = await connect(server.users.tenant_url(server.url, A), name="worker-a")
    try:
        js = client.jetstream()
        await ensure_tenant_stream(js, A_NAMES)  # binds: everything is already as desired
        pull = await js.pull_subscribe_bind(A_NAMES.worker_durable, stream=A_NAMES.stream)
        [message] = await pull.fetch(1, timeout=5)
        await message.ack_sync()
        info = await js.consumer_info(A_NAMES.stream, A_NAMES.worker_durable)
    finally:
        await close_connection(client)

    assert message.data == b"for a"
    assert info.num_ack_pending == 0


async def test_a_tenant_cannot_read_another_tenants_stream(
    tenant_a: tuple[Client, Violations], gateway: Client
) -> None:
    client, violations = tenant_a
    await gateway.jetstream().publish(B_NAMES.thread_subject("+1", "+2"), b"secret of b")
    js = client.jetstream(timeout=REFUSED_WITHIN)

    with pytest.raises(NatsError):
        await js.stream_info(B_NAMES.stream)
    with pytest.raises(NatsError):
        await js.get_msg(B_NAMES.stream, seq=1)
    pull = await js.pull_subscribe_bind(B_NAMES.worker_durable, stream=B_NAMES.stream)
    with pytest.raises(NatsError):
        await pull.fetch(1, timeout=REFUSED_WITHIN)
    with pytest.raises(NatsError):
        await js.add_consumer(B_NAMES.stream, ConsumerConfig(durable_name="spy"))

    assert await violations.about(f"$JS.API.STREAM.INFO.{B_NAMES.stream}")
    assert await violations.about(f"$JS.API.CONSUMER.MSG.NEXT.{B_NAMES.stream}")
    assert await violations.about(f"CREATE.{B_NAMES.stream}.spy")


async def test_a_tenant_cannot_listen_to_another_tenants_subjects_or_replies(
    tenant_a: tuple[Client, Violations],
) -> None:
    client, violations = tenant_a

    await client.subscribe(f"wta.inbound.{B}.>")
    await client.subscribe("_INBOX.>")  # where JetStream hands B's worker its messages

    assert await violations.about(f"wta.inbound.{B}.>")
    assert await violations.about('Subscription to "_INBOX.>"')


async def test_a_tenant_cannot_publish_on_another_tenants_subjects(
    server: AuthServer, tenant_a: tuple[Client, Violations]
) -> None:
    client, violations = tenant_a
    subject = B_NAMES.thread_subject("+1", "+2")
    before = await _messages(server, B_NAMES.stream)

    with pytest.raises(NatsError):
        await client.jetstream(timeout=REFUSED_WITHIN).publish(subject, b"forged")
    await client.publish(B_NAMES.status_subject, b"forged")
    await client.publish(B_NAMES.dead_letter_subject, b"forged")
    await client.flush()

    assert await violations.about(subject)
    assert await violations.about(B_NAMES.dead_letter_subject)
    assert await _messages(server, B_NAMES.stream) == before


async def test_a_tenant_cannot_reconfigure_streams(tenant_a: tuple[Client, Violations]) -> None:
    """A stream it could configure could source another tenant's stream into its own."""
    client, violations = tenant_a
    js = client.jetstream(timeout=REFUSED_WITHIN)

    with pytest.raises(NatsError):
        await js.update_stream(
            StreamConfig(
                name=A_NAMES.stream,
                subjects=[A_NAMES.inbound_wildcard],
                sources=[StreamSource(name=B_NAMES.stream)],
            )
        )
    with pytest.raises(NatsError):
        await js.delete_stream(B_NAMES.stream)

    assert await violations.about(f"$JS.API.STREAM.UPDATE.{A_NAMES.stream}")


async def test_the_gateway_publishes_to_every_tenant(server: AuthServer, gateway: Client) -> None:
    js = gateway.jetstream()

    acks = [
        await js.publish(names.thread_subject("+3", "+4"), b"hello", stream=names.stream)
        for names in (A_NAMES, B_NAMES)
    ]
    await ensure_tenant_stream(js, TenantStream("iso-new"), consumers=False)

    assert [ack.stream for ack in acks] == [A_NAMES.stream, B_NAMES.stream]
    assert await _messages(server, "WTA_INBOUND_ISO_NEW") == 0


async def _messages(server: AuthServer, stream: str) -> int:
    admin = await connect(server.users.admin_url(server.url), name="test-admin")
    try:
        return (await admin.jetstream().stream_info(stream)).state.messages
    finally:
        await close_connection(admin)


def test_the_server_config_holds_no_password_twice(tmp_path: Path) -> None:
    users = mint_local_users([A])
    text = write_server_config(tmp_path / "nats.conf", users).read_text()

    assert text.count(users.tenants[A]) == 1
    assert (tmp_path / "nats.conf").stat().st_mode & 0o077 == 0
