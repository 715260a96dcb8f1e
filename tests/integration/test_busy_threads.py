"""A conversation with many messages waiting never takes the worker away from the others, and
a new message's thread is owned by the statement that stores it when nothing else owns it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import messages_of
from tests.utils.inprocess_worker import Worker, running_worker
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.agents.turn import AgentReply, AgentTurn
from wta_runtime.catalog import TenantCatalog
from wta_runtime.worker.consumer import RetryPolicy
from wta_runtime.worker.inbox import thread_key
from wta_runtime.worker.thread_ownership import ThreadBusyError, ThreadOwnership


@dataclass
class GatedAgent:
    """Answers at once, except that turns mentioning "slow" wait until the gate opens."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    turns: list[AgentTurn] = field(default_factory=list)
    name: str = "gated"

    async def reply(self, turn: AgentTurn) -> AgentReply:
        self.turns.append(turn)
        if "slow" in turn.user_text:
            await self.gate.wait()
        return AgentReply(f"answer to {turn.user_text}", self.name)


@pytest.fixture
def agent() -> GatedAgent:
    return GatedAgent()


@pytest.fixture
async def worker(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    nats_url: str,
    twilio: TwilioServer,
    agent: GatedAgent,
) -> AsyncIterator[Worker]:
    """Two turns at a time: a busy conversation could take both if it were let to."""
    policy = RetryPolicy(attempts=3, delays=(0.2,))
    async with running_worker(
        catalog, sessions, nats_url, twilio.url, agent, policy=policy, concurrency=2
    ) as worker:
        yield worker


async def test_a_busy_conversation_does_not_hold_up_the_others(
    worker: Worker,
    agent: GatedAgent,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    busy, other = new_contact(), new_contact()

    await worker.publish(worker.message(busy, "slow question"))
    await eventually(lambda: agent.turns, until=bool)
    for n in range(4):
        await worker.publish(worker.message(busy, f"follow-up {n}"))
    await asyncio.sleep(0.5)  # the follow-ups reach the worker while the first turn runs
    await worker.publish(worker.message(other, "menu"))

    # Answered while the busy conversation's turn is still stuck on its model call.
    [reply] = await eventually(lambda: twilio.sent_to(other), until=bool, timeout=5)
    assert reply.body == "answer to menu"
    assert twilio.sent_to(busy) == []

    agent.gate.set()
    # The follow-ups that waited are answered together, after the first reply, in order.
    replies = await eventually(lambda: twilio.sent_to(busy), until=lambda r: len(r) == 2)
    await asyncio.sleep(0.5)
    assert [r.body for r in twilio.sent_to(busy)] == [
        "answer to slow question",
        "answer to " + "\n".join(f"follow-up {n}" for n in range(4)),
    ]
    assert replies[0].date_created <= replies[1].date_created
    stored = await messages_of(sessions, busy)
    assert all(m.answered_by for m in stored if m.direction == "inbound")


async def lease_owners(sessions: async_sessionmaker[AsyncSession], thread: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            text("SELECT owner FROM thread_leases WHERE thread = :thread"), {"thread": thread}
        )
        return list(rows.all())


async def test_a_new_message_s_turn_owns_its_thread_until_its_reply_is_sent(
    worker: Worker,
    agent: GatedAgent,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert worker.processor is not None
    contact = new_contact()
    message = worker.message(contact, "slow question")
    thread = thread_key(worker.tenant, message.from_number, message.to_number)
    await worker.publish(message)
    await eventually(lambda: agent.turns, until=bool)
    # While the model is asked, the thread is this worker's, and no one else can take it.
    assert await lease_owners(sessions, thread) == [worker.processor.replies.ownership.owner]
    other = ThreadOwnership(sessions, owner="another-worker")

    async def take_over() -> None:
        async with other.hold(thread, timeout=1):
            pass

    with pytest.raises(ThreadBusyError):
        await take_over()
    agent.gate.set()
    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body == "answer to slow question"
    # The reply's last write freed the thread: the next message is answered, by the next turn.
    assert await eventually(lambda: lease_owners(sessions, thread), until=lambda o: o == []) == []
    await worker.publish(worker.message(contact, "and the menu?"))
    replies = await eventually(lambda: twilio.sent_to(contact), until=lambda r: len(r) == 2)
    assert [r.body for r in replies] == ["answer to slow question", "answer to and the menu?"]


async def test_a_message_whose_thread_another_worker_owns_waits_for_it(
    worker: Worker,
    agent: GatedAgent,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    contact = new_contact()
    message = worker.message(contact, "are you open?")
    thread = thread_key(worker.tenant, message.from_number, message.to_number)
    other = ThreadOwnership(sessions, owner="another-worker")
    async with other.hold(thread, timeout=5):
        await worker.publish(message)
        # Stored (the receipt does not wait), but not answered while the other owns the thread.
        await eventually(lambda: messages_of(sessions, contact), until=bool)
        await asyncio.sleep(1.0)
        assert agent.turns == []
        assert await lease_owners(sessions, thread) == ["another-worker"]
    [reply] = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert reply.body == "answer to are you open?"
    await asyncio.sleep(0.5)
    assert len(twilio.sent_to(contact)) == 1


@pytest.mark.parametrize("releasing", [False, True])
async def test_a_lease_gone_at_renewal_is_lost_unless_its_turn_was_releasing_it(
    sessions: async_sessionmaker[AsyncSession], releasing: bool
) -> None:
    ownership = ThreadOwnership(sessions)
    async with ownership.hold(f"renewal|{new_contact()}", timeout=5) as lease:
        # The turn's last write frees the thread while the holder still holds the lease.
        lease.releasing = releasing
        async with sessions.begin() as session:
            await session.execute(
                text("DELETE FROM thread_leases WHERE token = :token"), {"token": lease.token}
            )
        await ownership.renew_once()
        assert lease.lost is not releasing
