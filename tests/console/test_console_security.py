"""Console sessions, CSRF, tenant isolation and escaping, over HTTP against the real gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import (
    TEMPLATE_SID,
    TENANT_A,
    TENANT_B,
    ConsolePlatform,
    csrf_of,
    log_in,
)
from tests.console.handoffs import handed_off, status_of
from tests.utils.waiting import eventually
from wta_runtime.db.tables import Contact


@pytest.fixture
async def answered(
    console_platform: ConsolePlatform, sessions: async_sessionmaker[AsyncSession]
) -> tuple[uuid.UUID, str]:
    """A conversation handed to a person, the bot's last word already at Twilio."""
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    await eventually(lambda: console_platform.twilio.sent_to(contact), until=bool)
    return conversation, contact


async def test_login_opens_a_hardened_session_and_logout_ends_it(
    console_client: httpx.AsyncClient, make_staff: Any
) -> None:
    staff = await make_staff()

    logged_in = await log_in(console_client, staff)
    queue = await console_client.get("/console")
    logout = await console_client.post("/console/logout", data={"csrf": csrf_of(queue.text)})
    after = await console_client.get("/console")

    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/console"
    cookie = logged_in.headers["set-cookie"].lower()
    assert "wta_console=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # served over plain http here
    assert queue.status_code == 200
    assert staff.email in queue.text
    policy = queue.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert logout.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"] == "/console/login"


async def test_wrong_passwords_are_refused_then_the_account_is_locked_for_a_while(
    console_client: httpx.AsyncClient, make_staff: Any
) -> None:
    staff = await make_staff()
    wrong = type(staff)(staff.tenant, staff.email, "not-the-password")

    failures = [(await log_in(console_client, wrong)).status_code for _ in range(5)]
    locked = await log_in(console_client, staff)

    assert failures == [401] * 5
    assert locked.status_code == 429
    assert "wta_console=" not in locked.headers.get("set-cookie", "")


