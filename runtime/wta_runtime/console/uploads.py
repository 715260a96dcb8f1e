"""A file staff attach to a reply: checked, kept in the tenant's media store, linked for Twilio."""

from __future__ import annotations

from fastapi import Request, UploadFile

from wta_runtime.console.sessions import Staff, public_origin
from wta_runtime.console.signed_files import signed_file_url
from wta_runtime.console.web import ConsoleState
from wta_runtime.db.console_media import record_outbound_file
from wta_runtime.gateway.state import GatewayState

# WhatsApp's limit for one outbound message's media, and the types it delivers.
MAX_BYTES = 5 * 1024 * 1024
SENDABLE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "audio/ogg",
        "audio/mpeg",
        "audio/amr",
        "audio/mp4",
        "video/mp4",
        "application/pdf",
    }
)


class UploadRefusedError(ValueError):
    """A file that cannot go to WhatsApp; the message says why."""


async def upload_for_reply(
    request: Request, console: ConsoleState, state: GatewayState, staff: Staff, upload: UploadFile
) -> str:
    """Keep the file in the tenant's store and return the signed URL Twilio fetches it from."""
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in SENDABLE:
        raise UploadRefusedError(
            f"WhatsApp does not take {content_type or 'this kind of'} files; "
            "send a JPEG or PNG picture, audio, an MP4 video or a PDF"
        )
    content = await upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise UploadRefusedError("the file is larger than WhatsApp's 5 MB")
    if not content:
        raise UploadRefusedError("the file is empty")
    stored = await console.media.for_tenant(staff.tenant).save(
        staff.tenant.name, content, content_type
    )
    now = console.clock()
    async with state.database(staff.tenant).sessions.begin() as session:
        file_id = await record_outbound_file(
            session,
            tenant=staff.tenant.name,
            storage_key=stored.key,
            content_type=content_type,
            filename=(upload.filename or "file")[:255],
            size_bytes=len(content),
            uploaded_by=staff.email,
            now=now,
        )
    secret = staff.tenant.auth_token.get_secret_value()
    return signed_file_url(public_origin(request, state), staff.tenant.name, secret, file_id, now)
