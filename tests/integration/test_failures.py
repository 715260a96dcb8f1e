"""Failures: retried with backoff, then dead-lettered with a fallback and a flag; never blocking."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.conversations import conversations_of, inbound, messages_of
from tests.utils.flaky_twilio import flaky_twilio_app
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.servers import serve_in_thread
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.agents.model_calls import ModelFailure
from wta_runtime.agents.turn import AgentReply, AgentTurn
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.local.twilio_api import RecordedMessage
from wta_runtime.specs.tenant import ConversationRules
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.worker.consumer import InboundConsumer, RetryPolicy
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.status_updates import StatusApplier
from wta_runtime.worker.turn_processor import TurnProcessor


class PoisonAwareAgent(ScriptedAgent):
    """A model that is down for any message saying "poison", and fine for everything else."""

    async def reply(self, turn: AgentTurn) -> AgentReply:
        self.turns.append(turn)
        if "poison" in turn.user_text:
            raise ModelFailure("timeout", "the model timed out")
        return AgentReply(f"answer to {turn.user_text}", self.name)


@dataclass
class FlakyTwilio:
    failures: list[int]
    messages: list[RecordedMessage]
    url: str

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]


@pytest.fixture
def flaky(catalog: TenantCatalog) -> Iterator[FlakyTwilio]:
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    failures: list[int] = []
    app = flaky_twilio_app(accounts, failures)
    with serve_in_thread(app) as url:
        yield FlakyTwilio(failures, app.state.messages, url)


@dataclass
class Worker:
    tenant: str
    js: JetStreamContext
    agent: ScriptedAgent

    async def publish(self, message: InboundMessage) -> None:
        names = TenantStream(self.tenant)
        await self.js.publish(
            names.thread_subject(message.from_number, message.to_number),
            message.model_dump_json().encode(),
            stream=names.stream,
            headers={"Nats-Msg-Id": message.message_sid},
        )

    def message(self, contact: str, body: str) -> InboundMessage:
        return inbound(contact, body, at=datetime.now(UTC), tenant=self.tenant)


@pytest.fixture
async def worker(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    nats_url: str,
    flaky: FlakyTwilio,
) -> AsyncIterator[Worker]:
    """An in-process worker for a fresh copy of acme-pizza, with fast retries and no burst wait."""
    name = "fail-" + secrets.token_hex(4)
    base = catalog.by_name("acme-pizza")
    spec = base.spec.model_copy(
        update={"conversation": ConversationRules(burst_window=timedelta(0))}
    )
    tenants = TenantCatalog({name: dataclasses.replace(base, name=name, spec=spec)})
    agent = PoisonAwareAgent()
    sender = OutboundSender(flaky.url)
    processor = TurnProcessor(catalog=tenants, sessions=sessions, provider=agent, sender=sender)
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    consumer = InboundConsumer(
        js,
        processor,
        [name],
        dead_letters=DeadLetters(js, processor, sender),
        statuses=StatusApplier(sessions, processor.clock),
        policy=RetryPolicy(attempts=3, delays=(0.2,)),
        concurrency=4,
        ack_wait=5.0,
    )
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.3)  # streams and consumers exist
    yield Worker(name, js, agent)
    consumer.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    await sender.close()
    await connection.close()


async def test_a_poison_message_is_dead_lettered_and_never_blocks_the_others(
    worker: Worker, flaky: FlakyTwilio, sessions: async_sessionmaker[AsyncSession]
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
    assert sum("poison" in t.user_text for t in worker.agent.turns) == 3  # the 3 attempts
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
    worker: Worker, flaky: FlakyTwilio, sessions: async_sessionmaker[AsyncSession]
) -> None:
    contact = new_contact()
    flaky.failures.extend([503, 429])

    await worker.publish(worker.message(contact, "menu"))

    [reply] = await eventually(lambda: flaky.sent_to(contact), until=bool, timeout=10)
    await asyncio.sleep(0.5)
    assert len(flaky.sent_to(contact)) == 1
    assert reply.body == "answer to menu"
    assert len(worker.agent.turns) == 1  # the model was asked once; the retry sent its reply
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
    stored = {m.idempotency_key.split(":")[0]: m for m in await messages_of(sessions, contact)}
    assert (stored["reply"].delivery_status, stored["reply"].error_code) == ("failed", "21211")
    assert stored["fallback"].delivery_status == "queued"
    [conversation] = await conversations_of(sessions, contact)
    assert conversation.flag_reason is not None
    assert "SendError" in conversation.flag_reason
