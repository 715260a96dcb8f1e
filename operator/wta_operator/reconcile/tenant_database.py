"""Reads from a tenant's conversations database, wherever its spec places it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import SecretStr

from wta_operator.adapters.database import DatabaseAdmin
from wta_operator.builders.database import DatabaseScope, database_scope
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.secrets import check_secrets
from wta_operator.views import TenantView

T = TypeVar("T")


async def read_tenant_database(
    plane: ControlPlane,
    tenant: TenantView,
    on_platform: Callable[[DatabaseAdmin, DatabaseScope], Awaitable[T]],
    on_own: Callable[[SecretStr, float], Awaitable[T]],
) -> T | None:
    """From the tenant's scope of the platform database, or with the URL its runtime gets from
    the Secret of an external database; None when the operator has no way in.

    Raises DatabaseUnavailableError when the database is unreachable.
    """
    placement = tenant.spec.database
    if placement.mode == "platform":
        if plane.database is None:
            return None
        return await on_platform(plane.database, database_scope(tenant.namespace, tenant.name))
    if placement.secret_ref is None:
        return None
    found = await check_secrets(plane.kube, tenant.namespace, [placement.secret_ref])
    url = found.value(placement.secret_ref)
    if url is None:
        return None  # the Runtime condition says what is missing
    return await on_own(url, plane.config.connect_timeout_seconds)
