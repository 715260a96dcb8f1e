"""Failures: retried with backoff, then dead-lettered with a fallback and a flag; never blocking."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import conversations_of, messages_of
from tests.utils.flaky_twilio import Fault, FlakyTwilio
from tests.utils.inprocess_worker import Worker, new_tenant_name, running_worker
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
from wta_runtime.stream.setup import ensure_tenant_stream, worker_consumer_config
from wta_runtime.worker.consumer import RetryPolicy

# Shorter than a too-slow Twilio's answer (`Fault.TOO_SLOW`), long enough for a busy machine.
SEND_TIMEOUT = 3.0


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
        catalog,
        sessions,
        nats_url,
        flaky.url,
        agent,
        policy=policy,
        concurrency=4,
        send_timeout=SEND_TIMEOUT,
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


async def test_a_message_whose_give_up_was_cut_off_again_and_again_is_still_dead_lettered(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    nats_url: str,
    flaky: FlakyTwilio,
    agent: PoisonAwareAgent,
) -> None:
    """Workers dying in the give-up of a message leave it to be delivered again: more often
    than any fixed cap (JetStream's used to be 10), and still it reaches the dead letters."""
    name, contact = new_tenant_name(), new_contact()
    names = TenantStream(name)
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await ensure_tenant_stream(js, names, ack_wait=5.0)
        dying = Worker(name, js)
        await dying.publish(dying.message(contact, "poison pizza"))
        pulls = await js.pull_subscribe_bind(names.worker_durable, stream=names.stream)
        for _ in range(12):  # each delivery ends as a killed worker's would: unsettled
            [msg] = await pulls.fetch(1, timeout=5)
            await msg.nak()
        await pulls.unsubscribe()
    finally:
        await connection.close()
    policy = RetryPolicy(attempts=3, delays=(0.2,))

    async with running_worker(
        catalog, sessions, nats_url, flaky.url, agent, policy=policy, concurrency=4, name=name
    ) as worker:
        [fallback] = await eventually(lambda: flaky.sent_to(contact), until=bool, timeout=10)
        info = await worker.js.stream_info(names.dead_letter_stream)
        dead = await worker.js.get_msg(names.dead_letter_stream, seq=info.state.last_seq)

    assert fallback.body.startswith("Sorry")
    assert agent.turns == []  # past its attempts: given up at once, the model not asked again
    assert info.state.messages == 1
    assert dead.headers is not None
    assert dead.headers["Wta-Attempts"] == "13"


async def test_a_consumer_made_with_a_delivery_cap_loses_it_on_the_next_update(
    nats_url: str,
) -> None:
    """Tenants made by an earlier release have max_deliver 10; the operator's next reconcile
    (the same `ensure_tenant_stream`) lifts it in place."""
    names = TenantStream(new_tenant_name())
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await ensure_tenant_stream(js, names)
        capped = dataclasses.replace(worker_consumer_config(names), max_deliver=10)
        await js.add_consumer(names.stream, capped)
        assert (await js.consumer_info(names.stream, names.worker_durable)).config.max_deliver == 10

        await ensure_tenant_stream(js, names)

        info = await js.consumer_info(names.stream, names.worker_durable)
        assert info.config.max_deliver == -1
    finally:
        await connection.close()


RETRIED = [[503, 429], *([fault] for fault in Fault if fault is not Fault.PROBLEM_400)]


@pytest.mark.parametrize("failures", RETRIED, ids=lambda f: "-then-".join(map(str, f)))
async def test_a_failed_send_is_retried_and_the_stored_reply_is_sent_once(
    failures: list[int | Fault],
    worker: Worker,
    flaky: FlakyTwilio,
    sessions: async_sessionmaker[AsyncSession],
    agent: PoisonAwareAgent,
) -> None:
    """Twilio's 5xx and 429, and failures outside its JSON errors (`Fault`): a proxy's page, a
    problem document, a cut-off or late answer, a body that is not JSON."""
    contact = new_contact()
    flaky.failures.extend(failures)

    await worker.publish(worker.message(contact, "menu"))

    async def stored_reply() -> list[Message]:
        return [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]

    [stored] = await eventually(
        stored_reply, until=lambda r: bool(r) and r[0].delivery_status not in UNSENT, timeout=20
    )
    [sent] = flaky.sent_to(contact)  # a retry of a send Twilio had recorded found it there
    assert (sent.body, sent.sid) == ("answer to menu", stored.twilio_sid)
    assert len(agent.turns) == 1  # the model was asked once; the retry sent its reply


@pytest.mark.parametrize("refusal", [400, Fault.PROBLEM_400], ids=str)
async def test_a_refused_send_is_final_and_the_contact_gets_the_fallback(
    refusal: int | Fault,
    worker: Worker,
    flaky: FlakyTwilio,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    flaky.failures.append(refusal)

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
