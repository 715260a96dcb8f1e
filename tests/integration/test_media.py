"""Inbound media: tenant credentials, allowlist, size cap, per-tenant storage, voice to text."""

from __future__ import annotations

import dataclasses
import hashlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import Clock, inbound, messages_of
from tests.utils.media_server import PHOTO, MediaHost
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.media import MediaDownloader, MediaPolicy, MediaRefusedError
from wta_runtime.channel.media_store import LocalMediaStore
from wta_runtime.channel.media_stores import MediaStores
from wta_runtime.channel.sender import OutboundSender, SendError
from wta_runtime.channel.transcription import OpenAITranscriber
from wta_runtime.db.tables import MediaItem
from wta_runtime.stream.inbound import MediaItem as AnnouncedMedia
from wta_runtime.worker.media_intake import MediaIntake
from wta_runtime.worker.turn_processor import TurnProcessor


@pytest.fixture
async def processor(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    twilio: TwilioServer,
    media_host: MediaHost,
    tmp_path: Path,
) -> AsyncIterator[tuple[TurnProcessor, ScriptedAgent, Path]]:
    clock = Clock()
    agent = ScriptedAgent()
    sender = OutboundSender(twilio.url)
    downloader = MediaDownloader(MediaPolicy(max_bytes=4096), twilio_api_url=media_host.url)
    transcriber = OpenAITranscriber(
        api_key=SecretStr("sk-test"), base_url=media_host.url + "/v1", model="whisper-1"
    )
    media = MediaIntake(
        sessions=sessions,
        downloader=downloader,
        stores=MediaStores(LocalMediaStore(tmp_path / "media")),
        transcriber=transcriber,
        clock=clock,
    )
    yield (
        TurnProcessor(
            catalog=catalog,
            sessions=sessions,
            provider=agent,
            sender=sender,
            clock=clock,
            media=media,
            sleep=clock.sleep,
        ),
        agent,
        tmp_path / "media",
    )
    await transcriber.close()
    await downloader.close()
    await sender.close()


async def _media_rows(sessions: async_sessionmaker[AsyncSession], contact: str) -> list[MediaItem]:
    [message] = [m for m in await messages_of(sessions, contact) if m.direction == "inbound"]
    async with sessions() as session:
        rows = await session.scalars(
            select(MediaItem).where(MediaItem.message_id == message.id).order_by(MediaItem.position)
        )
        return list(rows.all())


async def test_every_attachment_is_fetched_with_the_tenants_credentials_and_kept_per_tenant(
    processor: tuple[TurnProcessor, ScriptedAgent, Path],
    media_host: MediaHost,
    sessions: async_sessionmaker[AsyncSession],
    twilio: TwilioServer,
) -> None:
    turns, agent, root = processor
    contact = new_contact()
    announced = [
        AnnouncedMedia(url=media_host.media_url(i), content_type=t)
        for i, t in [("ME1", "image/jpeg"), ("ME2", "audio/ogg"), ("ME3", "application/zip")]
    ]

    await turns.handle(inbound(contact, "look", at=turns.clock(), media=announced))

    photo, voice, archive = await _media_rows(sessions, contact)
    assert (photo.status, photo.sha256, photo.size_bytes) == (
        "stored",
        hashlib.sha256(PHOTO).hexdigest(),
        len(PHOTO),
    )
    assert photo.sha256 is not None
    stored = root / "acme-pizza" / photo.sha256[:2] / photo.sha256
    assert stored.read_bytes() == PHOTO
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert photo.storage_key == f"acme-pizza/{photo.sha256[:2]}/{photo.sha256}"
    assert (voice.status, voice.transcript) == ("stored", "two margheritas for tonight")
    assert archive.status == "refused"
    assert archive.reason == "content type application/zip not allowed"
    assert media_host.files.file_auth[-2:] == [None, None]  # the redirect left the token behind
    assert agent.turns[-1].user_text.splitlines() == [
        "look",
        "[image attachment: image/jpeg]",
        "[voice message] two margheritas for tonight",
        "[application attachment not accepted: content type application/zip not allowed]",
    ]
    assert len(twilio.sent_to(contact)) == 1


