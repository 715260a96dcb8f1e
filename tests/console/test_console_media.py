"""A contact's pictures, voice notes and files, shown to the tenant's staff and nobody else."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import RECEIPT, TENANT_A, TENANT_B, ConsolePlatform, log_in
from tests.console.handoffs import handed_off
from tests.utils.media_server import PHOTO, VOICE

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
