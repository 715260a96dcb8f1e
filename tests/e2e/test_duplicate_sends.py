"""A worker killed after Twilio took a reply and before it recorded it: the reply is not resent."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import ADOPT_TENANT, EngineWorkers, TwilioServer
from tests.e2e.test_conversation_engine import requests_with, send
from tests.utils.conversations import conversations_of, messages_of
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog


@pytest.mark.timeout(120)
async def test_a_worker_killed_before_recording_a_send_leaves_one_reply_adopted_by_the_next(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = engine_workers.spawn(ADOPT_TENANT, "adopt-worker-1")
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies.append(ScriptedReply(f"{token} the only reply"))
    twilio.hold_replies_to.add(f"whatsapp:{contact}")  # Twilio records it, the worker waits

    try:
        await send(engine_workers, catalog, ADOPT_TENANT, contact, f"{token} hello")
        [held] = await eventually(lambda: twilio.sent_to(contact), until=bool, timeout=30)
        assert first.process is not None
        first.process.kill()  # SIGKILL: Twilio has the reply, the database says `attempted`
        first.process.wait()
    finally:
        twilio.hold_replies_to.discard(f"whatsapp:{contact}")
    [part] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert (part.delivery_status, part.twilio_sid) == ("attempted", None)
    assert part.send_attempted_at is not None

    second = engine_workers.spawn(ADOPT_TENANT, "adopt-worker-2")

    async def outbound_sid() -> str | None:
        stored = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
        return stored[0].twilio_sid

    # Twilio is asked only once the send could no longer be on its way (20 s after it left).
    assert await eventually(outbound_sid, until=bool, timeout=60) == held.sid
    await asyncio.sleep(4.0)  # longer than the ack wait: a resend would have reached Twilio
    assert [m.sid for m in twilio.sent_to(contact)] == [held.sid]
    assert held.body == f"{token} the only reply"
    assert len(requests_with(scripted_model, token)) == 1  # the stored reply, not a new answer
    [part] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert part.details["adopted"] is True
    assert part.delivery_status not in ("pending", "attempted")
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.status == "progress"
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"http://127.0.0.1:{second.port}/metrics")).text
    resolved = [line for line in metrics.splitlines() if "attempts_resolved_total{" in line]
    assert resolved == [
        f'wta_outbound_attempts_resolved_total{{outcome="adopted",tenant="{ADOPT_TENANT}"}} 1.0'
    ]
