"""The queue's order, and all conversations of the tenant: filtered, searched, paginated."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import TENANT_A, TENANT_B, ConsolePlatform, csrf_of, log_in
from tests.console.handoffs import handed_off, status_of
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact

ROW = re.compile(r'<tr data-conversation="([0-9a-f-]{36})">')
ROW_IN_QUEUE = re.compile(r'<tr class="\w+" data-conversation="([0-9a-f-]{36})">')


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    page = await client.get("/console/conversations", params=params)
    assert page.status_code == 200
    return ROW.findall(page.text)


async def test_staff_find_conversations_by_state_contact_agent_and_text(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token = secrets.token_hex(4)
    waiting, _ = await handed_off(
        console_platform, sessions, TENANT_A, body=f"a human for 100% {token} pepperoni"
    )
    talking = new_contact()
    await console_platform.contact_writes(TENANT_A, talking, f"{token} do you deliver?", "Rui")
    bot = await eventually(
        lambda: status_of(sessions, TENANT_A, talking),
        until=lambda c: c is not None and c.status == "progress",
    )
    assert bot is not None
    foreign, _ = await handed_off(console_platform, sessions, TENANT_B, body=f"human {token}")
    staff = await make_staff()
    await log_in(console_client, staff)
    page = await console_client.get(f"/console/conversations/{waiting}")
    await console_client.post(
        f"/console/conversations/{waiting}/assign", data={"csrf": csrf_of(page.text)}
    )

    by_text = await listed(console_client, q=token)
    by_state = await listed(console_client, q=token, status="human_handoff")
    by_name = await listed(console_client, q=token, contact="rui")
    by_agent = await listed(console_client, agent=staff.email)
    literal = await listed(console_client, q=f"100% {token}")
    wildcard = await listed(console_client, q=f"1_0% {token}")
    first = await listed(console_client, q=token, size=1)
    second = await listed(console_client, q=token, size=1, page=2)
    third = await listed(console_client, q=token, size=1, page=3)
    bad = await console_client.get("/console/conversations", params={"status": "nonsense"})

    assert sorted(by_text) == sorted([str(waiting), str(bot.id)])
    assert str(foreign) not in by_text
    assert by_state == [str(waiting)]
    assert by_name == [str(bot.id)]
    assert by_agent == [str(waiting)]
    assert literal == [str(waiting)]
    assert wildcard == []  # what staff type is searched as text, not as a LIKE pattern
    assert sorted(first + second) == sorted(by_text)
    assert third == []
    assert bad.status_code == 422


async def test_the_queue_lists_unassigned_conversations_first_then_the_longest_waiting(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, _ = await handed_off(console_platform, sessions, TENANT_A)
    second, _ = await handed_off(console_platform, sessions, TENANT_A)
    third, _ = await handed_off(console_platform, sessions, TENANT_A)
    await log_in(console_client, await make_staff())
    page = await console_client.get(f"/console/conversations/{first}")
    await console_client.post(
        f"/console/conversations/{first}/assign", data={"csrf": csrf_of(page.text)}
    )

    queue = ROW_IN_QUEUE.findall((await console_client.get("/console")).text)
    mine = [c for c in queue if c in {str(first), str(second), str(third)}]

    assert mine == [str(second), str(third), str(first)]
