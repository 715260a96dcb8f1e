"""The gateway's tenant pools: one per tenant with a URL, bounded, renewed when the URL changes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from tests.conftest import EXAMPLES
from wta_runtime.catalog import Tenant, TenantCatalog, load_catalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.gateway.tenant_databases import TenantDatabases

SHARED = "postgresql+asyncpg://gateway@db.invalid:5432/wta"


def _tenant(name: str, url: str | None) -> Tenant:
    example = load_catalog(EXAMPLES).by_name("acme-pizza")
    return dataclasses.replace(
        example, name=name, database_url=SecretStr(url) if url is not None else None
    )


@pytest.fixture
async def databases() -> AsyncIterator[TenantDatabases]:
    """Pools are lazy: none of these ever connects."""
    sender = OutboundSender("http://twilio.invalid")
    made = TenantDatabases(
        default_url=SHARED, sender=sender, clock=lambda: datetime.now(UTC), max_pools=2
    )
    yield made
    await made.close()
    await sender.close()


def _url(role: str) -> str:
    return f"postgresql+asyncpg://{role}:pw@db.invalid:5432/wta"


async def test_a_tenant_without_a_url_shares_the_gateways_database(
    databases: TenantDatabases,
) -> None:
    assert databases.of(_tenant("shared", None)) is databases.shared
    assert databases.open_pools == []


async def test_each_tenant_gets_its_own_pool_logged_in_as_its_role(
    databases: TenantDatabases,
) -> None:
    one, two = _tenant("one", _url("wta_one")), _tenant("two", _url("wta_two"))

    first, again, other = databases.of(one), databases.of(one), databases.of(two)

    assert first is again
    assert first.engine.url.username == "wta_one"
    assert other.engine.url.username == "wta_two"
    assert databases.open_pools == ["one", "two"]


async def test_past_the_bound_the_least_recently_used_pool_closes(
    databases: TenantDatabases,
) -> None:
    for name in ("one", "two"):
        databases.of(_tenant(name, _url(f"wta_{name}")))
    databases.of(_tenant("one", _url("wta_one")))

    databases.of(_tenant("three", _url("wta_three")))

    assert databases.open_pools == ["one", "three"]


async def test_a_new_password_gets_a_new_pool_and_a_gone_tenant_none(
    databases: TenantDatabases,
) -> None:
    before = databases.of(_tenant("one", _url("wta_one")))
    databases.of(_tenant("two", _url("wta_two")))

    renewed = _tenant("one", "postgresql+asyncpg://wta_one:new@db.invalid:5432/wta")
    after = databases.of(renewed)
    await databases.retire(TenantCatalog({"one": renewed}))

    assert after is not before
    assert after.engine.url.password == "new"
    assert databases.open_pools == ["one"]
