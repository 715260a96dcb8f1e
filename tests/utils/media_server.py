"""Twilio's media URLs as Twilio serves them: HTTP Basic with the account's token, then a redirect.

Also an OpenAI-compatible transcription endpoint, for voice messages. The routes are served by the
local Twilio server of the tests, the worker's configured Twilio API base, as Twilio serves media
from its API host.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Response
from fastapi.responses import RedirectResponse

from tests.utils.openai_server import add_transcriptions

PHOTO = b"\xff\xd8\xff\xe0 a jpeg photo of a pizza"
VOICE = b"OggS a voice note"


@dataclass
class MediaFiles:
    """Files by media id; which Authorization header each media and file request carried.

    `redirects` sends a media id elsewhere than this server's `/files/`, by absolute URL.
    """

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    media_auth: list[str | None] = field(default_factory=list)
    file_auth: list[str | None] = field(default_factory=list)
    transcriptions: list[dict[str, Any]] = field(default_factory=list)
    transcript: str = "two margheritas for tonight"


@dataclass
class MediaHost:
    """The media app serving, with the URL Twilio would give for each file of one account."""

    url: str
    files: MediaFiles
    account_sid: str

    def media_url(self, media_id: str) -> str:
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM1/Media/{media_id}"


def create_media_app(accounts: dict[str, str], media: MediaFiles) -> FastAPI:
    """The media routes; their redirect stays on this server unless `media.redirects` says."""
    app = FastAPI(title="Local Twilio media")

    @app.get("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_id}")
    async def read_media(
        account_sid: str, media_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        media.media_auth.append(authorization)
        expected = accounts.get(account_sid, "")
        given = base64.b64decode((authorization or "Basic ")[6:]).decode(errors="replace")
        if given != f"{account_sid}:{expected}":
            raise HTTPException(401, "Authenticate")
        if media_id not in media.files:
            raise HTTPException(404, "no such media")
        target = media.redirects.get(media_id, f"/files/{media_id}")
        return RedirectResponse(target, status_code=307)

    @app.get("/files/{media_id}")
    async def read_file(
        media_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        media.file_auth.append(authorization)
        content_type, content = media.files[media_id]
        return Response(content, media_type=content_type)

    add_transcriptions(app, media.transcriptions, lambda: media.transcript)
    return app


def sample_media() -> MediaFiles:
    """A photo, a voice note, an archive and a large PNG."""
    return MediaFiles(
        files={
            "ME1": ("image/jpeg", PHOTO),
            "ME2": ("audio/ogg", VOICE),
            "ME3": ("application/zip", b"PK\x03\x04 an archive"),
            "ME4": ("image/png", b"\x89PNG" + b"0" * 5000),
        }
    )
