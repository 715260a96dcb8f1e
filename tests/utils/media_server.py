"""Twilio's media URLs as Twilio serves them: HTTP Basic with the account's token, then a redirect.

Also an OpenAI-compatible transcription endpoint, for voice messages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from tests.utils.servers import serve_in_thread

PHOTO = b"\xff\xd8\xff\xe0 a jpeg photo of a pizza"
VOICE = b"OggS a voice note"


@dataclass
class MediaFiles:
    """Files by media id; which Authorization header each file download carried."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
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


def create_media_app(accounts: dict[str, str], media: MediaFiles, redirect_host: str) -> FastAPI:
    """`redirect_host` is another name of this server, so the redirect leaves the original host."""
    app = FastAPI(title="Local Twilio media")

    @app.get("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_id}")
    async def read_media(
        account_sid: str, media_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        expected = accounts.get(account_sid, "")
        given = base64.b64decode((authorization or "Basic ")[6:]).decode(errors="replace")
        if given != f"{account_sid}:{expected}":
            raise HTTPException(401, "Authenticate")
        if media_id not in media.files:
            raise HTTPException(404, "no such media")
        return RedirectResponse(f"{redirect_host}/files/{media_id}", status_code=307)

    @app.get("/files/{media_id}")
    async def read_file(
        media_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        media.file_auth.append(authorization)
        content_type, content = media.files[media_id]
        return Response(content, media_type=content_type)

    @app.post("/v1/audio/transcriptions")
    async def create_transcription(request: Request) -> dict[str, str]:
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        media.transcriptions.append(
            {"model": form["model"], "filename": upload.filename, "size": len(await upload.read())}
        )
        return {"text": media.transcript}

    return app


@contextmanager
def serve_media(accounts: dict[str, str], account_sid: str) -> Iterator[MediaHost]:
    """A photo, a voice note, an archive and a large PNG, as Twilio serves them to `accounts`."""
    files = MediaFiles(
        files={
            "ME1": ("image/jpeg", PHOTO),
            "ME2": ("audio/ogg", VOICE),
            "ME3": ("application/zip", b"PK\x03\x04 an archive"),
            "ME4": ("image/png", b"\x89PNG" + b"0" * 5000),
        }
    )
    app = create_media_app(accounts, files, redirect_host="")
    with serve_in_thread(app) as url:
        # Redirect to "localhost" while the media URL says 127.0.0.1: another host for httpx.
        redirect = url.replace("127.0.0.1", "localhost")
        app.router.routes.clear()
        app.router.routes.extend(create_media_app(accounts, files, redirect).routes)
        yield MediaHost(url, files, account_sid)
