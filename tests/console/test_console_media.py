"""A contact's pictures, voice notes and files, shown to the tenant's staff and nobody else."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import RECEIPT, TENANT_A, TENANT_B, TENANT_V, ConsolePlatform, log_in
from tests.console.handoffs import handed_off, status_of
from tests.utils.media_server import PHOTO, VOICE
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact

MEDIA_LINK = re.compile(r'(?:src|href)="(/console/media/[0-9a-f-]{36})"')


async def test_attachments_are_shown_through_the_console_only_to_the_tenants_staff(
    console_platform: ConsolePlatform,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, _ = await handed_off(
        console_platform,
        sessions,
        TENANT_A,
        body="a human please, see the photo",
        media=["ME1", "ME2", "ME9", "ME3"],
    )
    url = console_platform.url
    async with httpx.AsyncClient(base_url=url) as staff, httpx.AsyncClient(base_url=url) as other:
        await log_in(staff, await make_staff())
        await log_in(other, await make_staff(TENANT_B))
        page = await staff.get(f"/console/conversations/{conversation}")
        links = list(dict.fromkeys(MEDIA_LINK.findall(page.text)))
        photo, voice, receipt = [await staff.get(link) for link in links]
        foreign = [(await other.get(link)).status_code for link in links]
        async with httpx.AsyncClient(base_url=url) as anonymous:
            nobody = await anonymous.get(links[0])

    assert '<img src="/console/media/' in page.text
    assert '<audio controls preload="none" src="/console/media/' in page.text
    assert 'class="document"' in page.text
    assert "attachment not kept: content type application/zip not allowed" in page.text
    assert console_platform.twilio.url not in page.text  # never where the file came from
    assert (photo.content, photo.headers["content-type"]) == (PHOTO, "image/jpeg")
    assert photo.headers["content-disposition"].startswith("inline")
    assert voice.content == VOICE
    assert receipt.content == RECEIPT
    assert receipt.headers["content-disposition"] == 'attachment; filename="attachment-3"'
    assert foreign == [404] * len(links)
    assert nobody.status_code == 303


async def test_a_voice_note_plays_with_the_transcript_the_worker_made(
    console_platform: ConsolePlatform,
    voice_worker: None,
    scripted_model: ScriptedModel,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    scripted_model.transcript = "A <b>large</b> pizza & two sodas, please"
    contact = new_contact()
    await console_platform.contact_writes(TENANT_V, contact, "", "Maria", media=["ME2"])
    await eventually(lambda: console_platform.twilio.sent_to(contact), until=bool)
    conversation = await status_of(sessions, TENANT_V, contact)
    assert conversation is not None
    async with httpx.AsyncClient(base_url=console_platform.url) as staff:
        await log_in(staff, await make_staff(TENANT_V))
        page = await staff.get(f"/console/conversations/{conversation.id}")
        [link] = list(dict.fromkeys(MEDIA_LINK.findall(page.text)))
        voice = await staff.get(link)

    assert f'<audio controls preload="none" src="{link}"></audio>' in page.text
    assert (
        '<p class="transcript">“A &lt;b&gt;large&lt;/b&gt; pizza &amp; two sodas, please”</p>'
        in page.text
    )
    assert (voice.content, voice.headers["content-type"]) == (VOICE, "audio/ogg")
    assert scripted_model.transcriptions[-1]["model"] == "whisper-1"
    assert scripted_model.transcriptions[-1]["size"] == len(VOICE)
    # The agent read the voice note as the contact's words.
    assert any(
        "A <b>large</b> pizza & two sodas, please" in json.dumps(r["messages"])
        for r in scripted_model.requests
    )
