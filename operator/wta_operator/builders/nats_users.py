"""A tenant's own NATS user: its runtime's Secret, and NATS's `authorization` block listing it.

The block lives in one Secret (`WTA_NATS_AUTH_SECRET`) that the NATS servers include: a key per
tenant holds its user's namespace and password, `auth.conf` is rendered from all of them plus the
platform's users (the operator's own, with every right, and the gateway's) at each change.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from wta_operator.builders.routing import build_routes_secret
from wta_operator.naming import child_labels
from wta_operator.views import TenantView
from wta_runtime.catalog import NATS_URL_KEY
from wta_runtime.stream.permissions import (
    GATEWAY_USER,
    NatsUser,
    authorization_config,
    gateway_permissions,
    tenant_nats_user,
    url_password,
    url_user,
)

URL_KEY = NATS_URL_KEY
AUTH_KEY = "auth.conf"
TENANT_KEY_PREFIX = "tenant."


def build_nats_secret(tenant: TenantView, url: str) -> dict[str, Any]:
    """The runtime's WTA_NATS_URL with credentials: its tenant's own user, or the shared one."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": tenant.names.nats_secret,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name, component="nats-user"),
        },
        "type": "Opaque",
        "data": {URL_KEY: base64.b64encode(url.encode()).decode()},
    }


def build_auth_secret(namespace: str, name: str) -> dict[str, Any]:
    """The authorization Secret before any tenant has a user (labelled like the routes one)."""
    secret = build_routes_secret(namespace, name)
    secret["metadata"]["labels"] |= {
        "app.kubernetes.io/name": "wta-nats-auth",
        "app.kubernetes.io/component": "authorization",
    }
    return secret


def platform_users(operator_url: str, gateway_url: str | None) -> list[NatsUser]:
    """The operator's user (every right) and the gateway's, from the URLs they connect with."""
    users: list[NatsUser] = []
    name, password = url_user(operator_url), url_password(operator_url)
    if name and password is not None:
        users.append(NatsUser(name, password))
    if gateway_url is not None:
        gateway, secret = url_user(gateway_url) or GATEWAY_USER, url_password(gateway_url)
        if secret is not None and gateway != name:
            users.append(NatsUser(gateway, secret, gateway_permissions(gateway)))
    return users


def tenant_entry(namespace: str, password: str) -> str:
    return json.dumps({"namespace": namespace, "password": password})


def edit_auth(
    data: Mapping[str, str],
    tenant: str,
    namespace: str,
    password: str | None,
    platform: list[NatsUser],
) -> dict[str, str | None]:
    """The keys to change: the tenant's entry (None removes it) and auth.conf re-rendered.

    An entry of the same tenant name from another namespace (which then lost the name) is never
    replaced nor removed by this one.
    """
    key = TENANT_KEY_PREFIX + tenant
    entries = dict(data)
    owner = json.loads(entries[key])["namespace"] if key in entries else None
    changes: dict[str, str | None] = {}
    if owner in (None, namespace):
        wanted = tenant_entry(namespace, password) if password is not None else None
        if entries.get(key) != wanted:
            changes[key] = wanted
        if wanted is None:
            entries.pop(key, None)
        else:
            entries[key] = wanted
    users = list(platform)
    for entry_key, value in sorted(entries.items()):
        if entry_key.startswith(TENANT_KEY_PREFIX):
            name = entry_key.removeprefix(TENANT_KEY_PREFIX)
            users.append(tenant_nats_user(name, json.loads(value)["password"]))
    rendered = authorization_config(users)
    if data.get(AUTH_KEY) != rendered:
        changes[AUTH_KEY] = rendered
    return changes
