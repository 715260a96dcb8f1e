"""The runtime's NATS credentials, always in a Secret of the tenant's namespace.

With tenant users (`WTA_NATS_AUTH_SECRET`) each tenant's own user is minted once, kept there and
listed in NATS's config; without them, a runtime URL that carries credentials is copied there,
so no password is ever a literal value of a Deployment.
"""

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
    url_user,
    with_credentials,
)

STREAM = "Stream"


def shared_url_has_credentials(config: OperatorConfig) -> bool:
    url = config.nats_url_for_runtime
    return url_user(url) is not None or url_password(url) is not None


def nats_url_ref(tenant: TenantView, config: OperatorConfig) -> SecretKeyRef | None:
    """Where the runtime's WTA_NATS_URL comes from: its tenant's Secret, unless it has no secret."""
    if config.nats_auth_secret is None and not shared_url_has_credentials(config):
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

    Without tenant users, only the copy of a credentialed shared URL. Nothing while another
    tenant owns the name (and its user), nor when the runtime's URL holds no credentials.
    """
    config = plane.config
    if name_taken or nats_url_ref(tenant, config) is None:
        return None
    try:
        if config.nats_auth_secret is None:
            await _apply_nats_secret(plane, owner, tenant, config.nats_url_for_runtime)
            return None
        existing = await plane.kube.read_secret(tenant.namespace, tenant.names.nats_secret)
        kept = existing.data.get(URL_KEY) if existing is not None else None
        password = (url_password(kept.get_secret_value()) if kept else None) or mint_password()
        url = with_credentials(config.nats_url_for_runtime, tenant_user(tenant.name), password)
        # The runtime's Secret first: a password NATS accepts is never lost.
        await _apply_nats_secret(plane, owner, tenant, url)
        await write_auth(plane, tenant.name, tenant.namespace, password)
    except KubeError as exc:
        return false(STREAM, "NatsUserFailed", f"NATS credentials: {exc}", retry=True)
    return None


async def _apply_nats_secret(
    plane: ControlPlane, owner: kopf.Body, tenant: TenantView, url: str
) -> None:
    secret = build_nats_secret(tenant, url)
    kopf.adopt(secret, owner=owner)
    await plane.kube.apply(secret)
