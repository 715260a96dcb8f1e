"""The console speaks the browser's language (English or Brazilian Portuguese), switchable,
and writes times in the browser's time zone."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import TENANT_A, ConsolePlatform, log_in
from tests.console.handoffs import handed_off

PORTUGUESE = {"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}


async def test_pages_follow_accept_language_until_staff_pick_a_language(
    console_platform: ConsolePlatform,
) -> None:
    async with httpx.AsyncClient(base_url=console_platform.url, headers=PORTUGUESE) as client:
        portuguese = await client.get("/console/login")
        switched = await client.get("/console/login", params={"lang": "en"})
        kept = await client.get("/console/login")
        back = await client.get("/console/login", params={"lang": "pt-BR"})
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        english = await client.get("/console/login", headers={"Accept-Language": "de, en;q=0.4"})
        unknown = await client.get("/console/login", headers={"Accept-Language": "ja"})

    assert '<html lang="pt-BR">' in portuguese.text
    assert ">Entrar<" in portuguese.text
    assert ">Senha " in portuguese.text
    assert ">Log in<" in switched.text
    assert ">Log in<" in kept.text  # the choice outlives Accept-Language
    assert ">Entrar<" in back.text
    assert ">Log in<" in english.text
    assert '<html lang="en">' in unknown.text


async def test_times_are_written_in_the_staff_members_time_zone(
    console_platform: ConsolePlatform,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await handed_off(console_platform, sessions, TENANT_A)
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        await log_in(client, await make_staff())
        client.cookies.set("wta_console_tz", "America%2FSao_Paulo", path="/console")
        sao_paulo = await client.get("/console")
        client.cookies.set("wta_console_tz", "..%2F..%2Fetc%2Fpasswd", path="/console")
        hostile = await client.get("/console")

    assert " -03</time>" in sao_paulo.text
    assert " UTC</time>" not in sao_paulo.text
    assert " UTC</time>" in hostile.text
