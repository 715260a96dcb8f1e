"""The handoff API sends the tenant's template with a person's values for its per-send variables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import TEMPLATE_SID, TENANT_A, ConsolePlatform
from tests.console.handoffs import handed_off
from tests.utils.waiting import eventually
from wta_runtime.db.api_keys import issue_api_key
from wta_runtime.db.tables import Contact


async def _api(
    platform: ConsolePlatform, sessions: async_sessionmaker[AsyncSession]
) -> httpx.AsyncClient:
    async with sessions.begin() as session:
        key = await issue_api_key(
            session, tenant=TENANT_A, name=f"desk-{uuid.uuid4().hex[:6]}", now=datetime.now(UTC)
        )
    return httpx.AsyncClient(base_url=platform.url, headers={"Authorization": f"Bearer {key}"})


async def test_a_template_reply_takes_exactly_the_declared_variables(
    console_platform: ConsolePlatform, sessions: async_sessionmaker[AsyncSession]
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    await eventually(lambda: console_platform.twilio.sent_to(contact), until=bool)
    async with sessions.begin() as session:
        await session.execute(
            update(Contact)
            .where(Contact.tenant == TENANT_A, Contact.contact_number == contact)
            .values(last_inbound_at=datetime.now(UTC) - timedelta(hours=25))
        )
    url = f"/api/v1/tenants/{TENANT_A}/conversations/{conversation}/replies"
    reply = {"text": "Your order is on its way", "staff": "ana"}
    async with await _api(console_platform, sessions) as api:
        without = await api.post(url, json=reply)
        missing = await api.post(url, json={**reply, "template_variables": {}})
        extra = await api.post(url, json={**reply, "template_variables": {"2": "A-7", "3": "x"}})
        fixed = await api.post(url, json={**reply, "template_variables": {"1": "A-7", "2": "B"}})
        empty = await api.post(url, json={**reply, "template_variables": {"2": "  "}})
        sent = await api.post(url, json={**reply, "template_variables": {"2": "A-1042"}})

    assert [r.status_code for r in (without, missing, extra, fixed, empty)] == [422] * 5
    assert "give template_variables for 2" in without.json()["detail"]
    assert missing.json()["detail"] == "missing template variable(s): 2"
    assert extra.json()["detail"] == "the template has no variable 3; it takes 2"
    assert fixed.json()["detail"] == "the template has no variable 1; it takes 2"
    assert empty.json()["detail"] == "empty template variable(s): 2"
    assert sent.status_code == 201
    assert sent.json()["template"] is True
    [template] = [m for m in console_platform.twilio.sent_to(contact) if m.params.get("ContentSid")]
    assert template.params["ContentSid"] == TEMPLATE_SID
    assert template.content_variables == {"1": TENANT_A, "2": "A-1042"}
