"""Spending limits with real processes: costs from the model's usage, the parts cap, and a hard
limit reached by two workers at once.

spend-pizza pays 0.02 a scripted model call (10 input and 5 output tokens at 1000 and 2000 per
million), warns at 0.04 a day, stops the model at 0.10 and then answers with a fixed message;
one reply is at most two WhatsApp messages. The tests run in order on the same day's counters.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import SPEND_TENANT, SPENDING, EngineWorkers, TwilioServer
from tests.e2e.test_conversation_engine import send as send_to_tenant
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.split import ELLIPSIS, WHATSAPP_BODY_LIMIT
from wta_runtime.local.processes import ManagedProcess, stop_together

TURN_COST = Decimal("0.02")
HARD = Decimal(str(SPENDING["limits"]["daily"]["hard"]))  # type: ignore[index]
RESTING = SPENDING["onHardLimit"]["message"]  # type: ignore[index]


@pytest.fixture(scope="module")
def spend_workers(engine_workers: EngineWorkers) -> Iterator[list[ManagedProcess]]:
    """Two worker processes of spend-pizza: two replicas of its Deployment."""
    workers = [engine_workers.spawn(SPEND_TENANT, f"spend-worker-{n}") for n in (1, 2)]
    yield workers
    stop_together(workers)
    for worker in workers:
        engine_workers.processes.remove(worker)


async def send(workers: EngineWorkers, catalog: TenantCatalog, contact: str, body: str) -> None:
    await send_to_tenant(workers, catalog, SPEND_TENANT, contact, body)


async def spent_today(sessions: async_sessionmaker[AsyncSession]) -> tuple[Decimal, int, int]:
    """The tenant's cost, tokens and messages sent today, from its counters."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT coalesce(sum(cost), 0), coalesce(sum(prompt_tokens"
                    " + completion_tokens), 0), coalesce(sum(messages), 0) FROM spend_counters"
                    " WHERE tenant = :tenant AND day = (now() AT TIME ZONE 'UTC')::date"
                ),
                {"tenant": SPEND_TENANT},
            )
        ).one()
    return Decimal(row[0]), int(row[1]), int(row[2])


def model_calls_with(model: ScriptedModel, token: str) -> int:
    return sum(token in str(r["messages"][-1]["content"]) for r in model.requests)


async def metrics_page(worker: ManagedProcess) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{worker.port}/metrics")).text


async def test_a_long_reply_is_at_most_two_messages_and_both_are_counted_with_its_cost(
    spend_workers: list[ManagedProcess],
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    long_reply = " ".join(f"Pizza fact number {n} is worth knowing." for n in range(200))
    assert len(long_reply) > 3 * WHATSAPP_BODY_LIMIT
    scripted_model.replies.append(ScriptedReply(long_reply))

    await send(engine_workers, catalog, contact, "tell me everything about pizza")

    parts = await eventually(lambda: twilio.sent_to(contact), until=lambda sent: len(sent) >= 2)
    await asyncio.sleep(1.0)  # a third part would have left by now
    assert len(twilio.sent_to(contact)) == 2
    assert parts[1].body.endswith(ELLIPSIS)
    assert long_reply.startswith(parts[0].body)
    cost, tokens, _ = await eventually(
        lambda: spent_today(sessions), until=lambda spent: spent[2] == 2
    )
    assert (cost, tokens) == (TURN_COST, 15)


async def test_a_hard_limit_reached_by_two_workers_at_once_stops_the_model_for_every_later_turn(
    spend_workers: list[ManagedProcess],
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token = secrets.token_hex(3)
    before, _, _ = await spent_today(sessions)
    assert before < HARD
    contacts = [new_contact() for _ in range(8)]
    # Each model call takes a second: all eight turns are in flight, on both workers, when the
    # limit is crossed, so all eight read a total below it and call the model.
    scripted_model.delay_seconds = 1.0
    try:
        await asyncio.gather(
            *(send(engine_workers, catalog, c, f"{token} a pizza please") for c in contacts)
        )
        await eventually(
            lambda: [twilio.sent_to(c) for c in contacts], until=lambda sent: all(sent)
        )
    finally:
        scripted_model.delay_seconds = 0.0
    in_flight = model_calls_with(scripted_model, token)
    cost, _, _ = await spent_today(sessions)
    assert cost >= HARD
    # The documented bound: what the turns already in flight when the limit was crossed cost.
    assert cost - HARD <= in_flight * TURN_COST

    # The same contacts again, mid-conversation, and a new one: the fixed message, no model.
    later = [*contacts[:3], new_contact()]
    await asyncio.gather(*(send(engine_workers, catalog, c, f"{token} and a drink") for c in later))
    await eventually(
        lambda: [[m.body for m in twilio.sent_to(c)][-1:] for c in later],
        until=lambda newest: newest == [[RESTING]] * len(later),
    )
    assert len(twilio.sent_to(later[-1])) == 1
    assert model_calls_with(scripted_model, token) == in_flight
    assert (await spent_today(sessions))[0] == cost
    hard = f'wta_spend_limit_state{{agent="pizza-assistant",tenant="{SPEND_TENANT}"}} 2.0'
    pages = [await metrics_page(worker) for worker in spend_workers]
    assert any(hard in page for page in pages), [
        line for page in pages for line in page.splitlines() if "spend" in line
    ]
