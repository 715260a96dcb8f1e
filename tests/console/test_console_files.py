"""Staff reply with a file: kept in the tenant's store, fetched by Twilio through a signed link."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import TENANT_A, ConsolePlatform, csrf_of, log_in
from tests.console.handoffs import handed_off
from tests.utils.waiting import eventually

PNG = b"\x89PNG\r\n\x1a\n a receipt picture"


async def test_a_reply_with_a_file_reaches_twilio_as_a_signed_link_to_that_file(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    await log_in(console_client, await make_staff())
    path = f"/console/conversations/{conversation}"
    page = await console_client.get(path)
    form = {"csrf": csrf_of(page.text), "text": "Here is your receipt"}

    refused = await console_client.post(
        f"{path}/reply",
        data={**form, "key": "html-file"},
        files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    sent = await console_client.post(
        f"{path}/reply",
        data={**form, "key": "png-file"},
        files={"file": ("receipt.png", PNG, "image/png")},
    )
    [message] = await eventually(
        lambda: [m for m in console_platform.twilio.sent_to(contact) if m.media_urls],
        until=bool,
    )
    [link] = message.media_urls
    async with httpx.AsyncClient() as twilio_fetch:
        fetched = await twilio_fetch.get(link)
        forged = link[:-1] + ("0" if link[-1] != "0" else "1")
        tampered = await twilio_fetch.get(forged)
        unsigned = await twilio_fetch.get(link.split("?")[0])
    after = await console_client.get(path)

    assert refused.status_code == 400
    assert "WhatsApp does not take text/html files" in refused.text
    assert sent.status_code == 303
    assert message.body == "Here is your receipt"
    assert link.startswith(f"{console_platform.url}/console/files/{TENANT_A}/")
    assert hashlib.sha256(PNG).hexdigest() not in link  # it names the file, not where it is kept
    assert (fetched.status_code, fetched.content) == (200, PNG)
    assert fetched.headers["content-type"] == "image/png"
    assert tampered.status_code == 403
    assert unsigned.status_code == 422
    assert "1 file(s) sent" in after.text
    assert [m.body for m in console_platform.twilio.sent_to(contact)].count(
        "Here is your receipt"
    ) == 1
