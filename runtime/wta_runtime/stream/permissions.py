"""Who may do what on NATS: a tenant's runtime only on its own streams, the gateway on every
tenant's inbound subjects, and the nats-server `authorization` block that says so.

The operator (in Kubernetes) and the local platform mint one user per tenant with these
permissions and render them with `authorization_config`; the streams and consumers are made by
the platform's own user, so a tenant's user never needs to create or change a stream (a stream
it could configure could source another tenant's stream, or a push consumer deliver into
another tenant's subjects).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from wta_runtime.stream.names import TenantStream

GATEWAY_USER = "wta-gateway"
# Clients whose URL names a user take replies under `_INBOX.<user>.`: a user may subscribe only
# there, so no one reads another client's replies (JetStream hands out messages as replies).
INBOX = "_INBOX"


def tenant_user(tenant: str) -> str:
    """The NATS user name of a tenant's runtime."""
    return f"wta-tenant-{tenant}"


def inbox_prefix(user: str | None) -> str:
    """Where a client replies come in: `_INBOX.<user>` for a named user, else `_INBOX`."""
    return f"{INBOX}.{user}" if user else INBOX


def mint_password() -> str:
    """A random password: URL-safe, so it can sit in a `nats://user:password@host` URL as is."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish on and subscribe to; everything else is refused."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


@dataclass(frozen=True)
class NatsUser:
    """One entry of the server's user list; `permissions` None means everything (the admin)."""

    name: str
    password: str = field(repr=False)
    permissions: Permissions | None = None


def tenant_permissions(tenant: str) -> Permissions:
    """A runtime's rights: pull, ack and inspect its own streams, publish its own dead letters.

    It may also publish on its own inbound subjects (`wta dead-letters replay` puts a message
    back as the gateway did), never on another tenant's.
    """
    names = TenantStream(tenant)
    stream, dead = names.stream, names.dead_letter_stream
    durables = (names.worker_durable, names.status_durable)
    publish = [
        "$JS.API.INFO",
        *(f"$JS.API.STREAM.INFO.{s}" for s in (stream, dead)),
        *(f"$JS.API.STREAM.MSG.GET.{s}" for s in (stream, dead)),
        *(f"$JS.API.DIRECT.GET.{s}" for s in (stream, dead)),
        *(f"$JS.API.DIRECT.GET.{s}.>" for s in (stream, dead)),
        *(f"$JS.API.CONSUMER.INFO.{stream}.{d}" for d in durables),
        *(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{d}" for d in durables),
        f"$JS.ACK.{stream}.>",
        names.inbound_subject,
        names.inbound_wildcard,
        names.dead_letter_subject,
    ]
    return Permissions(tuple(publish), (f"{inbox_prefix(tenant_user(tenant))}.>",))


def gateway_permissions(user: str = GATEWAY_USER) -> Permissions:
    """The gateway's rights: publish every tenant's messages, create a new tenant's streams."""
    publish = (
        "wta.inbound.>",
        "wta.status.>",
        "$JS.API.INFO",
        "$JS.API.STREAM.INFO.*",
        "$JS.API.STREAM.CREATE.*",
        "$JS.API.STREAM.UPDATE.*",
    )
    return Permissions(publish, (f"{inbox_prefix(user)}.>",))


def tenant_nats_user(tenant: str, password: str) -> NatsUser:
    return NatsUser(tenant_user(tenant), password, tenant_permissions(tenant))


def _entry(user: NatsUser) -> dict[str, object]:
    entry: dict[str, object] = {"user": user.name, "password": user.password}
    if user.permissions is not None:
        entry["permissions"] = {
            "publish": {"allow": list(user.permissions.publish)},
            "subscribe": {"allow": list(user.permissions.subscribe)},
        }
    return entry


def authorization_config(users: list[NatsUser], *, no_auth_user: str | None = None) -> str:
    """The nats-server `authorization` block (its config syntax accepts JSON values).

    `no_auth_user` is who a client without credentials becomes (the local platform's admin, so
    `wta check-env` and `wta dead-letters` keep working on loopback without configuration).
    """
    body = json.dumps({"users": [_entry(u) for u in sorted(users, key=lambda u: u.name)]}, indent=2)
    text = f"authorization {body}\n"
    if no_auth_user is not None:
        text += f"no_auth_user: {json.dumps(no_auth_user)}\n"
    return text


def url_user(url: str) -> str | None:
    """The user a `nats://user:password@host` URL names, if any."""
    user = urlsplit(url).username
    return unquote(user) if user else None


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server's URL with these credentials (any previous ones replaced)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def url_password(url: str) -> str | None:
    password = urlsplit(url).password
    return unquote(password) if password is not None else None
