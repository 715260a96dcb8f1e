"""Tenant-scoped API keys for the handoff and conversation API (`Authorization: Bearer ...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.db.api_keys import tenant_of_key
from wta_runtime.gateway.schemas import TENANT_NAME
from wta_runtime.gateway.state import GatewayDep

UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


async def authorized_tenant(
    tenant: Annotated[str, Path(max_length=253, pattern=TENANT_NAME)],
    request: Request,
    state: GatewayDep,
) -> Tenant:
    """The tenant of the path, if the request carries one of that tenant's API keys.

    Keys are looked up in the tenant's own database, so a tenant this gateway does not serve
    has no valid key either (401: the answer does not tell which tenants exist).
    """
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise HTTPException(
            401, "an API key is required: Authorization: Bearer <key>", UNAUTHENTICATED
        )
    try:
        found = state.catalog.by_name(tenant)
    except UnknownTenantError:
        raise HTTPException(401, "unknown or revoked API key", UNAUTHENTICATED) from None
    async with state.database(found).sessions() as session:
        owner = await tenant_of_key(session, key.strip())
    if owner is None:
        raise HTTPException(401, "unknown or revoked API key", UNAUTHENTICATED)
    if owner != tenant:
        # Only where tenants share a database: each tenant's keys are in its own otherwise.
        raise HTTPException(403, "this API key belongs to another tenant")
    return found


TenantDep = Annotated[Tenant, Depends(authorized_tenant)]
