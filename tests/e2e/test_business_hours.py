"""Handoffs outside the tenant's business hours, through the gateway and worker processes: queued,
marked after-hours, the contact told in their language when people are back, the model told too.

The worker's agents' clock stands still at a chosen moment (`WTA_AGENT_CLOCK_AT`, local mode).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import HOURS_TENANT, EngineWorkers, TwilioServer
from tests.console.conftest import StaffLogin, log_in
from tests.e2e.test_conversation_engine import requests_with, send
from tests.utils.api_clients import tenant_api
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.catalog import TenantCatalog
from wta_runtime.console.passwords import hash_password, new_password
from wta_runtime.db.staff_accounts import add_staff
from wta_runtime.local.processes import ManagedProcess

API = f"/api/v1/tenants/{HOURS_TENANT}"
CHRISTMAS_NIGHT = "2026-12-25T23:00:00-03:00"  # a holiday of hours-pizza, at 23:00 local
MONDAY_MORNING = "2026-12-28T10:00:00-03:00"
BACK_AT = "2026-12-28T09:00:00-03:00"  # Saturday is still Christmas, Sunday is closed

WorkerAt = Callable[[str], ManagedProcess]


@pytest.fixture
def worker_at(engine_workers: EngineWorkers) -> Iterator[WorkerAt]:
    """Starts hours-pizza's worker with its agents' clock standing at a moment; stopped after."""
    started: list[ManagedProcess] = []

    def start(moment: str) -> ManagedProcess:
        name = f"hours-worker-{secrets.token_hex(2)}"
        process = engine_workers.spawn(HOURS_TENANT, name, {"WTA_AGENT_CLOCK_AT": moment})
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
        engine_workers.processes.remove(process)


@pytest.fixture
async def api(
    engine_workers: EngineWorkers, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with tenant_api(engine_workers.platform.gateway_url, sessions, HOURS_TENANT) as c:
        yield c


async def _queued(api: httpx.AsyncClient, contact: str) -> dict[str, Any]:
    """The contact's conversation as the queue endpoint lists it, once it is there."""

    async def mine() -> list[dict[str, Any]]:
        queue = (await api.get(f"{API}/handoffs")).json()
        return [c for c in queue if c["contact_number"] == contact]

    found: list[dict[str, Any]] = await eventually(mine, until=bool)
    return found[0]


async def _staff(sessions: async_sessionmaker[AsyncSession]) -> StaffLogin:
    email, password = f"ana-{secrets.token_hex(3)}@hours-pizza.example", new_password()
    async with sessions.begin() as session:
        await add_staff(
            session,
            tenant=HOURS_TENANT,
            email=email,
            role="agent",
            password_hash=hash_password(password),
            now=datetime.now(UTC),
        )
    return StaffLogin(HOURS_TENANT, email, password)


def _after_hours_handoffs(worker: ManagedProcess) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{worker.port}/metrics").text
    line = f'wta_handoffs_after_hours_total{{tenant="{HOURS_TENANT}"}} '
    found = [row for row in metrics.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


async def test_a_handoff_at_23h_on_a_holiday_is_queued_after_hours_and_the_contact_told_in_portuguese(  # noqa: E501
    worker_at: WorkerAt,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    api: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    worker = worker_at(CHRISTMAS_NIGHT)
    contact = new_contact()

    await send(engine_workers, catalog, HOURS_TENANT, contact, "Oi, quero falar com um atendente")

    [told] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert told.body == (
        "Nossa equipe não está disponível agora. Sua conversa está na fila, e uma pessoa vai "
        "responder aqui quando voltarmos: segunda-feira, 28 de dezembro, às 09:00."
    )
    waiting = await _queued(api, contact)
    assert waiting["status"] == "human_handoff"
    assert waiting["after_hours"] is True
    assert waiting["back_at"] == BACK_AT
    assert _after_hours_handoffs(worker) == 1.0

    async with httpx.AsyncClient(base_url=engine_workers.platform.gateway_url) as console:
        console.cookies.set("wta_console_tz", "America/Sao_Paulo")
        await log_in(console, await _staff(sessions))
        page = await console.get("/console")
    row = page.text[page.text.index(contact) :]
    row = row[: row.index("</tr>")]
    assert "after hours" in row
    assert "people back" in row
    assert f'datetime="{datetime.fromisoformat(BACK_AT).astimezone(UTC).isoformat()}"' in row


async def test_the_models_handoff_tool_tells_it_people_are_away_and_when_they_are_back(
    worker_at: WorkerAt,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    api: httpx.AsyncClient,
) -> None:
    worker_at(CHRISTMAS_NIGHT)
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies += [
        ScriptedReply(tool_calls=[call("handoff_to_human", reason="late order, wants a refund")]),
        "Our team is off for Christmas; they will take it from here on Monday.",
    ]

    await send(engine_workers, catalog, HOURS_TENANT, contact, f"{token} my order is 2 hours late")

    [sent] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert sent.body == "Our team is off for Christmas; they will take it from here on Monday."
    [first] = requests_with(scripted_model, token)
    second = scripted_model.requests[scripted_model.requests.index(first) + 1]
    result = second["messages"][-1]
    assert result["role"] == "tool"
    assert result["content"].startswith("done: handoff_to_human (late order, wants a refund).")
    assert "outside business hours" in result["content"]
    assert "people are back at Monday 2026-12-28 09:00 (America/Sao_Paulo)" in result["content"]
    assert "when we are back on Monday, December 28 at 9:00 AM." in result["content"]
    waiting = await _queued(api, contact)
    assert (waiting["after_hours"], waiting["back_at"]) == (True, BACK_AT)


async def test_a_handoff_inside_business_hours_is_queued_as_before(
    worker_at: WorkerAt,
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    api: httpx.AsyncClient,
) -> None:
    worker = worker_at(MONDAY_MORNING)
    contact = new_contact()

    await send(engine_workers, catalog, HOURS_TENANT, contact, "I want to talk to a person")

    [told] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert told.body == ACTION_TEXT["handoff_to_human"]
    waiting = await _queued(api, contact)
    assert waiting["status"] == "human_handoff"
    assert (waiting["after_hours"], waiting["back_at"]) == (False, None)
    assert _after_hours_handoffs(worker) == 0.0