async def test_a_voice_message_alone_is_answered_like_text(
    processor: tuple[TurnProcessor, ScriptedAgent, Path],
    media_host: MediaHost,
) -> None:
    turns, agent, _ = processor
    voice = AnnouncedMedia(url=media_host.media_url("ME2"), content_type="audio/ogg")

    await turns.handle(inbound(new_contact(), "", at=turns.clock(), media=[voice]))

    assert agent.turns[-1].user_text == "[voice message] two margheritas for tonight"
    assert media_host.files.transcriptions[-1]["model"] == "whisper-1"


async def test_wrong_credentials_and_oversized_files_are_refused_with_a_reason(
    processor: tuple[TurnProcessor, ScriptedAgent, Path],
    media_host: MediaHost,
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    turns, _, _ = processor
    acme = catalog.by_name("acme-pizza")
    turns.catalog = TenantCatalog(
        {acme.name: dataclasses.replace(acme, auth_token=SecretStr("not-the-token"))}
    )
    contact = new_contact()
    media = [
        AnnouncedMedia(url=media_host.media_url("ME1"), content_type="image/jpeg"),
        AnnouncedMedia(url=media_host.media_url("ME4"), content_type="image/png"),
    ]

    with pytest.raises(SendError):  # the same wrong token cannot send the reply either
        await turns.handle(inbound(contact, "pics", at=turns.clock(), media=media))

    rows = await _media_rows(sessions, contact)
    assert [(r.status, r.reason) for r in rows] == [
        ("refused", "download failed with HTTP 401"),
        ("refused", "download failed with HTTP 401"),
    ]
    turns.catalog = catalog
    other = new_contact()
    await turns.handle(inbound(other, "big", at=turns.clock(), media=media[1:]))
    [big] = await _media_rows(sessions, other)
    assert (big.status, big.reason) == ("refused", "larger than 4096 bytes")


async def test_a_file_url_is_refused_at_once_and_the_message_still_answered(
    processor: tuple[TurnProcessor, ScriptedAgent, Path],
    sessions: async_sessionmaker[AsyncSession],
    twilio: TwilioServer,
) -> None:
    turns, agent, _ = processor
    contact = new_contact()
    local_file = AnnouncedMedia(url="file:///etc/passwd", content_type="image/jpeg")

    await turns.handle(inbound(contact, "see this", at=turns.clock(), media=[local_file]))

    [row] = await _media_rows(sessions, contact)
    assert (row.status, row.reason) == ("refused", "media URL scheme 'file' is not allowed")
    assert agent.turns[-1].user_text.splitlines()[-1] == (
        "[image attachment not accepted: media URL scheme 'file' is not allowed]"
    )
    assert len(twilio.sent_to(contact)) == 1


def _elsewhere(media_host: MediaHost, media_id: str) -> str:
    """The media URL on another name of the same loopback server: not the Twilio base."""
    return media_host.media_url(media_id).replace("127.0.0.1", "localhost")


async def test_a_loopback_host_that_is_not_the_twilio_base_is_never_asked(
    media_host: MediaHost, catalog: TenantCatalog
) -> None:
    downloader = MediaDownloader(MediaPolicy(), twilio_api_url=media_host.url)
    asked = len(media_host.files.media_auth)

    with pytest.raises(MediaRefusedError, match="not a public address"):
        await downloader.download(catalog.by_name("acme-pizza"), _elsewhere(media_host, "ME1"))
    await downloader.close()

    assert len(media_host.files.media_auth) == asked


async def test_a_redirect_to_a_private_host_is_refused(
    media_host: MediaHost, catalog: TenantCatalog
) -> None:
    media_host.files.files["ME-REDIRECT"] = ("image/jpeg", PHOTO)
    media_host.files.redirects["ME-REDIRECT"] = (
        media_host.url.replace("127.0.0.1", "localhost") + "/files/ME-REDIRECT"
    )
    downloader = MediaDownloader(MediaPolicy(), twilio_api_url=media_host.url)
    fetched = len(media_host.files.file_auth)

    with pytest.raises(MediaRefusedError, match="not a public address"):
        await downloader.download(
            catalog.by_name("acme-pizza"), media_host.media_url("ME-REDIRECT")
        )
    await downloader.close()

    assert len(media_host.files.file_auth) == fetched


async def test_a_tenant_cannot_read_another_tenants_media(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    kept = await store.save("acme-pizza", b"secret menu", "application/pdf")

    assert await store.read("acme-pizza", kept.key) == b"secret menu"
    with pytest.raises(PermissionError):
        await store.read("other-tenant", kept.key)
    with pytest.raises(PermissionError):
        await store.read("acme-pizza", "acme-pizza/../other-tenant/x")
