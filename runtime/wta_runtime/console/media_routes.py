"""`/console/media/{id}`: a contact's attachment, read from the tenant's media store for staff.

Pages never name a storage path or bucket URL; only staff of the attachment's tenant get it.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Response

from wta_runtime.channel.media_store import MediaStoreError
from wta_runtime.console.attachments import disposition
from wta_runtime.console.sessions import StaffDep
from wta_runtime.console.web import ConsoleDep, ConsoleRoute
from wta_runtime.db.console_media import stored_media
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("/media/{media_id}")
async def read_media(
    *, staff: StaffDep, state: GatewayDep, console: ConsoleDep, media_id: uuid.UUID
) -> Response:
    """The bytes of one attachment of the staff member's tenant."""
    async with state.sessions() as session:
        item = await stored_media(session, staff.tenant.name, media_id)
    if item is None or item.storage_key is None:
        raise HTTPException(404, f"no attachment {media_id}")
    try:
        content = await console.media.for_tenant(staff.tenant).read(
            staff.tenant.name, item.storage_key
        )
    except FileNotFoundError:
        raise HTTPException(404, f"attachment {media_id} is no longer stored") from None
    except (MediaStoreError, OSError):
        raise HTTPException(503, "the media store did not answer; try again") from None
    return Response(
        content,
        media_type=item.content_type or "application/octet-stream",
        headers={"Content-Disposition": disposition(item.content_type, item.position)},
    )