async def test_a_post_without_the_csrf_token_changes_nothing(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    staff = await make_staff()
    await log_in(console_client, staff)

    bare = await console_client.post(f"/console/conversations/{conversation}/assign")
    forged = await console_client.post(
        f"/console/conversations/{conversation}/release", data={"csrf": "guessed"}
    )
    login_without = await console_client.post(
        "/console/login",
        data={"tenant": staff.tenant, "email": staff.email, "password": staff.password},
    )

    assert [bare.status_code, forged.status_code] == [403, 403]
    assert "CSRF" in bare.text
    assert "frame-ancestors 'none'" in bare.headers["content-security-policy"]
    assert login_without.status_code in (403, 422)
    stored = await status_of(sessions, TENANT_A, contact)
    assert stored is not None
    assert (stored.status, stored.assigned_to) == ("human_handoff", None)


async def test_staff_of_another_tenant_sees_nothing_of_it(
    console_platform: ConsolePlatform,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    other = await make_staff(TENANT_B, role="supervisor")
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        await log_in(client, other)
        queue = await client.get("/console")
        csrf = csrf_of(queue.text)
        page = await client.get(f"/console/conversations/{conversation}")
        live = await client.get(f"/console/conversations/{conversation}/live")
        path = f"/console/conversations/{conversation}"
        posts = [
            await client.post(f"{path}/{action}", data={"csrf": csrf, "text": "x", "key": "k"})
            for action in ("assign", "reply", "note", "release", "close")
        ]

    assert queue.status_code == 200
    assert str(conversation) not in queue.text
    assert contact not in queue.text
    assert [page.status_code, live.status_code] == [404, 404]
    assert page.headers["content-type"].startswith("text/plain")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert [p.status_code for p in posts] == [404] * 5
    stored = await status_of(sessions, TENANT_A, contact)
    assert stored is not None
    assert (stored.status, stored.assigned_to) == ("human_handoff", None)
    assert console_platform.twilio.sent_to(contact)[-1].body != "x"


async def test_what_a_contact_writes_is_shown_as_text_never_run(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    attack = "<img src=x onerror=alert(1)>"
    conversation, _ = await handed_off(
        console_platform,
        sessions,
        TENANT_A,
        body=f"human please {attack}",
        name="<script>alert(2)</script>",
    )
    await log_in(console_client, await make_staff())

    queue = await console_client.get("/console")
    page = await console_client.get(f"/console/conversations/{conversation}")

    for html in (queue.text, page.text):
        assert "<script>alert(2)</script>" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert attack not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


async def test_a_closed_24_hour_window_offers_only_the_template_with_a_field_per_variable(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
    answered: tuple[uuid.UUID, str],
) -> None:
    conversation, contact = answered
    await _window_closes(sessions, contact)
    await log_in(console_client, await make_staff())
    path = f"/console/conversations/{conversation}"

    page = await console_client.get(path)
    form = {"csrf": csrf_of(page.text), "key": "template-once"}
    missing = await console_client.post(f"{path}/template", data=form)
    sent = await console_client.post(
        f"{path}/template", data={**form, "variable.2": "<b>A-1042</b>"}
    )
    again = await console_client.post(
        f"{path}/template", data={**form, "variable.2": "<b>A-1042</b>"}
    )

    assert "more than 24 hours old" in page.text
    assert "Send the template" in page.text
    assert '<input name="variable.2" required maxlength="1024" placeholder="e.g. A-1042">' in (
        page.text
    )
    assert '<textarea name="text" required maxlength="4096" rows="3">' not in page.text
    assert missing.status_code == 422
    assert "missing template variable(s): 2" in missing.text
    assert sent.status_code == 303
    assert again.status_code == 303
    templates = [m for m in console_platform.twilio.sent_to(contact) if m.params.get("ContentSid")]
    assert [m.params["ContentSid"] for m in templates] == [TEMPLATE_SID]
    assert templates[0].content_variables == {"1": TENANT_A, "2": "<b>A-1042</b>"}
    assert templates[0].body == ""


async def _window_closes(sessions: async_sessionmaker[AsyncSession], contact: str) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    async with sessions.begin() as session:
        await session.execute(
            update(Contact)
            .where(Contact.tenant == TENANT_A, Contact.contact_number == contact)
            .values(last_inbound_at=long_ago)
        )


async def test_an_agent_takes_conversations_for_themself_a_supervisor_for_anyone_audited(
    console_platform: ConsolePlatform,
    make_staff: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversation, contact = await handed_off(console_platform, sessions, TENANT_A)
    agent, supervisor = await make_staff(), await make_staff(role="supervisor")
    outsider = await make_staff(TENANT_B)
    path = f"/console/conversations/{conversation}"
    url = console_platform.url
    async with httpx.AsyncClient(base_url=url) as a, httpx.AsyncClient(base_url=url) as s:
        await log_in(a, agent)
        await log_in(s, supervisor)
        agent_csrf = csrf_of((await a.get("/console")).text)
        by_agent = await a.post(
            f"{path}/assign", data={"csrf": agent_csrf, "staff": supervisor.email}
        )
        page = await s.get(path)
        to_outsider = await s.post(
            f"{path}/assign", data={"csrf": csrf_of(page.text), "staff": outsider.email}
        )
        to_agent = await s.post(
            f"{path}/assign", data={"csrf": csrf_of(page.text), "staff": agent.email}
        )
        assigned = await s.get(path)
        await s.post(f"{path}/close", data={"csrf": csrf_of(page.text)})
        closed = await a.get(path)

    assert by_agent.status_code == 403
    assert f'<option value="{agent.email}">' in page.text
    assert outsider.email not in page.text
    assert to_outsider.status_code == 400
    assert to_agent.status_code == 303
    stored = await status_of(sessions, TENANT_A, contact)
    assert stored is not None
    assert stored.assigned_to == agent.email
    assert stored.status == "support_closed"
    audit = f"{supervisor.email}: assigned it to {agent.email}"
    assert audit in assigned.text
    assert audit in closed.text
    assert f"{supervisor.email}: closed it" in closed.text


async def test_an_internal_note_is_kept_for_staff_and_never_sent(
    console_platform: ConsolePlatform,
    console_client: httpx.AsyncClient,
    make_staff: Any,
    answered: tuple[uuid.UUID, str],
) -> None:
    conversation, contact = answered
    staff = await make_staff()
    await log_in(console_client, staff)
    path = f"/console/conversations/{conversation}"

    page = await console_client.get(path)
    noted = await console_client.post(
        f"{path}/note", data={"csrf": csrf_of(page.text), "text": "refund approved <b>by Bia</b>"}
    )
    after = await console_client.get(path)

    assert noted.status_code == 303
    assert f"note by {staff.email}" in after.text
    assert "refund approved &lt;b&gt;by Bia&lt;/b&gt;" in after.text
    assert all("refund" not in m.body for m in console_platform.twilio.sent_to(contact))


async def test_many_failures_from_one_address_lock_out_that_address_only(
    console_client: httpx.AsyncClient, make_staff: Any
) -> None:
    staff = await make_staff()
    guesser = {"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}
    other = {"X-Forwarded-For": "198.51.100.8"}

    async def attempt(email: str, password: str, headers: dict[str, str]) -> int:
        page = await console_client.get("/console/login")
        data = {
            "tenant": staff.tenant,
            "email": email,
            "password": password,
            "csrf": csrf_of(page.text),
        }
        response = await console_client.post("/console/login", data=data, headers=headers)
        return response.status_code

    guesses = [await attempt(f"guess{i}@example.com", "wrong-pass", guesser) for i in range(20)]
    locked = await attempt(staff.email, staff.password, guesser)
    elsewhere = await attempt(staff.email, staff.password, other)

    assert guesses == [401] * 20
    assert locked == 429
    assert elsewhere == 303
