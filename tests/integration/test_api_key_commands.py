"""`wta api-key create|revoke` as an operator of the platform uses them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from wta_runtime.db.api_keys import tenant_of_key
from wta_runtime.gateway.api_key_commands import api_keys
from wta_runtime.settings import get_settings


async def test_a_created_key_works_until_it_is_revoked(
    database_url: str, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WTA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        created = await _invoke(runner, ["create", "acme-pizza", "desk-cli"])
        key = created.strip()
        async with sessions() as session:
            before = await tenant_of_key(session, key)
        revoked = await _invoke(runner, ["revoke", "acme-pizza", "desk-cli"])
        async with sessions() as session:
            after = await tenant_of_key(session, key)
    finally:
        get_settings.cache_clear()

    assert key.startswith("wta_")
    assert len(key) > 40
    assert (before, after) == ("acme-pizza", None)
    assert revoked.strip() == "revoked 1 key(s)"


async def _invoke(runner: CliRunner, args: list[str]) -> str:
    # The command runs its own event loop: keep it off this test's loop.
    result = await asyncio.to_thread(runner.invoke, api_keys, args)
    assert result.exit_code == 0, result.output
    return result.output
