"""A turn's record (selection, usage, its cost in the day's spend) lands with its reply, once.

The worker writes it in the statement that stores the reply, under the thread's lease: a worker
that lost the thread while the model answered records nothing, and the turn that answers
instead is recorded once, however often its message is delivered again.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, new_name, tenant_docs, write
from tests.utils.conversations import Clock, inbound, messages_of, processor_for
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.servers import serve_in_thread
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import load_catalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db.driver import driver
from wta_runtime.db.thread_leases import LeaseAsk, LeaseLostError, acquire, release
from wta_runtime.local.twilio_api import create_twilio_app
from wta_runtime.worker.inbox import thread_key

NUMBER = "+14155550125"
# The scripted model counts 10 prompt and 5 completion tokens a call: 0.01 + 0.01 EUR.
PRICE = {"model": "gpt-4o-mini", "inputPerMillion": 1000, "outputPerMillion": 2000}


def _priced_shop(folder: Path) -> str:
    name = new_name()
    docs = tenant_docs(name, number=NUMBER)
    docs[1]["spec"]["spending"] = {"currency": "EUR", "prices": [PRICE]}
    model = {"name": "gpt-4o-mini", "timeoutSeconds": 20}
    write(folder, [*docs, agent_doc("front-desk", name, model=model)])
    return name


async def _records(sessions: async_sessionmaker[AsyncSession], tenant: str) -> dict[str, object]:
    """The tenant's usage and selection rows, and its spend of the day, as the database has them."""
    async with sessions() as session:
        usage = (
            await session.execute(
                text(
                    "SELECT turn_key, agent, prompt_tokens, completion_tokens, outcome "
                    "FROM agent_usage WHERE tenant = :tenant"
                ),
                {"tenant": tenant},
            )
        ).all()
        selections = await session.scalar(
            text("SELECT count(*) FROM agent_selections WHERE tenant = :tenant"),
            {"tenant": tenant},
        )
        spend = (
            await session.execute(
                text(
                    "SELECT model_calls, prompt_tokens, completion_tokens, cost "
                    "FROM spend_counters WHERE tenant = :tenant AND agent <> ''"
                ),
                {"tenant": tenant},
            )
        ).all()
    return {
        "usage": [tuple(row) for row in usage],
        "selections": selections,
        "spend": [tuple(row) for row in spend],
    }


@pytest.mark.timeout(120)
async def test_a_turn_is_recorded_once_and_a_worker_that_lost_the_thread_records_nothing(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _priced_shop(tmp_path)
    catalog = load_catalog(tmp_path)
    tenant = catalog.by_name(name)
    twilio_app = create_twilio_app({tenant.account_sid: tenant.auth_token.get_secret_value()})
    clock, contact = Clock(), new_contact()
    message = inbound(contact, "a pizza please", at=clock.now, tenant=name, number=NUMBER)
    db = driver(sessions)
    thread = thread_key(name, contact, NUMBER)
    # The first answer takes a while: meanwhile another worker takes the thread over.
    model.replies.append(ScriptedReply("from the worker that lost the thread", delay_seconds=3))
    with serve_in_thread(twilio_app) as twilio_url:
        sender = OutboundSender(twilio_url)
        processor = processor_for(catalog, sessions, make_runtime(tmp_path), sender, clock)
        try:
            first = asyncio.create_task(processor.handle(message))
            await eventually(lambda: model.requests, until=bool, timeout=30)
            async with sessions.begin() as session:
                await session.execute(
                    text(
                        "UPDATE thread_leases SET expires_at = clock_timestamp() "
                        "WHERE thread = :thread"
                    ),
                    {"thread": thread},
                )
            other = await acquire(db, LeaseAsk(thread, "another worker", 60, 0.0))
            assert other is not None
            with pytest.raises(LeaseLostError):
                await first
            lost = await _records(sessions, name)
            stored_after_loss = [
                m for m in await messages_of(sessions, contact) if m.direction == "outbound"
            ]

            # The other worker's turn ends; this message is delivered again and answered here.
            await release(db, other)
            answered = await processor.handle(message)
            again = await processor.handle(message)  # delivered once more after its ack
        finally:
            await sender.close()

    assert lost == {"usage": [], "selections": 0, "spend": []}
    assert stored_after_loss == []
    assert (answered.outcome, again.outcome) == ("replied", "already_replied")
    assert len(model.requests) == 2  # the lost turn's call, and the one answered
    outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert [m.body for m in outbound] == ["scripted reply"]
    assert await _records(sessions, name) == {
        "usage": [(message.message_sid, "front-desk", 10, 5, "answered")],
        "selections": 1,
        "spend": [(1, 10, 5, Decimal("0.020000000"))],
    }
