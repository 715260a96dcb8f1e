"""Attachment bytes from the tenant's media store: `/console/media/{id}` (a contact's, for the
tenant's staff) and `/console/files/{id}` (a file staff sent, for Twilio, by signed link).

Neither names a storage path or a bucket URL.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.channel.media_store import MediaStoreError
from wta_runtime.console.attachments import disposition
from wta_runtime.console.sessions import StaffDep
from wta_runtime.console.signed_files import valid_signature
from wta_runtime.console.web import ConsoleDep, ConsoleRoute, ConsoleState
from wta_runtime.db.console_media import outbound_file, stored_media
from wta_runtime.gateway.schemas import TENANT_NAME
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


async def _read(console: ConsoleState, tenant: Tenant, key: str, name: uuid.UUID) -> bytes:
    try:
        return await console.media.for_tenant(tenant).read(tenant.name, key)
    except FileNotFoundError:
        raise HTTPException(404, f"{name} is no longer stored") from None
    except (MediaStoreError, OSError):
        raise HTTPException(503, "the media store did not answer; try again") from None


@router.get("/media/{media_id}")
async def read_media(
    *, staff: StaffDep, state: GatewayDep, console: ConsoleDep, media_id: uuid.UUID
) -> Response:
    """The bytes of one attachment of the staff member's tenant."""
    async with state.database(staff.tenant).sessions() as session:
        item = await stored_media(session, staff.tenant.name, media_id)
    if item is None or item.storage_key is None:
        raise HTTPException(404, f"no attachment {media_id}")
    content = await _read(console, staff.tenant, item.storage_key, media_id)
    return Response(
        content,
        media_type=item.content_type or "application/octet-stream",
        headers={"Content-Disposition": disposition(item.content_type, item.position)},
    )


@router.get("/files/{tenant_name}/{file_id}")
async def read_sent_file(
    *,
    state: GatewayDep,
    console: ConsoleDep,
    tenant_name: Annotated[str, Path(max_length=253, pattern=TENANT_NAME)],
    file_id: uuid.UUID,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=64)],
) -> Response:
    """A file staff sent, for whoever holds its signed, unexpired link (Twilio)."""
    try:
        tenant = state.catalog.by_name(tenant_name)
    except UnknownTenantError:
        raise HTTPException(404, f"no file {file_id}") from None
    async with state.database(tenant).sessions() as session:
        sent = await outbound_file(session, file_id)
    if sent is None or sent.tenant != tenant.name:
        raise HTTPException(404, f"no file {file_id}")
    secret = tenant.auth_token.get_secret_value()
    if not valid_signature(secret, file_id, expires, signature, console.clock()):
        raise HTTPException(403, "this link is not valid or has expired")
    content = await _read(console, tenant, sent.storage_key, file_id)
    return Response(
        content,
        media_type=sent.content_type,
        headers={"Content-Disposition": disposition(sent.content_type, 0)},
    )
