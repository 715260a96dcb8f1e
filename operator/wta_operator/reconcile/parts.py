"""The Stream, Routing and Database parts of a tenant, outside its namespace."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Mapping

import kopf
from pydantic import SecretStr

from wta_operator.adapters.database import DatabaseUnavailableError
from wta_operator.adapters.kube import KubeError
from wta_operator.adapters.streams import StreamUnavailableError
from wta_operator.builders.database import (
    PASSWORD_KEY,
    build_database_secret,
    database_scope,
    tenant_database_url,
)
from wta_operator.builders.routing import build_route_document
from wta_operator.claims import Claim, ClaimKey, describe_conflicts
from wta_operator.conditions import Condition, false, true
from wta_operator.naming import route_key
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.runtime import runtime_database_url
from wta_operator.reconcile.secrets import SecretCheck
from wta_operator.views import TenantView
from wta_runtime.stream.permissions import tenant_user

STREAM, ROUTING, DATABASE = "Stream", "Routing", "Database"


async def apply_stream(
    plane: ControlPlane,
    tenant: TenantView,
    *,
    name_taken: str,
    user_problem: Condition | None = None,
) -> tuple[Condition, str | None]:
    """The tenant's stream and durable consumer; not while another tenant owns the name."""
    if name_taken:
        return false(STREAM, "NameConflict", name_taken), None
    if user_problem is not None:
        return user_problem, None
    try:
        stream = await plane.streams.ensure(tenant.name)
    except StreamUnavailableError as exc:
        return false(STREAM, "NatsUnavailable", str(exc), retry=True), None
    user = (
        "" if plane.config.nats_auth_secret is None else f"; NATS user {tenant_user(tenant.name)}"
    )
    return true(STREAM, "Ready", f"stream {stream} with its durable worker consumer{user}"), stream


async def write_route(plane: ControlPlane, tenant: TenantView, text: str | None) -> bool:
    """Put (or with None remove) the tenant's key in the gateway routes Secret."""
    async with plane.routes_lock:
        return await plane.kube.write_route(
            plane.config.gateway_namespace,
            plane.config.gateway_routes_secret,
            route_key(tenant.namespace, tenant.name),
            text,
        )


async def apply_routing(
    plane: ControlPlane,
    tenant: TenantView,
    secrets: SecretCheck,
    *,
    lost: Mapping[ClaimKey, Claim],
) -> Condition:
    """Route the tenant's numbers through the gateway, unless conflicting or suspended.

    The route carries the tenant's database URL as its runtime gets it, so the gateway's
    handoff API and console read the tenant's conversations with the tenant's own role.
    """
    numbers = ", ".join(n.number for n in tenant.spec.numbers)
    ref = tenant.spec.twilio.auth_token_secret_ref
    token = secrets.value(ref)
    try:
        if lost or tenant.spec.suspend:
            await write_route(plane, tenant, None)
        elif token is not None:
            database_url = runtime_database_url(tenant, plane.config, secrets)
            document = build_route_document(tenant, token.get_secret_value(), database_url)
            await write_route(plane, tenant, document)
    except KubeError as exc:
        return false(ROUTING, "ApplyFailed", str(exc), retry=True)
    if lost:
        reason = "NameConflict" if any(kind == "name" for kind, _ in lost) else "NumberConflict"
        return false(ROUTING, reason, f"not routed: {describe_conflicts(lost)}")
    if tenant.spec.suspend:
        return false(ROUTING, "Suspended", "spec.suspend: the gateway does not route it")
    if token is None:
        problems = "; ".join(secrets.problems([ref]))
        return false(ROUTING, "SecretNotFound", f"auth token: {problems}", retry=True)
    return true(ROUTING, "Routed", f"the gateway routes {numbers} to this tenant")


async def apply_database(plane: ControlPlane, owner: kopf.Body, tenant: TenantView) -> Condition:
    """The tenant's role, schema and credentials Secret, when the operator manages them."""
    placement = tenant.spec.database
    if placement.mode == "external" and placement.secret_ref is not None:
        ref = placement.secret_ref
        return true(DATABASE, "External", f"the tenant's own database (Secret {ref.name})")
    if plane.database is None:
        return true(DATABASE, "NotManaged", "the operator has no admin database URL")
    scope = database_scope(tenant.namespace, tenant.name)
    name = tenant.names.database_secret
    try:
        existing = await plane.kube.read_secret(tenant.namespace, name)
        password = existing.data.get(PASSWORD_KEY) if existing is not None else None
        new = password is None
        if password is None:
            password = SecretStr(random_secrets.token_urlsafe(24))
        admin_url = plane.database.url.get_secret_value()
        url = tenant_database_url(admin_url, scope, password.get_secret_value())
        secret = build_database_secret(tenant, scope, url, password.get_secret_value())
        kopf.adopt(secret, owner=owner)
        # The Secret first: a password that reached the database is never lost.
        await plane.kube.apply(secret)
        await plane.database.ensure_scope(scope, password, new=new)
    except KubeError as exc:
        return false(DATABASE, "ApplyFailed", str(exc), retry=True)
    except DatabaseUnavailableError as exc:
        return false(DATABASE, "DatabaseUnavailable", str(exc), retry=True)
    return true(DATABASE, "Ready", f"role and schema {scope.schema}; credentials in Secret {name}")
