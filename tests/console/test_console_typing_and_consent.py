"""A person typing in the console shows the contact "typing..."; a contact who opted out is
shown as such, and the console offers no reply to them. Over HTTP against the real gateway."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import TENANT_A, TENANT_B, ConsolePlatform, csrf_of, log_in
from tests.console.handoffs import handed_off
from tests.utils.conversations import messages_of
from tests.utils.waiting import eventually
from wta_runtime.conversation.consent import DEFAULT_OPT_OUT_REPLIES


async def test_a_person_typing_a_reply_shows_the_contact_typing_on_their_newest_message(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    newest = await console_platform.contact_writes(TENANT_A, contact, "still there?", "Maria")
    await eventually(
        lambda: messages_of(sessions, contact),
        until=lambda stored: newest in [m.idempotency_key for m in stored],
    )
    await log_in(console_client, await make_staff())
    path = f"/console/conversations/{conversation}"
    page = await console_client.get(path)
    before = console_platform.twilio.typing_on(newest)

    forged = await console_client.post(f"{path}/typing", headers={"x-csrf-token": "guessed"})
    typing = await console_client.post(
        f"{path}/typing", headers={"x-csrf-token": csrf_of(page.text)}
    )

    assert f'data-typing="{path}/typing"' in page.text
    assert forged.status_code == 403
    assert typing.status_code == 200, typing.text
    assert typing.json() == {"shown": True}
    assert console_platform.twilio.typing_on(newest) == before + 1


async def test_a_tenant_with_the_indicator_off_shows_nothing_when_a_person_types(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, _ = await handed_off(console_platform, sessions, TENANT_B)
    await log_in(console_client, await make_staff(TENANT_B))
    path = f"/console/conversations/{conversation}"
    csrf = csrf_of((await console_client.get(path)).text)
    count = len(console_platform.twilio.typing_indicators)

    typing = await console_client.post(f"{path}/typing", data={"csrf": csrf})

    assert typing.json() == {"shown": False}
    assert len(console_platform.twilio.typing_indicators) == count


async def test_an_opted_out_contact_is_shown_with_when_and_why_and_replies_are_refused(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    stop = await console_platform.contact_writes(TENANT_A, contact, "Stop.", "Maria")
    await eventually(
        lambda: [m.body for m in console_platform.twilio.sent_to(contact)],
        until=lambda bodies: DEFAULT_OPT_OUT_REPLIES["en"] in bodies,
    )
    await log_in(console_client, await make_staff())
    path = f"/console/conversations/{conversation}"

    page = await console_client.get(path)
    typing = await console_client.post(f"{path}/typing", data={"csrf": csrf_of(page.text)})
    reply = await console_client.post(
        f"{path}/reply", data={"csrf": csrf_of(page.text), "text": "hello?", "key": "k-opted"}
    )

    assert page.status_code == 200
    assert "Opted out since" in page.text
    assert "keyword STOP (en)" in page.text
    assert "Replies are refused" in page.text
    assert 'name="text" required maxlength="4096" rows="3"' not in page.text  # no reply box
    assert typing.status_code == 409
    assert console_platform.twilio.typing_on(stop) == 0
    assert reply.status_code == 409
    assert "opted out" in reply.text
