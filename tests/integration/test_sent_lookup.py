"""The local Twilio lists messages like Twilio (filters, paging), and a lost send is found there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from twilio.rest import Client

from tests.utils.servers import serve_in_thread
from wta_runtime.catalog import Tenant, TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient
from wta_runtime.local.twilio_api import create_twilio_app

CONTACT, OTHER = "+15550001", "+15550009"


@dataclass
class LocalTwilio:
    app: FastAPI
    client: Client
    sender: OutboundSender
    tenant: Tenant


@pytest.fixture
async def local(catalog: TenantCatalog) -> AsyncIterator[LocalTwilio]:
    tenant = catalog.by_name("acme-pizza")
    app = create_twilio_app({tenant.account_sid: tenant.auth_token.get_secret_value()})
    with serve_in_thread(app) as base:
        http = RebasedTwilioHttpClient(base)
        sender = OutboundSender(base)
        client = Client(tenant.account_sid, tenant.auth_token.get_secret_value(), http_client=http)
        yield LocalTwilio(app, client, sender, tenant)
        await sender.close()
        await http.close()


def business(local: LocalTwilio) -> str:
    return local.tenant.spec.numbers[0].number


async def sent(local: LocalTwilio, to: str, body: str, media: list[str] | None = None) -> str:
    result = await local.sender.send(
        local.tenant, from_number=business(local), to_number=to, body=body, media_urls=media or []
    )
    return result.sid


async def test_the_sdk_lists_by_to_from_and_date_sent_across_pages(local: LocalTwilio) -> None:
    sids = [await sent(local, CONTACT, f"m{i}") for i in range(5)]
    await sent(local, OTHER, "not theirs")
    now = datetime.now(UTC)

    listed = await local.client.messages.list_async(
        to=f"whatsapp:{CONTACT}",
        from_=f"whatsapp:{business(local)}",
        date_sent_after=now - timedelta(minutes=1),
        page_size=2,
    )
    later = await local.client.messages.list_async(
        to=f"whatsapp:{CONTACT}", date_sent_after=now + timedelta(minutes=1)
    )
    earlier = await local.client.messages.list_async(
        to=f"whatsapp:{CONTACT}", date_sent_before=now - timedelta(minutes=1)
    )
    today = await local.client.messages.list_async(to=f"whatsapp:{CONTACT}", date_sent=now)

    assert [m.sid for m in listed] == sids[::-1]  # newest first, three pages of two
    assert all(m.date_sent is not None for m in listed)
    assert later == []
    assert earlier == []
    assert len(today) == 5


async def test_a_part_twilio_has_is_found_by_body_and_media_since_its_attempt(
    local: LocalTwilio,
) -> None:
    attempted_at = datetime.now(UTC)
    await sent(local, CONTACT, "Hi!", ["https://example.com/menu.pdf"])
    text_sid = await sent(local, CONTACT, "Hi!")

    async def find(body: str | None, media: int, *, at: datetime = attempted_at) -> str | None:
        found = await local.sender.find_sent(
            local.tenant,
            from_number=business(local),
            to_number=CONTACT,
            body=body,
            media_count=media,
            attempted_at=at,
        )
        return found.sid if found else None

    assert await find("Hi!", 0) == text_sid
    assert await find("Hi!", 1) not in (None, text_sid)
    assert await find("Hello", 0) is None
    assert await find("Hi!", 0, at=attempted_at + timedelta(minutes=1)) is None
    missing = await local.sender.find_sent(
        local.tenant,
        from_number=business(local),
        to_number=OTHER,
        body="Hi!",
        media_count=0,
        attempted_at=attempted_at,
    )
    assert missing is None


async def test_a_held_send_is_recorded_before_its_answer(local: LocalTwilio) -> None:
    local.app.state.hold_replies_to.add(f"whatsapp:{CONTACT}")
    try:
        sending = asyncio.create_task(sent(local, CONTACT, "held"))
        for _ in range(100):
            if local.app.state.messages:
                break
            await asyncio.sleep(0.02)
        assert [m.body for m in local.app.state.messages] == ["held"]
        assert not sending.done()
    finally:
        local.app.state.hold_replies_to.clear()
    assert await sending == local.app.state.messages[0].sid
