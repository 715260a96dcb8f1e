"""The local platform's NATS users: minted at each start, as the operator does in a cluster.

The embedded nats-server gets an `authorization` block: one user per tenant limited to its own
streams, the gateway's user, and an admin that clients without credentials become (loopback
only), so `wta check-env` and `wta dead-letters` need no configuration. The admin makes every
tenant's streams and consumers before the workers start: a tenant's user may only bind to them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.permissions import (
    GATEWAY_USER,
    NatsUser,
    authorization_config,
    gateway_permissions,
    mint_password,
    tenant_nats_user,
    with_credentials,
)
from wta_runtime.stream.setup import ensure_tenant_stream

ADMIN_USER = "wta-admin"


@dataclass(frozen=True)
class LocalNatsUsers:
    """Passwords of this run's users (never written anywhere but the server's config file)."""

    admin: str = field(repr=False)
    gateway: str = field(repr=False)
    tenants: dict[str, str] = field(repr=False)

    def users(self) -> list[NatsUser]:
        return [
            NatsUser(ADMIN_USER, self.admin),
            NatsUser(GATEWAY_USER, self.gateway, gateway_permissions()),
            *(tenant_nats_user(name, password) for name, password in self.tenants.items()),
        ]

    def gateway_url(self, url: str) -> str:
        return with_credentials(url, GATEWAY_USER, self.gateway)

    def tenant_url(self, url: str, tenant: str) -> str:
        return with_credentials(url, tenant_nats_user(tenant, "").name, self.tenants[tenant])

    def admin_url(self, url: str) -> str:
        return with_credentials(url, ADMIN_USER, self.admin)


def mint_local_users(tenants: list[str]) -> LocalNatsUsers:
    """Fresh passwords for the admin, the gateway and each tenant."""
    return LocalNatsUsers(mint_password(), mint_password(), {t: mint_password() for t in tenants})


def write_server_config(path: Path, users: LocalNatsUsers) -> Path:
    """The nats-server config file with these users, readable by this OS user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(authorization_config(users.users(), no_auth_user=ADMIN_USER))
    return path


async def _make_streams(url: str, tenants: list[str], ack_wait: float) -> None:
    connection = await connect(url, name="wta-local-platform")
    try:
        js = connection.jetstream()
        for tenant in tenants:
            await ensure_tenant_stream(js, TenantStream(tenant), ack_wait=ack_wait)
    finally:
        await close_connection(connection)


def make_tenant_streams(url: str, tenants: list[str], *, ack_wait: float) -> None:
    """Create (or bring up to date) every tenant's streams and consumers as the admin."""
    asyncio.run(_make_streams(url, tenants, ack_wait))
