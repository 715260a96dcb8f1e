"""WhatsApp's rules on the way out: the 24 h window and the per-number rate, across replicas."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.catalogs import catalog_variant
from tests.utils.conversations import (
    Clock,
    conversations_of,
    inbound,
    messages_of,
    support_message,
)
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.rate_limit import SenderPacer
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.specs.tenant import OutOfWindowTemplate
from wta_runtime.worker.turn_processor import TurnProcessor

TEMPLATE_SID = "HX" + "ab" * 16


@pytest.fixture
async def sender(twilio: TwilioServer) -> AsyncIterator[OutboundSender]:
    created = OutboundSender(twilio.url)
    yield created
    await created.close()


async def _late_message(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    sender: OutboundSender,
    *,
    hours_later: float,
    media_urls: tuple[str, ...] = (),
) -> tuple[TurnProcessor, str, Clock]:
    """A contact who wrote at T0 and a support message stored `hours_later`, not yet sent."""
    clock = Clock()
    processor = TurnProcessor(
        catalog=catalog, sessions=sessions, provider=ScriptedAgent(), sender=sender, clock=clock
    )
    contact = new_contact()
    await processor.inbox.store(catalog.by_name("acme-pizza"), inbound(contact, "hi", at=clock.now))
    clock.advance(hours=hours_later)
    [conversation] = await conversations_of(sessions, contact)
    parts = await support_message(
        sessions, conversation, "Your order is ready", now=clock.now, media_urls=media_urls
    )
    report = await processor.replies.delivery.deliver(
        catalog.by_name("acme-pizza"), conversation, parts
    )
    assert report is not None
    return processor, contact, clock


async def test_inside_the_window_the_text_is_sent(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    sender: OutboundSender,
    twilio: TwilioServer,
) -> None:
    _, contact, _ = await _late_message(catalog, sessions, sender, hours_later=23.9)

    assert [m.body for m in twilio.sent_to(contact)] == ["Your order is ready"]


async def test_outside_the_window_free_text_is_never_sent_and_the_reason_is_kept(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    sender: OutboundSender,
    twilio: TwilioServer,
) -> None:
    _, contact, _ = await _late_message(catalog, sessions, sender, hours_later=24.5)

    assert twilio.sent_to(contact) == []
    [refused] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert (refused.delivery_status, refused.failure_reason) == ("refused", "outside_24h_window")


async def test_outside_the_window_the_tenants_template_is_sent_instead(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    sender: OutboundSender,
    twilio: TwilioServer,
) -> None:
    variant = catalog_variant(
        catalog,
        template=OutOfWindowTemplate(content_sid=TEMPLATE_SID, variables={"1": "Acme Pizza"}),
    )

    _, contact, _ = await _late_message(variant, sessions, sender, hours_later=30)

    [sent] = twilio.sent_to(contact)
    assert sent.params["ContentSid"] == TEMPLATE_SID
    assert sent.params["ContentVariables"] == '{"1": "Acme Pizza"}'
    assert "Body" not in sent.params
    [stored] = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert stored.details["template"] == TEMPLATE_SID
    assert stored.twilio_sid == sent.sid


async def test_outside_the_window_the_template_goes_without_the_messages_files(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    sender: OutboundSender,
    twilio: TwilioServer,
) -> None:
    variant = catalog_variant(catalog, template=OutOfWindowTemplate(content_sid=TEMPLATE_SID))
    files = ("https://cdn.acme.example/menu.jpg", "https://cdn.acme.example/map.png")

    _, contact, _ = await _late_message(variant, sessions, sender, hours_later=30, media_urls=files)

    [sent] = twilio.sent_to(contact)  # WhatsApp takes media only inside the 24 h window
    assert (sent.params["ContentSid"], sent.media_urls) == (TEMPLATE_SID, [])
    outbound = [m for m in await messages_of(sessions, contact) if m.direction == "outbound"]
    assert [(m.details.get("media_urls"), m.failure_reason) for m in outbound] == [
        ([files[0]], None),
        ([files[1]], "replaced_by_template"),
    ]


async def test_the_rate_per_sender_number_holds_across_two_replicas(database_url: str) -> None:
    sender_number = "+1999" + str(secrets.randbelow(10**7)).zfill(7)
    engines = [create_engine(database_url, pool_size=13), create_engine(database_url, pool_size=13)]

    async def no_wait(seconds: float) -> None:
        """The slots are the rule; sleeping until one is asyncio's job."""

    pacers = [SenderPacer(session_factory(e), sleep=no_wait) for e in engines]

    async def send(pacer: SenderPacer) -> datetime:
        return await pacer.wait_turn(tenant="acme-pizza", sender=sender_number, per_second=10)

    try:
        slots = sorted(await asyncio.gather(*(send(pacers[i % 2]) for i in range(25))))
    finally:
        for engine in engines:
            await engine.dispose()

    # On the database's clock, shared by the replicas: a tenth of a second between two sends,
    # so no second holds more than 10, and the 25th leaves 2.4 s after the first.
    assert all(later - earlier >= timedelta(seconds=0.1) for earlier, later in pairwise(slots))
    assert all(slots[i + 10] - slots[i] >= timedelta(seconds=1) for i in range(len(slots) - 10))
    assert slots[-1] - slots[0] >= timedelta(seconds=2.4)
