"""Failures: retried with backoff, then dead-lettered with a fallback and a flag; never blocking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import conversations_of, messages_of
from tests.utils.flaky_twilio import FlakyTwilio
from tests.utils.inprocess_worker import Worker, running_worker
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.agents.model_calls import ModelFailure
from wta_runtime.agents.turn import AgentReply, AgentTurn
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.delivery_status import UNSENT
from wta_runtime.db.tables import Message
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.consumer import RetryPolicy


class PoisonAwareAgent(ScriptedAgent):
    """A model that is down for any message saying "poison", and fine for everything else."""

    async def reply(self, turn: AgentTurn) -> AgentReply:
        self.turns.append(turn)
        if "poison" in turn.user_text:
            raise ModelFailure("timeout", "the model timed out")
        return AgentReply(f"answer to {turn.user_text}", self.name)


@pytest.fixture
def agent() -> PoisonAwareAgent:
    return PoisonAwareAgent()


@pytest.fixture
async def worker(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    nats_url: str,
    flaky: FlakyTwilio,
    agent: PoisonAwareAgent,
) -> AsyncIterator[Worker]:
    """An in-process worker with fast retries and no burst wait."""
    policy = RetryPolicy(attempts=3, delays=(0.2,))
    async with running_worker(
        catalog, sessions, nats_url, flaky.url, agent, policy=policy, concurrency=4
    ) as worker:
        yield worker


async def test_a_poison_message_is_dead_lettered_and_never_blocks_the_others(
    worker: Worker,
    flaky: FlakyTwilio,
    sessions: async_sessionmaker[AsyncSession],
    agent: PoisonAwareAgent,
) -> None:
    poisoned, first, second = new_contact(), new_contact(), new_contact()

    await worker.publish(worker.message(poisoned, "poison pizza"))
    await worker.publish(worker.message(first, "menu"))
    await worker.publish(worker.message(second, "hours"))

    # The healthy conversations are answered while the poison message still waits for retries.
    await eventually(lambda: flaky.sent_to(first) and flaky.sent_to(second), until=bool, timeout=5)
    assert flaky.sent_to(poisoned) == []
    [fallback] = await eventually(lambda: flaky.sent_to(poisoned), until=bool, timeout=10)
    assert fallback.body.startswith("Sorry")
    assert sum("poison" in t.user_text for t in agent.turns) == 3  # the 3 attempts
    [conversation] = await conversations_of(sessions, poisoned)
    assert conversation.flag_reason is not None
    assert conversation.flag_reason.startswith("dead_letter: ModelFailure")
    names = TenantStream(worker.tenant)
    info = await worker.js.stream_info(names.dead_letter_stream)
    assert info.state.messages == 1
    dead = await worker.js.get_msg(names.dead_letter_stream, seq=info.state.last_seq)
    assert dead.headers is not None
    assert dead.headers["Wta-Attempts"] == "3"
    assert InboundMessage.model_validate_json(dead.data or b"").body == "poison pizza"


async def test_twilio_5xx_and_429_are_retried_and_the_stored_reply_is_sent_once(
    worker: Worker,
    flaky: FlakyTwilio,
    sessions: async_sessionmaker[AsyncSession],
    agent: PoisonAwareAgent,
) -> None:
    contact = new_contact()
    flaky.failures.extend([503, 429])

    await worker.publish(worker.message(contact, "menu"))

    [reply] = await eventually(lambda: flaky.sent_to(contact), until=bool, timeout=10)
    await asyncio.sleep(0.5)
    assert len(flaky.sent_to(contact)) == 1
    assert reply.body == "answer to menu"
    assert len(agent.turns) == 1  # the model was asked once; the retry sent its reply
    outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert [(m.body, m.twilio_sid) for m in outbound] == [("answer to menu", reply.sid)]


async def test_a_refused_send_is_final_and_the_contact_gets_the_fallback(
    worker: Worker, flaky: FlakyTwilio, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = new_contact()
    flaky.failures.append(400)

    await worker.publish(worker.message(contact, "menu"))

    [fallback] = await eventually(lambda: flaky.sent_to(contact), until=bool, timeout=10)
    assert fallback.body.startswith("Sorry")

    async def stored_by_kind() -> dict[str, Message]:
        messages = await messages_of(sessions, contact)
        return {m.idempotency_key.split(":")[0]: m for m in messages}

    # Twilio records the fallback before its answer reaches the worker, which then stores it.
    stored = await eventually(
        stored_by_kind, until=lambda s: s["fallback"].delivery_status not in UNSENT
    )
    assert (stored["reply"].delivery_status, stored["reply"].error_code) == ("failed", "21211")
    assert stored["fallback"].delivery_status == "queued"
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.flag_reason is not None
    assert "SendError" in conversation.flag_reason
