"""The tenant's own NATS user: minted once, kept in its namespace, listed in NATS's config."""

from __future__ import annotations

import kopf

from wta_operator.adapters.kube import KubeError
from wta_operator.builders.nats_users import (
    URL_KEY,
    build_auth_secret,
    build_nats_secret,
    edit_auth,
    platform_users,
)
from wta_operator.conditions import Condition, false
from wta_operator.plane import ControlPlane
from wta_operator.settings import OperatorConfig
from wta_operator.views import TenantView
from wta_runtime.specs import SecretKeyRef
from wta_runtime.stream.permissions import (
    mint_password,
    tenant_user,
    url_password,
    with_credentials,
)

STREAM = "Stream"


def nats_url_ref(tenant: TenantView, config: OperatorConfig) -> SecretKeyRef | None:
    """Where the runtime's WTA_NATS_URL comes from when tenants have their own NATS users."""
    if config.nats_auth_secret is None:
        return None
    return SecretKeyRef(name=tenant.names.nats_secret, key=URL_KEY)


async def write_auth(
    plane: ControlPlane, tenant: str, namespace: str, password: str | None
) -> bool:
    """Set (or with None remove) the tenant's user in the authorization Secret NATS includes."""
    config = plane.config
    assert config.nats_auth_secret is not None
    secret_namespace, _, name = config.nats_auth_secret.partition("/")
    gateway = config.gateway_nats_url.get_secret_value() if config.gateway_nats_url else None
    platform = platform_users(config.nats_url, gateway)
    return await plane.kube.edit_secret(
        build_auth_secret(secret_namespace, name),
        lambda data: edit_auth(data, tenant, namespace, password, platform),
    )


async def apply_nats_user(
    plane: ControlPlane, owner: kopf.Body, tenant: TenantView, *, name_taken: str
) -> Condition | None:
    """Mint (once) the runtime's user and list it for NATS; a Stream condition if that failed.

    Nothing while tenant users are off, or while another tenant owns the name (and its user).
    """
    if plane.config.nats_auth_secret is None or name_taken:
        return None
    try:
        existing = await plane.kube.read_secret(tenant.namespace, tenant.names.nats_secret)
        kept = existing.data.get(URL_KEY) if existing is not None else None
        password = (url_password(kept.get_secret_value()) if kept else None) or mint_password()
        url = with_credentials(
            plane.config.nats_url_for_runtime, tenant_user(tenant.name), password
        )
        secret = build_nats_secret(tenant, url)
        kopf.adopt(secret, owner=owner)
        # The runtime's Secret first: a password NATS accepts is never lost.
        await plane.kube.apply(secret)
        await write_auth(plane, tenant.name, tenant.namespace, password)
    except KubeError as exc:
        return false(STREAM, "NatsUserFailed", f"NATS user: {exc}", retry=True)
    return None
