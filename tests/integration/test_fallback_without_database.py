"""The fallback sent when the database is down cannot read consent: it goes to no contact who
opted out as far as the worker knows (a keyword among the messages given up, or its own turns)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import Clock, inbound, processor_for
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.conversation.consent import DEFAULT_OPT_OUT_REPLIES
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.local.processes import free_port
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream
from wta_runtime.worker.dead_letter import DeadLetters
from wta_runtime.worker.turn_processor import TurnProcessor

ACME = TenantStream("acme-pizza")
FALLBACK = "Sorry, our assistant is unavailable right now. A person will get back to you soon."


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    stream = connection.jetstream()
    await ensure_tenant_stream(stream, ACME, consumers=False)
    yield stream
    await connection.close()


@pytest.fixture
async def database_down() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of a PostgreSQL that does not answer: nothing listens on its port."""
    engine = create_engine(f"postgresql+asyncpg://wta@127.0.0.1:{free_port()}/wta")
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def dead_letters(
    js: JetStreamContext,
    catalog: TenantCatalog,
    processor: TurnProcessor,
    database_down: async_sessionmaker[AsyncSession],
    agent: ScriptedAgent,
    sender: OutboundSender,
    clock: Clock,
) -> DeadLetters:
    """Giving up with the database down, in the worker whose turns `processor` ran."""
    stranded = processor_for(catalog, database_down, agent, sender, clock)
    return DeadLetters(
        js,
        tenant_of=catalog.by_name,
        sessions=database_down,
        inbox=stranded.inbox,
        replies=stranded.replies,
        sender=sender,
        clock=clock,
        known_opt_outs=processor.known_opt_outs,
    )


async def _give_up(dead_letters: DeadLetters, clock: Clock, contact: str, *texts: str) -> None:
    clock.advance(minutes=1)
    messages = [inbound(contact, text, at=clock.now) for text in texts]
    await dead_letters.give_up(ACME, messages, reason="database unavailable", attempts=5)


async def test_a_contact_the_worker_knows_as_opted_out_gets_no_fallback(
    processor: TurnProcessor, dead_letters: DeadLetters, clock: Clock, twilio: TwilioServer
) -> None:
    contact = new_contact()
    await processor.handle(inbound(contact, "STOP", at=clock.now))

    await _give_up(dead_letters, clock, contact, "are you there?")

    assert [m.body for m in twilio.sent_to(contact)] == [DEFAULT_OPT_OUT_REPLIES["en"]]


async def test_a_keyword_among_the_messages_given_up_decides_the_fallback(
    dead_letters: DeadLetters, clock: Clock, twilio: TwilioServer
) -> None:
    stopped, back = new_contact(), new_contact()

    await _give_up(dead_letters, clock, stopped, "hello", "Stop!")
    await _give_up(dead_letters, clock, back, "STOP", "start")

    assert twilio.sent_to(stopped) == []
    assert [m.body for m in twilio.sent_to(back)] == [FALLBACK]


async def test_a_contact_who_opted_back_in_or_never_left_still_hears_from_us(
    processor: TurnProcessor, dead_letters: DeadLetters, clock: Clock, twilio: TwilioServer
) -> None:
    returned, stranger = new_contact(), new_contact()
    for text in ("STOP", "START"):
        clock.advance(minutes=1)
        await processor.handle(inbound(returned, text, at=clock.now))

    await _give_up(dead_letters, clock, returned, "menu please")
    await _give_up(dead_letters, clock, stranger, "menu please")

    assert [m.body for m in twilio.sent_to(returned)][-1] == FALLBACK
    assert [m.body for m in twilio.sent_to(stranger)] == [FALLBACK]
